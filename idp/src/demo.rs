//! Dev mode's demo relying party: its registration and its HTTP client. Its pages live in
//! `http::demo`; like any relying party it talks to Any-ID through the public protocol.

pub const DEMO_CLIENT_ID: &str = "anyid-demo";

/// The demo relying party's registration, with its secret (regenerated each start).
#[derive(Clone)]
pub struct DemoClient {
    pub client_id: String,
    pub secret: String,
    pub redirect_uri: String,
    pub home: String,
    pub http: reqwest::Client,
}

impl std::fmt::Debug for DemoClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoClient")
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

impl DemoClient {
    pub fn new(issuer: &str, secret: String) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(5))
            .build()?;
        Ok(Self {
            client_id: DEMO_CLIENT_ID.into(),
            secret,
            redirect_uri: format!("{issuer}/demo/callback"),
            home: format!("{issuer}/demo"),
            http,
        })
    }
}
