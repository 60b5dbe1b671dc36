//! Upstream identity providers: OpenID Connect (Kakao, Google, Apple, generic) and OAuth 2
//! with a profile API (Naver, generic). Being written.
