//! Administrators' own credentials (issue 10), so that every admin call and console action
//! in the access record names the person who made it.
//!
//! An administrator's token is `NAME.SECRET`, with a 256-bit random secret shown once and
//! stored as its SHA-256 (a secret of that entropy needs no slow hash); it is presented as a
//! bearer token, or with HTTP Basic (user `NAME`, password `SECRET` or the whole token).
//! Roles: `admin` may call everything; `auditor` (the security team) may only read. The
//! configured `admin_token` stays as a shared break-glass credential, recorded as
//! `admin-token`.
//!
//! Trust decision, with the attacker's best move against it:
//! - *Guessing a token*: a 256-bit secret, compared in constant time with the stored hash.
//! - *A stolen token*: it is one person's, so the access record shows whose calls to look at
//!   and `anyid admin remove NAME` ends it without touching anyone else's; policy still
//!   decides every call with its address and network zone (`http::admin`).
//! - *Acting unseen*: every call, permitted or refused, is appended to the access record
//!   before the handler runs; if it cannot be recorded, the call is refused. Test:
//!   `tests/tests/administrators.rs`.

use crate::clock::UnixTime;
use crate::config::Secret;
use crate::crypto;
use crate::store::{AdminStore, Administrator, SqlStore, StoreError};

/// The name calls made with the shared `admin_token` are recorded under.
pub const SHARED_TOKEN: &str = "admin-token";

/// What an administrator may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Everything the admin API offers.
    Admin,
    /// Read only: the security team's audits (decision log, proofs, risk).
    Auditor,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Auditor => "auditor",
        }
    }

    pub fn parse(name: &str) -> Option<Role> {
        [Role::Admin, Role::Auditor]
            .into_iter()
            .find(|r| r.name() == name)
    }
}

/// Who makes an admin call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub name: String,
    pub role: Role,
}

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("{0}")]
    Invalid(String),
    #[error("an administrator named {0} exists already (names are never reused)")]
    Exists(String),
    #[error("no administrator named {0}")]
    Unknown(String),
    #[error("the system's random number generator failed")]
    Random,
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn check_name(name: &str) -> Result<(), AdminError> {
    let fits = (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if !fits || name == SHARED_TOKEN {
        return Err(AdminError::Invalid(format!(
            "an administrator's name is 1-64 of a-z, 0-9, - and _, and not {SHARED_TOKEN}"
        )));
    }
    Ok(())
}

/// Add administrator `name` with `role`; their token, to be shown once.
pub async fn add(
    store: &SqlStore,
    name: &str,
    role: Role,
    now: UnixTime,
) -> Result<String, AdminError> {
    check_name(name)?;
    let secret = crypto::random_token().map_err(|_| AdminError::Random)?;
    let admin = Administrator {
        name: name.to_owned(),
        token_hash: crypto::secret_hash(&secret),
        role: role.name().to_owned(),
        created_at: now,
        removed_at: None,
    };
    match store.add_administrator(&admin).await {
        Err(StoreError::Conflict(_)) => Err(AdminError::Exists(name.to_owned())),
        other => other.map_err(AdminError::from),
    }?;
    Ok(format!("{name}.{secret}"))
}

/// End administrator `name`'s token at once.
pub async fn remove(store: &SqlStore, name: &str, now: UnixTime) -> Result<(), AdminError> {
    if store.remove_administrator(name, now).await? {
        Ok(())
    } else {
        Err(AdminError::Unknown(name.to_owned()))
    }
}

/// What a request presented: a bearer token, or HTTP Basic's user and password.
#[derive(Debug, Clone, Copy, Default)]
pub struct Presented<'a> {
    pub user: Option<&'a str>,
    pub secret: Option<&'a str>,
}

impl Presented<'_> {
    /// The name and secret of a named administrator's credential: `NAME.SECRET`, or Basic's
    /// user and password.
    fn named(&self) -> Option<(&str, &str)> {
        let given = self.secret?;
        given
            .rsplit_once('.')
            .or_else(|| self.user.map(|user| (user, given)))
    }

    /// The administrator the credential names, whether or not it holds (for the record of
    /// a refused call).
    pub fn claimed(&self) -> Option<String> {
        self.named()
            .map(|(name, _)| name)
            .filter(|name| check_name(name).is_ok())
            .map(str::to_owned)
    }
}

/// The administrator `presented` proves to be, if any: a named administrator's token, or
/// the shared `configured` token.
pub async fn authenticate(
    store: &SqlStore,
    configured: Option<&Secret>,
    presented: Presented<'_>,
) -> Result<Option<Caller>, StoreError> {
    let Some(given) = presented.secret else {
        return Ok(None);
    };
    if let Some((name, secret)) = presented.named()
        && let Some(admin) = store.administrator(name).await?
        && admin.removed_at.is_none()
        && crypto::constant_time_eq(&crypto::secret_hash(secret), &admin.token_hash)
    {
        return Ok(Role::parse(&admin.role).map(|role| Caller {
            name: admin.name,
            role,
        }));
    }
    Ok(configured
        .filter(|expected| crypto::constant_time_eq(expected.expose().as_bytes(), given.as_bytes()))
        .map(|_| Caller {
            name: SHARED_TOKEN.to_owned(),
            role: Role::Admin,
        }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_plain_and_the_shared_token_s_name_is_taken() {
        assert!(check_name("kim-jiwoo_2").is_ok());
        for bad in ["", "Kim", "kim.lee", "admin-token", &"a".repeat(65), "김"] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
        let bearer = Presented {
            user: None,
            secret: Some("kim.s3cret"),
        };
        assert_eq!(bearer.claimed().as_deref(), Some("kim"));
        let basic = Presented {
            user: Some("lee"),
            secret: Some("s3cret"),
        };
        assert_eq!(basic.claimed().as_deref(), Some("lee"));
        assert_eq!(Presented::default().claimed(), None);
    }
}
