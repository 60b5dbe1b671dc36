//! The policy decision point: `evaluate(request, signals, now) -> Decision`, pure. `idp`
//! gathers the facts and the signals, asks, and enforces the answer.
//!
//! Today's rules are the assurance rules of DESIGN §4 (a relying party's minimum and the
//! levels it asks for; step-up only to a level some enabled method reaches, OpenID Connect
//! EAP ACR Values §5) and failure throttling. The Cedar policy set of DESIGN §6 replaces the
//! body of [`evaluate`], not its shape.

use std::time::Duration;

use crate::loa::Loa;

/// What is being asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// An authorization request: may it go on with the session at hand?
    Authorize,
    /// A completed login: may it serve the flow it was made for?
    Login,
    /// A token request from an authenticated (or failing) client.
    IssueToken,
}

/// The facts of one request.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub action: Action,
    /// The levels the relying party asked for (`acr_values`, the `claims` parameter's
    /// `acr`) that this provider knows.
    pub requested: &'a [Loa],
    /// The relying party's own minimum level.
    pub client_minimum: Option<Loa>,
    /// The level the session or the login at hand proves, if there is one.
    pub authenticated: Option<Loa>,
    /// The highest level an enabled login method can reach.
    pub reachable: Option<Loa>,
}

impl<'a> Request<'a> {
    pub fn new(action: Action) -> Self {
        Self {
            action,
            requested: &[],
            client_minimum: None,
            authenticated: None,
            reachable: None,
        }
    }
}

/// What `idp` measured about the request's context.
#[derive(Debug, Clone, Copy, Default)]
pub struct Signals {
    /// Set when the caller's failures are over their budget.
    pub throttled: Option<Duration>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    Deny(Reason),
    /// Authenticate (again) at this level first.
    StepUp(Loa),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// No enabled method reaches the level required (`unmet_authentication_requirements`).
    UnmetAssurance,
    /// Too many failures; try again after the duration.
    Throttled(Duration),
}

/// The lowest level a login must reach: the least of the requested levels (any of them
/// satisfies the relying party), raised to its own minimum.
pub fn required_level(requested: &[Loa], client_minimum: Option<Loa>) -> Loa {
    let floor = requested.iter().copied().min();
    floor.max(client_minimum).unwrap_or_default()
}

/// Decide `request` given `signals` at `now` (time since the Unix epoch).
pub fn evaluate(request: &Request<'_>, signals: &Signals, _now: Duration) -> Decision {
    if let Some(wait) = signals.throttled {
        return Decision::Deny(Reason::Throttled(wait));
    }
    let required = required_level(request.requested, request.client_minimum);
    match request.action {
        Action::IssueToken => Decision::Allow,
        Action::Authorize | Action::Login => {
            if request.authenticated.is_some_and(|level| level >= required) {
                return Decision::Allow;
            }
            if request.action == Action::Authorize
                && request.reachable.is_none_or(|best| best < required)
            {
                return Decision::Deny(Reason::UnmetAssurance);
            }
            Decision::StepUp(required)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Duration = Duration::from_secs(1_800_000_000);

    fn authorize(requested: &[Loa], session: Option<Loa>, reachable: Loa) -> Decision {
        let request = Request {
            requested,
            authenticated: session,
            reachable: Some(reachable),
            ..Request::new(Action::Authorize)
        };
        evaluate(&request, &Signals::default(), NOW)
    }

    #[test]
    fn the_least_requested_level_is_required_raised_to_the_clients_minimum() {
        assert_eq!(required_level(&[], None), Loa::Low);
        assert_eq!(
            required_level(&[Loa::High, Loa::Substantial], None),
            Loa::Substantial
        );
        assert_eq!(required_level(&[Loa::Low], Some(Loa::High)), Loa::High);
    }

    #[test]
    fn a_session_that_reaches_the_level_goes_on_and_a_weaker_one_steps_up() {
        assert_eq!(authorize(&[], Some(Loa::Low), Loa::High), Decision::Allow);
        assert_eq!(
            authorize(&[Loa::High], Some(Loa::Low), Loa::High),
            Decision::StepUp(Loa::High)
        );
        assert_eq!(
            authorize(&[Loa::Substantial], None, Loa::High),
            Decision::StepUp(Loa::Substantial)
        );
    }

    #[test]
    fn a_level_no_enabled_method_reaches_is_unmet() {
        assert_eq!(
            authorize(&[Loa::High], None, Loa::Substantial),
            Decision::Deny(Reason::UnmetAssurance)
        );
        // Even with a session: nothing could step it up.
        assert_eq!(
            authorize(&[Loa::High], Some(Loa::Low), Loa::Low),
            Decision::Deny(Reason::UnmetAssurance)
        );
    }

    #[test]
    fn a_login_below_the_level_is_sent_back_to_step_up() {
        let login = |proved| {
            let request = Request {
                requested: &[Loa::High],
                authenticated: Some(proved),
                ..Request::new(Action::Login)
            };
            evaluate(&request, &Signals::default(), NOW)
        };
        assert_eq!(login(Loa::High), Decision::Allow);
        assert_eq!(login(Loa::Substantial), Decision::StepUp(Loa::High));
    }

    #[test]
    fn throttled_callers_are_denied_whatever_else_holds() {
        let signals = Signals {
            throttled: Some(Duration::from_secs(3)),
        };
        assert_eq!(
            evaluate(&Request::new(Action::IssueToken), &signals, NOW),
            Decision::Deny(Reason::Throttled(Duration::from_secs(3)))
        );
        assert_eq!(
            evaluate(&Request::new(Action::IssueToken), &Signals::default(), NOW),
            Decision::Allow
        );
    }
}
