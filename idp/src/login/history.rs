//! "Who accessed my data": the access record's entries about one citizen (issue 10) — their
//! logins, the details released to relying parties, officials' lookups Any-ID decided and
//! the accesses back offices reported — each with who, what and a plain-language sentence.
//!
//! Any-ID names the citizen in its own events by the logs' pseudonym; back offices name them
//! by the `sub` their relying party received (pairwise per sector), so the citizen is looked
//! up under each registered relying party's name for them,
//! and an entry counts only under the reporter whose name it uses: the same string from
//! another reporter is someone else.

use std::collections::HashMap;

use super::Broker;
use crate::audit::event::{AccessRecord, Kind, OWN_REPORTER};
use crate::error::OAuthError;
use crate::i18n::Lang;
use crate::oidc::subject::subject_for;
use crate::store::{AuditStore, ClientStore};

/// The most entries one page or download holds; a longer period is narrowed.
pub const MAX_ENTRIES: u32 = 1000;

/// Which entries to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Show {
    #[default]
    All,
    Logins,
    Releases,
    Officials,
}

impl Show {
    pub const ALL: [Show; 4] = [Show::All, Show::Logins, Show::Releases, Show::Officials];

    pub fn code(self) -> &'static str {
        match self {
            Show::All => "all",
            Show::Logins => "logins",
            Show::Releases => "releases",
            Show::Officials => "officials",
        }
    }

    pub fn parse(code: &str) -> Option<Show> {
        Show::ALL.into_iter().find(|s| s.code() == code)
    }

    /// The kinds of record shown (all when empty).
    fn kinds(self) -> &'static [Kind] {
        match self {
            Show::All => &[],
            Show::Logins => &[Kind::Login],
            Show::Releases => &[Kind::Release],
            Show::Officials => &[Kind::Access, Kind::Decision, Kind::Admin],
        }
    }
}

/// One entry, ready to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub at_ms: i64,
    pub kind: Kind,
    /// Who: "You", a service's name, or an official (or "An official" when withheld).
    pub who: String,
    /// Their agency, for officials.
    pub agency: Option<String>,
    /// The relying party involved, by name.
    pub service: Option<String>,
    /// What was done, in words.
    pub action: String,
    /// Which details, in words.
    pub details: String,
    pub purpose: Option<String>,
    pub case_id: Option<String>,
    /// The sentence that explains the entry.
    pub explanation: String,
}

/// The citizen's entries in `period` (Unix milliseconds), newest first, at most
/// `MAX_ENTRIES`. `show_officials`: name the officials (a deployment's choice; otherwise
/// their agency and role only).
pub async fn entries(
    ctx: &Broker<'_>,
    citizen_id: &str,
    period: std::ops::Range<i64>,
    show: Show,
    show_officials: bool,
    lang: Lang,
) -> Result<Vec<Entry>, OAuthError> {
    let store = ctx.op.store;
    let clients = store.clients().await?;
    // Any-ID's own events name the citizen by the logs' pseudonym (`decisions::pseudonym`).
    let mut subjects = vec![(
        OWN_REPORTER.to_owned(),
        crate::decisions::pseudonym(ctx.op.secrets, citizen_id),
    )];
    subjects.extend(
        clients
            .iter()
            .map(|c| (c.id.clone(), subject_for(ctx.op.secrets, c, citizen_id))),
    );
    let names: HashMap<&str, &str> = clients
        .iter()
        .map(|c| (c.id.as_str(), c.name.as_str()))
        .collect();
    let records = store
        .audit_records_about(&subjects, period, show.kinds(), MAX_ENTRIES)
        .await?;
    Ok(records
        .into_iter()
        .map(|stored| stored.record)
        .map(|r| entry(ctx, r, &names, show_officials, lang))
        .collect())
}

fn entry(
    ctx: &Broker<'_>,
    r: AccessRecord,
    names: &HashMap<&str, &str>,
    show_officials: bool,
    lang: Lang,
) -> Entry {
    let t = lang.text();
    // A service by its name; one since removed by its id.
    let service = r
        .client_id
        .as_deref()
        .or((r.reporter != OWN_REPORTER).then_some(r.reporter.as_str()))
        .map(|id| names.get(id).map_or(id, |n| *n).to_owned());
    let details = match r.kind {
        Kind::Release => r
            .data_categories
            .iter()
            .map(|c| t.claim(c).unwrap_or(c).to_owned())
            .collect::<Vec<_>>()
            .join(", "),
        _ => r.data_categories.join(", "),
    };
    let official = || match (&r.actor_id, &r.actor_role) {
        (Some(id), _) if show_officials => id.clone(),
        (_, Some(role)) => format!("{} ({role})", t.history_an_official),
        _ => t.history_an_official.to_owned(),
    };
    let fill = |template: &str, who: &str, action: &str| {
        template
            .replace("{who}", who)
            .replace("{agency}", r.actor_agency.as_deref().unwrap_or("-"))
            .replace("{service}", service.as_deref().unwrap_or("Any-ID"))
            .replace("{action}", action)
            .replace("{details}", if details.is_empty() { "-" } else { &details })
            .replace(
                "{purpose}",
                r.purpose.as_deref().unwrap_or(t.history_no_purpose),
            )
            .replace(
                "{method}",
                &r.method
                    .as_deref()
                    .map_or_else(String::new, |m| ctx.method_name(m, lang)),
            )
            .replace(
                "{level}",
                r.level.as_deref().map_or("-", |l| t.level_name(l)),
            )
    };
    let (who, action, explanation) = match r.kind {
        Kind::Login => {
            let template = if r.client_id.is_some() {
                t.history_login_for
            } else {
                t.history_login
            };
            (
                t.history_you.to_owned(),
                t.history_signed_in.to_owned(),
                fill(template, t.history_you, ""),
            )
        }
        Kind::Release => {
            let who = service.clone().unwrap_or_default();
            (
                who.clone(),
                t.history_received.to_owned(),
                fill(t.history_release, &who, ""),
            )
        }
        Kind::Decision => {
            let who = official();
            let action = t.operation(&r.action).to_owned();
            let template = if r.outcome == "success" {
                t.history_decision_allowed
            } else {
                t.history_decision_denied
            };
            (who.clone(), action.clone(), fill(template, &who, &action))
        }
        Kind::Access | Kind::Admin => {
            let who = official();
            let action = t.operation(&r.action).to_owned();
            let template = if r.outcome == "success" {
                t.history_access
            } else {
                t.history_access_denied
            };
            (who.clone(), action.clone(), fill(template, &who, &action))
        }
    };
    let is_official = matches!(r.kind, Kind::Access | Kind::Decision | Kind::Admin);
    Entry {
        at_ms: r.at_ms,
        kind: r.kind,
        who,
        agency: r.actor_agency.clone().filter(|_| is_official),
        service,
        action,
        details,
        purpose: r.purpose.clone(),
        case_id: r.case_id.clone(),
        explanation,
    }
}
