//! Any-ID certificates: trust stores, X.509 path validation (RFC 5280) with CRL/OCSP, and the
//! dev CA. This crate is a workspace member from the start so the dependency direction
//! (`idp -> adapters -> certs`) is fixed; certificate login and the dev CA arrive with the
//! certificate-login work and nothing here is used yet.
