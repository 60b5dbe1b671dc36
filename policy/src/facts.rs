//! The facts of one request, as `idp` gathers them and as `anyid policy eval` reads them
//! from JSON. The engine adds what it derives itself (network zone, local time) and turns
//! them into a Cedar request (`policies/schema.cedarschema`).

use std::net::IpAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::loa::Loa;

/// What is being asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// An authorization request: may it go on with the session at hand? (Cedar `login`.)
    Authorize,
    /// A completed login: may it serve the flow it was made for? (Cedar `login`.)
    Login,
    /// A token request.
    IssueToken,
    /// Claims from the userinfo endpoint.
    ReleaseClaims,
    Introspect,
    Revoke,
    /// A citizen's own account pages.
    ManageAccount,
    /// An official's lookup of a citizen's record (the AuthZEN decision API).
    AccessPersonalData,
    /// The administration API and pages.
    Admin,
}

impl Action {
    /// The Cedar action (`AnyId::Action::"…"`).
    pub fn cedar_name(self) -> &'static str {
        match self {
            Action::Authorize | Action::Login => "login",
            Action::IssueToken => "issue_token",
            Action::ReleaseClaims => "release_claims",
            Action::Introspect => "introspect",
            Action::Revoke => "revoke",
            Action::ManageAccount => "manage_account",
            Action::AccessPersonalData => "access_personal_data",
            Action::Admin => "admin",
        }
    }
}

/// Who asks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Principal {
    /// Someone at the login page who has not signed in.
    Visitor,
    Citizen {
        id: String,
    },
    Official(Official),
    Client {
        id: String,
    },
    Operator {
        id: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Official {
    pub id: String,
    pub agency: Agency,
    pub role: String,
    #[serde(default)]
    pub on_duty: bool,
    /// The official's own citizen account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub citizen: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub household: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Agency {
    pub id: String,
    #[serde(default)]
    pub national: bool,
    #[serde(default)]
    pub jurisdiction: Vec<String>,
}

/// What is asked about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Resource {
    Client(ClientFacts),
    CitizenRecord(Record),
    ClaimSet {
        client: ClientFacts,
        #[serde(default)]
        categories: Vec<String>,
    },
    Console,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientFacts {
    pub id: String,
    #[serde(default)]
    pub sensitive: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agency: Option<Agency>,
    /// The relying party's own minimum level.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum: Option<Loa>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub household: Option<String>,
}

/// What `idp` measured about the request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Context {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<IpAddr>,
    /// The level the session or the login at hand proves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr: Option<Loa>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub amr: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_age_s: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_age_s: Option<u64>,
    #[serde(default)]
    pub known_device: bool,
    /// 0 to 100.
    #[serde(default)]
    pub risk: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_id: Option<String>,
    /// What is done with a record: `view`, `create`, `update`, `delete`, `print`,
    /// `download`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    /// Set when the caller is over a limit: the time until it may try again.
    #[serde(
        default,
        rename = "throttled_s",
        with = "seconds",
        skip_serializing_if = "Option::is_none"
    )]
    pub throttled: Option<Duration>,
    /// The levels the relying party asked for (`acr_values`, the `claims` parameter's
    /// `acr`) that this provider knows.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requested: Vec<Loa>,
    /// The highest level an enabled login method can reach.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reachable: Option<Loa>,
}

/// The facts of one request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    pub principal: Principal,
    pub action: Action,
    pub resource: Resource,
    #[serde(default)]
    pub context: Context,
}

/// Durations as whole seconds (rounded up: a client told to wait 0 s would retry at once).
mod seconds {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_u64(d.as_secs() + u64::from(d.subsec_nanos() > 0)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        Ok(Option::<u64>::deserialize(d)?.map(Duration::from_secs))
    }
}
