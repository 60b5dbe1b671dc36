//! The mutual-TLS listener for certificate login. rustls asks the browser for a client
//! certificate (optional at the TLS layer, hinting the trusted roots) and proves the peer
//! holds its key; the one route, `/login/certificate`, hands the chain to the main origin,
//! where `login::certificate` validates it. Chain validation is deliberately not done in the
//! handshake: a TLS alert tells a citizen nothing, an error page does (RFC 8446 §4.4.2.4
//! lets the server continue without a usable certificate).

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use anyhow::Context;
use axum::Extension;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::middleware::AddExtension;
use axum::response::{IntoResponse, Redirect, Response};
use axum_server::accept::Accept;
use axum_server::tls_rustls::{RustlsAcceptor, RustlsConfig};
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, RootCertStore, SignatureScheme};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tower::Layer;

use super::extract;
use super::pages::{self, Prefs};
use crate::config::Mtls;
use crate::i18n::Notice;
use crate::login::certificate;
use crate::state::AppState;

/// The certificate chain the TLS handshake proved (leaf first), if the browser sent one.
#[derive(Debug, Clone, Default)]
pub struct PeerChain(pub Option<Arc<Vec<CertificateDer<'static>>>>);

/// Accepts any client certificate whose key signs the handshake; the chain is validated by
/// the application afterwards.
#[derive(Debug)]
struct DeferredClientAuth {
    hints: Vec<DistinguishedName>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ClientCertVerifier for DeferredClientAuth {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        false
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &self.hints
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// The listener's TLS configuration: its certificate, and client certificates requested
/// with the trust anchors' names as hints.
pub fn tls_config(
    mtls: &Mtls,
    anchors: &[CertificateDer<'static>],
) -> anyhow::Result<rustls::ServerConfig> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut roots = RootCertStore::empty();
    for anchor in anchors {
        roots
            .add(anchor.clone())
            .context("a trust anchor is not a usable CA certificate")?;
    }
    let verifier = DeferredClientAuth {
        hints: roots.subjects(),
        algorithms: provider.signature_verification_algorithms,
    };
    let chain_pem = std::fs::read(&mtls.certificate)
        .with_context(|| format!("reading {}", mtls.certificate.display()))?;
    let chain = anyid_certs::certificates_from_pem(&chain_pem)
        .with_context(|| format!("{}", mtls.certificate.display()))?;
    let key_pem = std::fs::read(&mtls.private_key)
        .with_context(|| format!("reading {}", mtls.private_key.display()))?;
    let key = private_key(&key_pem).with_context(|| format!("{}", mtls.private_key.display()))?;
    let mut config = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?
        .with_client_cert_verifier(Arc::new(verifier))
        .with_single_cert(chain, key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

fn private_key(pem: &[u8]) -> anyhow::Result<PrivateKeyDer<'static>> {
    use rustls::pki_types::pem::PemObject;
    PrivateKeyDer::from_pem_slice(pem).context("no PKCS#8 private key in PEM")
}

/// Serve the mTLS router on `listener` until `stop`.
pub fn serve(
    listener: TcpListener,
    config: rustls::ServerConfig,
    state: AppState,
    mut stop: watch::Receiver<bool>,
) -> JoinHandle<()> {
    let router = super::mtls_router(state);
    tokio::spawn(async move {
        let handle = axum_server::Handle::<SocketAddr>::new();
        let stopper = handle.clone();
        tokio::spawn(async move {
            let _ = stop.wait_for(|s| *s).await;
            stopper.graceful_shutdown(Some(std::time::Duration::from_secs(10)));
        });
        let acceptor = PeerChainAcceptor(RustlsAcceptor::new(RustlsConfig::from_config(Arc::new(
            config,
        ))));
        let result = axum_server::Server::from_listener(listener)
            .acceptor(acceptor)
            .handle(handle)
            .serve(router.into_make_service_with_connect_info::<SocketAddr>())
            .await;
        if let Err(e) = result {
            tracing::error!(cause = %e, "mTLS listener failed");
        }
    })
}

/// After the handshake, attach the peer's chain to the connection's requests.
#[derive(Clone)]
struct PeerChainAcceptor(RustlsAcceptor);

impl<I, S> Accept<I, S> for PeerChainAcceptor
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    S: Send + 'static,
{
    type Stream = tokio_rustls::server::TlsStream<I>;
    type Service = AddExtension<S, PeerChain>;
    type Future = Pin<Box<dyn Future<Output = io::Result<(Self::Stream, Self::Service)>> + Send>>;

    fn accept(&self, stream: I, service: S) -> Self::Future {
        let acceptor = self.0.clone();
        Box::pin(async move {
            let (stream, service) = acceptor.accept(stream, service).await?;
            let chain = stream
                .get_ref()
                .1
                .peer_certificates()
                .map(|c| Arc::new(c.iter().map(|d| d.clone().into_owned()).collect()));
            Ok((stream, Extension(PeerChain(chain)).layer(service)))
        })
    }
}

/// `GET /login/certificate?flow=…` on the mTLS listener.
pub async fn get_login_certificate(
    State(state): State<AppState>,
    Extension(peer): Extension<PeerChain>,
    RawQuery(query): RawQuery,
) -> Response {
    let prefs = Prefs::from_request(&Default::default(), None, None);
    let params = extract::query(query.as_deref().unwrap_or_default()).unwrap_or_default();
    let Some(flow) = params.get("flow") else {
        return pages::error(StatusCode::BAD_REQUEST, Notice::Stale, &prefs);
    };
    let chain = peer.0.as_deref().map(Vec::as_slice).unwrap_or_default();
    match certificate::hand_off(&state.broker(), flow, chain).await {
        Ok(Some(location)) => Redirect::to(&location).into_response(),
        Ok(None) => pages::error(StatusCode::BAD_REQUEST, Notice::Stale, &prefs),
        Err(e) => super::authorize::failure(e, &prefs),
    }
}
