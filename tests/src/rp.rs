//! A relying party built on the `openidconnect` crate (RP side), with its HTTP going through
//! reqwest 0.13 (no second HTTP stack).

use std::future::Future;
use std::pin::Pin;

use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreErrorResponseType, CoreIdTokenClaims,
    CoreJwsSigningAlgorithm, CoreTokenResponse,
};
use openidconnect::{
    AsyncHttpClient, AuthorizationCode, ClientId, ClientSecret, CsrfToken, HttpRequest,
    HttpResponse, IssuerUrl, Nonce, PkceCodeChallenge, PkceCodeVerifier,
    ProviderMetadataWithLogout, RedirectUrl, Scope,
};
use openidconnect::{RequestTokenError, StandardErrorResponse, TokenResponse};
use url::Url;

/// openidconnect's HTTP over reqwest, never following redirects (openidconnect's advice).
#[derive(Clone)]
pub struct RpHttp(pub reqwest::Client);

impl Default for RpHttp {
    fn default() -> Self {
        Self(
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("http client"),
        )
    }
}

impl<'c> AsyncHttpClient<'c> for RpHttp {
    type Error = reqwest::Error;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, Self::Error>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let response = self
                .0
                .request(parts.method, parts.uri.to_string())
                .headers(parts.headers)
                .body(body)
                .send()
                .await?;
            let status = response.status();
            let headers = response.headers().clone();
            let body = response.bytes().await?.to_vec();
            let mut out = http::Response::new(body);
            *out.status_mut() = status;
            *out.headers_mut() = headers;
            Ok(out)
        })
    }
}

/// One relying party: its registration, its provider metadata, and one login in progress.
pub struct Rp {
    pub http: RpHttp,
    pub metadata: ProviderMetadataWithLogout,
    pub client_id: String,
    pub client_secret: String,
    pub redirect_uri: String,
}

/// What the RP remembers between sending the browser away and the callback.
pub struct Pending {
    pub url: Url,
    pub state: CsrfToken,
    pub nonce: Nonce,
    pub verifier: PkceCodeVerifier,
}

impl Rp {
    /// Discover the provider (OIDC Discovery) and set up a client.
    pub async fn discover(
        issuer: &str,
        client_id: &str,
        client_secret: &str,
        redirect_uri: &str,
    ) -> anyhow::Result<Self> {
        let http = RpHttp::default();
        let metadata =
            ProviderMetadataWithLogout::discover_async(IssuerUrl::new(issuer.to_owned())?, &http)
                .await?;
        Ok(Self {
            http,
            metadata,
            client_id: client_id.to_owned(),
            client_secret: client_secret.to_owned(),
            redirect_uri: redirect_uri.to_owned(),
        })
    }

    pub fn client(
        &self,
    ) -> CoreClient<
        openidconnect::EndpointSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointMaybeSet,
        openidconnect::EndpointMaybeSet,
    > {
        CoreClient::from_provider_metadata(
            self.metadata.clone(),
            ClientId::new(self.client_id.clone()),
            Some(ClientSecret::new(self.client_secret.clone())),
        )
        .set_redirect_uri(RedirectUrl::new(self.redirect_uri.clone()).expect("redirect uri"))
    }

    /// A client-credentials access token (RFC 6749 §4.4) for `scopes`.
    pub async fn service_token(&self, scopes: &[&str]) -> String {
        use openidconnect::OAuth2TokenResponse;
        let client = self.client();
        let mut request = client
            .exchange_client_credentials()
            .expect("token endpoint");
        for s in scopes {
            request = request.add_scope(Scope::new((*s).to_owned()));
        }
        request
            .request_async(&self.http)
            .await
            .expect("a client-credentials token")
            .access_token()
            .secret()
            .clone()
    }

    /// Build an authorization URL with PKCE S256, state and nonce, plus extra parameters.
    pub fn start(&self, scopes: &[&str], extra: &[(&str, &str)]) -> Pending {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let client = self.client();
        let mut request = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge);
        for s in scopes {
            request = request.add_scope(Scope::new((*s).to_owned()));
        }
        for (k, v) in extra {
            request = request.add_extra_param(*k, *v);
        }
        let (url, state, nonce) = request.url();
        Pending {
            url,
            state,
            nonce,
            verifier,
        }
    }

    /// Redeem the code in `callback` with the pending request's PKCE verifier.
    pub async fn redeem(
        &self,
        callback: &Url,
        pending: &Pending,
    ) -> Result<
        CoreTokenResponse,
        RequestTokenError<reqwest::Error, StandardErrorResponse<CoreErrorResponseType>>,
    > {
        self.client()
            .exchange_code(Self::code_of(callback))
            .expect("token endpoint")
            .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier.secret().clone()))
            .request_async(&self.http)
            .await
    }

    /// Redeem and validate the ID token (signature, iss, aud, exp, nonce); returns its claims.
    pub async fn sign_in_claims(&self, callback: &Url, pending: &Pending) -> CoreIdTokenClaims {
        let tokens = self.redeem(callback, pending).await.expect("tokens");
        let client = self.client();
        let verifier = client.id_token_verifier().set_allowed_algs(SIGNING_ALGS);
        tokens
            .id_token()
            .expect("an ID token")
            .claims(&verifier, &pending.nonce)
            .expect("a valid ID token")
            .clone()
    }

    pub fn code_of(callback: &Url) -> AuthorizationCode {
        AuthorizationCode::new(crate::browser::param(callback, "code").expect("code in callback"))
    }
}

/// The algorithms Any-ID signs ID tokens with (ES256 default, RS256 per client).
pub const SIGNING_ALGS: [CoreJwsSigningAlgorithm; 2] = [
    CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
];
