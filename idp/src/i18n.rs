//! Korean and English for every page a person sees. Texts are plain Rust values, so a
//! missing translation does not compile. The language comes from an explicit switch, the
//! relying party's `ui_locales` (OIDC Core §3.1.2.1), a remembered choice, or
//! `Accept-Language`, in that order; Korean is the default.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Ko,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Ko => "ko",
            Lang::En => "en",
        }
    }

    pub fn parse(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "ko" => Some(Lang::Ko),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The first supported tag of a space-separated `ui_locales` list.
    fn from_ui_locales(list: &str) -> Option<Lang> {
        list.split(' ').find_map(Lang::parse)
    }

    /// The supported language with the highest q-value in `Accept-Language` (RFC 9110 §12.5.4).
    fn from_accept_language(header: &str) -> Option<Lang> {
        let mut best: Option<(f32, Lang)> = None;
        for item in header.split(',') {
            let mut parts = item.split(';');
            let Some(lang) = parts.next().and_then(Lang::parse) else {
                continue;
            };
            let q = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            if q > 0.0 && best.is_none_or(|(b, _)| q > b) {
                best = Some((q, lang));
            }
        }
        best.map(|(_, l)| l)
    }

    pub fn negotiate(
        switch: Option<&str>,
        ui_locales: Option<&str>,
        remembered: Option<&str>,
        accept_language: Option<&str>,
    ) -> Lang {
        switch
            .and_then(Lang::parse)
            .or_else(|| ui_locales.and_then(Lang::from_ui_locales))
            .or_else(|| remembered.and_then(Lang::parse))
            .or_else(|| accept_language.and_then(Lang::from_accept_language))
            .unwrap_or(Lang::Ko)
    }

    pub fn text(self) -> &'static Text {
        match self {
            Lang::Ko => &KO,
            Lang::En => &EN,
        }
    }

    /// The other language, for the switch.
    pub fn other(self) -> Lang {
        match self {
            Lang::Ko => Lang::En,
            Lang::En => Lang::Ko,
        }
    }
}

/// What went wrong, in words a citizen understands. The domain says which; pages say it in
/// the citizen's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    MissingClient,
    UnknownClient,
    MissingRedirect,
    UnregisteredRedirect,
    Stale,
    WrongBrowser,
    BadRequest,
    ServerError,
    NotFound,
    UpstreamUnavailable,
    UpstreamRefused,
    UpstreamFailed,
    LoginMismatch,
    LinkedElsewhere,
    LastMethod,
    LogoutUnknownToken,
    LogoutTwoClients,
    LogoutUnregistered,
    InsufficientAssurance,
    PasskeyFailed,
    PasskeyUnknown,
    PasskeyExists,
    PasskeyName,
    CertExpired,
    CertNotYetValid,
    CertRevoked,
    CertUnknownIssuer,
    CertPolicy,
    CertKeyUsage,
    CertRevocationUnknown,
    CertSignature,
    CertChallenge,
    CertMalformed,
    CertMissing,
    CertNotRegistered,
    CertNoIdentity,
    AnotherPerson,
    StepUpNotBound,
    BoundBelowLevel,
    TooManyRequests,
}

impl Notice {
    pub fn text(self, lang: Lang) -> &'static str {
        let t = lang.text();
        match self {
            Notice::MissingClient => t.err_missing_client,
            Notice::UnknownClient => t.err_unknown_client,
            Notice::MissingRedirect => t.err_missing_redirect,
            Notice::UnregisteredRedirect => t.err_unregistered_redirect,
            Notice::Stale => t.err_stale,
            Notice::WrongBrowser => t.err_wrong_browser,
            Notice::BadRequest => t.err_bad_request,
            Notice::ServerError => t.err_server,
            Notice::NotFound => t.err_not_found,
            Notice::UpstreamUnavailable => t.err_upstream_unavailable,
            Notice::UpstreamRefused => t.err_upstream_refused,
            Notice::UpstreamFailed => t.err_upstream_failed,
            Notice::LoginMismatch => t.err_login_mismatch,
            Notice::LinkedElsewhere => t.err_linked_elsewhere,
            Notice::LastMethod => t.err_last_method,
            Notice::LogoutUnknownToken => t.err_logout_unknown_token,
            Notice::LogoutTwoClients => t.err_logout_two_clients,
            Notice::LogoutUnregistered => t.err_logout_unregistered,
            Notice::InsufficientAssurance => t.err_insufficient_assurance,
            Notice::PasskeyFailed => t.err_passkey_failed,
            Notice::PasskeyUnknown => t.err_passkey_unknown,
            Notice::PasskeyExists => t.err_passkey_exists,
            Notice::PasskeyName => t.err_passkey_name,
            Notice::CertExpired => t.err_cert_expired,
            Notice::CertNotYetValid => t.err_cert_not_yet_valid,
            Notice::CertRevoked => t.err_cert_revoked,
            Notice::CertUnknownIssuer => t.err_cert_unknown_issuer,
            Notice::CertPolicy => t.err_cert_policy,
            Notice::CertKeyUsage => t.err_cert_key_usage,
            Notice::CertRevocationUnknown => t.err_cert_revocation_unknown,
            Notice::CertSignature => t.err_cert_signature,
            Notice::CertChallenge => t.err_cert_challenge,
            Notice::CertMalformed => t.err_cert_malformed,
            Notice::CertMissing => t.err_cert_missing,
            Notice::CertNotRegistered => t.err_cert_not_registered,
            Notice::CertNoIdentity => t.err_cert_no_identity,
            Notice::AnotherPerson => t.err_another_person,
            Notice::StepUpNotBound => t.err_step_up_not_bound,
            Notice::BoundBelowLevel => t.err_bound_below_level,
            Notice::TooManyRequests => t.err_too_many_requests,
        }
    }
}

pub struct Text {
    pub lang_name: &'static str,
    pub switch_label: &'static str,
    pub skip_to_content: &'static str,
    pub footer: &'static str,
    pub home_title: &'static str,
    pub home_body: &'static str,
    pub sign_in: &'static str,
    pub continue_to: &'static str,
    pub choose_method: &'static str,
    pub last_used: &'static str,
    pub unavailable: &'static str,
    pub continue_with: &'static str,
    pub demo_heading: &'static str,
    pub demo_tag: &'static str,
    pub demo_body: &'static str,
    pub no_methods: &'static str,
    pub consent_title: &'static str,
    pub consent_lead: &'static str,
    pub consent_note: &'static str,
    pub allow: &'static str,
    pub deny: &'static str,
    pub scope_openid: &'static str,
    pub scope_profile: &'static str,
    pub scope_email: &'static str,
    pub scope_phone: &'static str,
    pub scope_address: &'static str,
    pub scope_offline: &'static str,
    pub error_title: &'static str,
    pub try_another: &'static str,
    pub back_to_service: &'static str,
    pub signed_out_title: &'static str,
    pub signed_out_body: &'static str,
    pub sign_out_title: &'static str,
    pub sign_out_body: &'static str,
    pub sign_out: &'static str,
    pub portal_title: &'static str,
    pub portal_signed_in_as: &'static str,
    pub portal_methods: &'static str,
    pub portal_link_another: &'static str,
    pub portal_unlink: &'static str,
    pub portal_level: &'static str,
    pub portal_last_used: &'static str,
    pub portal_sessions: &'static str,
    pub portal_this_device: &'static str,
    pub portal_started: &'static str,
    pub portal_revoke: &'static str,
    pub portal_revoke_all: &'static str,
    pub portal_consents: &'static str,
    pub portal_no_consents: &'static str,
    pub portal_withdraw: &'static str,
    pub portal_history: &'static str,
    pub portal_when: &'static str,
    pub portal_method: &'static str,
    pub portal_service: &'static str,
    pub portal_from: &'static str,
    pub portal_none: &'static str,
    pub portal_linked: &'static str,
    pub portal_unlinked: &'static str,
    pub portal_revoked: &'static str,
    pub portal_sign_in_lead: &'static str,
    pub err_missing_client: &'static str,
    pub err_unknown_client: &'static str,
    pub err_missing_redirect: &'static str,
    pub err_unregistered_redirect: &'static str,
    pub err_stale: &'static str,
    pub err_wrong_browser: &'static str,
    pub err_bad_request: &'static str,
    pub err_server: &'static str,
    pub err_not_found: &'static str,
    pub err_upstream_unavailable: &'static str,
    pub err_upstream_refused: &'static str,
    pub err_upstream_failed: &'static str,
    pub err_login_mismatch: &'static str,
    pub err_linked_elsewhere: &'static str,
    pub err_last_method: &'static str,
    pub err_logout_unknown_token: &'static str,
    pub err_logout_two_clients: &'static str,
    pub err_logout_unregistered: &'static str,
    pub err_insufficient_assurance: &'static str,
    pub step_up: &'static str,
    pub level_low: &'static str,
    pub level_substantial: &'static str,
    pub level_high: &'static str,
    pub passkey_heading: &'static str,
    pub passkey_button: &'static str,
    pub passkey_hint: &'static str,
    pub passkey_pick: &'static str,
    pub passkey_unsupported: &'static str,
    pub passkey_cancelled: &'static str,
    pub portal_passkeys: &'static str,
    pub portal_no_passkeys: &'static str,
    pub portal_add_passkey: &'static str,
    pub portal_passkey_name: &'static str,
    pub portal_rename: &'static str,
    pub portal_remove: &'static str,
    pub portal_registered: &'static str,
    pub portal_storage: &'static str,
    pub portal_synced: &'static str,
    pub portal_device_bound: &'static str,
    pub portal_never: &'static str,
    pub portal_passkey_added: &'static str,
    pub portal_passkey_renamed: &'static str,
    pub portal_passkey_removed: &'static str,
    pub cert_heading: &'static str,
    pub cert_sign_summary: &'static str,
    pub cert_register: &'static str,
    pub cert_lead: &'static str,
    pub cert_challenge: &'static str,
    pub cert_signature: &'static str,
    pub cert_submit: &'static str,
    pub cert_tls: &'static str,
    pub step_up_signed_in: &'static str,
    pub step_up_adds: &'static str,
    pub err_passkey_failed: &'static str,
    pub err_passkey_unknown: &'static str,
    pub err_passkey_exists: &'static str,
    pub err_passkey_name: &'static str,
    pub err_cert_expired: &'static str,
    pub err_cert_not_yet_valid: &'static str,
    pub err_cert_revoked: &'static str,
    pub err_cert_unknown_issuer: &'static str,
    pub err_cert_policy: &'static str,
    pub err_cert_key_usage: &'static str,
    pub err_cert_revocation_unknown: &'static str,
    pub err_cert_signature: &'static str,
    pub err_cert_challenge: &'static str,
    pub err_cert_malformed: &'static str,
    pub err_cert_missing: &'static str,
    pub err_cert_not_registered: &'static str,
    pub err_another_person: &'static str,
    pub err_step_up_not_bound: &'static str,
    pub err_bound_below_level: &'static str,
    pub err_too_many_requests: &'static str,
    pub err_cert_no_identity: &'static str,
}

impl Text {
    pub fn scope(&self, scope: &str) -> Option<&'static str> {
        Some(match scope {
            "openid" => self.scope_openid,
            "profile" => self.scope_profile,
            "email" => self.scope_email,
            "phone" => self.scope_phone,
            "address" => self.scope_address,
            "offline_access" => self.scope_offline,
            _ => return None,
        })
    }

    pub fn level(&self, acr: &str) -> &'static str {
        match acr {
            "urn:anyid:loa:high" => self.level_high,
            "urn:anyid:loa:substantial" => self.level_substantial,
            _ => self.level_low,
        }
    }
}

pub static KO: Text = Text {
    lang_name: "한국어",
    switch_label: "English",
    skip_to_content: "본문 바로가기",
    footer: "Any-ID · 하나의 로그인으로 모든 공공서비스를",
    home_title: "Any-ID",
    home_body: "Any-ID는 이미 가지고 있는 계정과 인증수단으로 공공서비스에 로그인하게 해 줍니다. 서비스에서 로그인을 누르면 이 화면으로 옵니다.",
    sign_in: "로그인",
    continue_to: "다음 서비스를 계속 이용하려면 로그인하세요:",
    choose_method: "로그인 방법을 선택하세요",
    last_used: "최근 사용",
    unavailable: "지금은 사용할 수 없습니다. 잠시 후 다시 시도하거나 다른 방법을 선택하세요.",
    continue_with: "(으)로 계속하기",
    demo_heading: "데모 시민",
    demo_tag: "개발용",
    demo_body: "데모 시민을 골라 로그인합니다. 운영 환경에서는 실제 로그인 방법으로 바뀝니다.",
    no_methods: "이 서버에는 아직 사용할 수 있는 로그인 방법이 없습니다.",
    consent_title: "정보 제공 동의",
    consent_lead: "다음 정보를 이 서비스에 제공합니다:",
    consent_note: "동의는 나중에 내 계정에서 철회할 수 있습니다. Any-ID는 서비스가 내 정보를 조회할 때마다 기록합니다.",
    allow: "동의하고 계속하기",
    deny: "동의하지 않음",
    scope_openid: "이 서비스에서만 쓰이는 나의 식별자",
    scope_profile: "이름, 생년월일, 언어",
    scope_email: "이메일 주소",
    scope_phone: "휴대전화 번호",
    scope_address: "주소",
    scope_offline: "내가 서비스를 이용하지 않을 때에도 위 정보에 접근",
    error_title: "로그인을 계속할 수 없습니다",
    try_another: "다른 방법으로 로그인",
    back_to_service: "서비스로 돌아가기",
    signed_out_title: "로그아웃되었습니다",
    signed_out_body: "이 브라우저에서 Any-ID 로그아웃이 완료되었습니다.",
    sign_out_title: "Any-ID에서 로그아웃할까요?",
    sign_out_body: "이 브라우저에서 Any-ID를 쓰는 모든 서비스에서 로그아웃됩니다.",
    sign_out: "로그아웃",
    portal_title: "내 Any-ID 계정",
    portal_signed_in_as: "로그인한 계정",
    portal_methods: "연결된 로그인 방법",
    portal_link_another: "다른 로그인 방법 연결",
    portal_unlink: "연결 해제",
    portal_level: "보증 수준",
    portal_last_used: "마지막 사용",
    portal_sessions: "로그인된 기기(세션)",
    portal_this_device: "현재 기기",
    portal_started: "로그인 시각",
    portal_revoke: "로그아웃시키기",
    portal_revoke_all: "모든 세션 로그아웃",
    portal_consents: "정보 제공에 동의한 서비스",
    portal_no_consents: "정보 제공에 동의한 서비스가 없습니다.",
    portal_withdraw: "동의 철회",
    portal_history: "나의 로그인 기록",
    portal_when: "일시 (UTC)",
    portal_method: "방법",
    portal_service: "서비스",
    portal_from: "접속 주소",
    portal_none: "없음",
    portal_linked: "로그인 방법을 연결했습니다.",
    portal_unlinked: "로그인 방법의 연결을 해제했습니다.",
    portal_revoked: "철회했습니다. 다음 요청부터 적용됩니다.",
    portal_sign_in_lead: "계정을 관리하려면 먼저 로그인하세요.",
    err_missing_client: "로그인 요청에 어느 서비스에서 왔는지가 없습니다(client_id 없음).",
    err_unknown_client: "이 서비스는 Any-ID에 등록되어 있지 않습니다.",
    err_missing_redirect: "로그인 요청에 돌아갈 주소가 없습니다(redirect_uri 없음).",
    err_unregistered_redirect: "로그인 요청의 돌아갈 주소가 이 서비스에 등록된 주소가 아닙니다.",
    err_stale: "이 로그인은 만료되었거나 이미 완료되었습니다. 이용하던 서비스에서 다시 시작하세요.",
    err_wrong_browser: "이 로그인은 다른 브라우저나 탭에서 시작되었습니다. 이용하던 서비스에서 다시 시작하세요.",
    err_bad_request: "요청이 올바르지 않습니다.",
    err_server: "요청을 처리하지 못했습니다. 잠시 후 다시 시도하세요.",
    err_not_found: "이 주소에는 페이지가 없습니다.",
    err_upstream_unavailable: "선택한 로그인 방법을 지금 사용할 수 없습니다. 다른 방법을 선택하세요.",
    err_upstream_refused: "로그인이 취소되었거나 거부되었습니다.",
    err_upstream_failed: "선택한 로그인 방법에서 받은 응답을 확인할 수 없습니다. 다시 시도하거나 다른 방법을 선택하세요.",
    err_login_mismatch: "로그인 응답이 시작한 로그인과 맞지 않습니다. 다시 시도하세요.",
    err_linked_elsewhere: "이 로그인 방법은 이미 다른 Any-ID 계정에 연결되어 있습니다.",
    err_last_method: "마지막 남은 로그인 방법은 연결을 해제할 수 없습니다.",
    err_logout_unknown_token: "로그아웃 요청에 Any-ID가 발급하지 않은 ID 토큰이 있습니다.",
    err_logout_two_clients: "로그아웃 요청이 서로 다른 두 서비스를 가리킵니다.",
    err_logout_unregistered: "로그아웃 후 돌아갈 주소가 이 서비스에 등록되어 있지 않습니다.",
    err_insufficient_assurance: "선택한 로그인 방법은 이 서비스가 요구하는 보증 수준에 미치지 못합니다. 더 강한 방법을 선택하세요.",
    step_up: "이 서비스는 더 높은 보증 수준을 요구합니다. 다음 방법 중 하나로 다시 인증하세요. 필요한 수준:",
    level_low: "낮음",
    level_substantial: "보통",
    level_high: "높음",
    passkey_heading: "패스키",
    passkey_button: "패스키로 로그인",
    passkey_pick: "저장된 패스키 선택",
    passkey_hint: "이 기기나 휴대폰에 저장한 패스키를 사용합니다. 지문, 얼굴 또는 화면 잠금으로 확인합니다.",
    passkey_unsupported: "이 브라우저에서는 패스키를 사용할 수 없습니다.",
    passkey_cancelled: "패스키 확인이 취소되었거나 실패했습니다. 다시 시도하세요.",
    portal_passkeys: "패스키",
    portal_no_passkeys: "등록한 패스키가 없습니다.",
    portal_add_passkey: "패스키 추가",
    portal_passkey_name: "패스키 이름",
    portal_rename: "이름 변경",
    portal_remove: "삭제",
    portal_registered: "등록일",
    portal_storage: "보관",
    portal_synced: "여러 기기에 동기화",
    portal_device_bound: "이 기기에만 보관",
    portal_never: "사용 기록 없음",
    portal_passkey_added: "패스키를 등록했습니다.",
    portal_passkey_renamed: "패스키 이름을 바꾸었습니다.",
    portal_passkey_removed: "패스키를 삭제했습니다.",
    cert_heading: "인증서",
    cert_sign_summary: "공동인증서로 서명하기",
    cert_register: "인증서 등록",
    cert_lead: "공동인증서 등 인증서로 아래 확인 문자열에 서명한 뒤, 서명(PKCS#7)을 붙여 넣으세요. 확인 문자열은 2분 동안 한 번만 쓸 수 있습니다.",
    cert_challenge: "확인 문자열",
    cert_signature: "서명 (PKCS#7, Base64)",
    cert_submit: "인증서로 로그인",
    cert_tls: "브라우저에 설치한 인증서 사용",
    step_up_signed_in: "현재 로그인한 계정:",
    step_up_adds: "이 계정에 이미 연결된 방법이나, 같은 사람임이 확인되는 방법(본인 확인 정보가 같은 방법)만 보증 수준을 높일 수 있습니다. 본인이 아니면 로그아웃하세요.",
    err_passkey_failed: "패스키를 확인하지 못했습니다. 다시 시도하거나 다른 방법을 사용하세요.",
    err_passkey_unknown: "이 패스키는 Any-ID에 등록되어 있지 않습니다. 다른 방법으로 로그인한 뒤 내 계정에서 등록하세요.",
    err_passkey_exists: "이 패스키는 이미 등록되어 있습니다.",
    err_passkey_name: "패스키 이름은 1자 이상 64자 이하로 입력하세요.",
    err_cert_expired: "인증서의 유효기간이 지났습니다. 인증서를 갱신한 뒤 다시 시도하세요.",
    err_cert_not_yet_valid: "인증서가 아직 유효하지 않습니다(유효기간 시작 전). 기기의 날짜와 시간을 확인하세요.",
    err_cert_revoked: "이 인증서는 폐지되었습니다. 인증서를 다시 발급받으세요.",
    err_cert_unknown_issuer: "이 인증서를 발급한 기관을 신뢰할 수 없습니다. Any-ID가 인정하는 인증기관의 인증서를 사용하세요.",
    err_cert_policy: "이 인증서의 용도(인증서 정책)는 로그인에 사용할 수 없습니다.",
    err_cert_key_usage: "이 인증서는 전자서명 용도가 아니어서 로그인에 사용할 수 없습니다.",
    err_cert_revocation_unknown: "인증서의 폐지 여부를 지금 확인할 수 없습니다. 잠시 후 다시 시도하세요.",
    err_cert_signature: "서명을 확인하지 못했습니다. 서명이 변경되었거나 다른 확인 문자열에 대한 서명입니다.",
    err_cert_challenge: "확인 문자열이 만료되었거나 이미 사용되었습니다. 새 확인 문자열로 다시 서명하세요.",
    err_cert_malformed: "서명 형식을 읽을 수 없습니다. PKCS#7(CMS) 서명을 Base64로 붙여 넣으세요.",
    err_cert_missing: "브라우저가 인증서를 보내지 않았습니다. 브라우저에 인증서를 설치하고 선택한 뒤 다시 시도하세요.",
    err_cert_not_registered: "이 인증서는 어떤 계정에도 등록되어 있지 않습니다. 다른 방법으로 로그인한 뒤 내 계정에서 등록하세요.",
    err_another_person: "이 로그인 방법은 지금 계정과 다른 사람의 본인 확인 정보를 담고 있어 사용할 수 없습니다.",
    err_step_up_not_bound: "이 방법은 지금 로그인한 계정에 연결되어 있지 않아 그 계정의 보증 수준을 높일 수 없습니다. 계정을 보호하기 위해 아무것도 연결하지 않았습니다. 본인의 방법이라면 로그아웃한 뒤 이 방법으로 직접 로그인하세요.",
    err_too_many_requests: "지금 이 네트워크에서 로그인 요청이 너무 많습니다. 잠시 후 다시 시도하세요.",
    err_bound_below_level: "이 방법은 더 낮은 수준의 로그인 중에 계정에 연결되어, 이 계정에 대해서는 그 수준까지만 증명합니다. 이 서비스가 요구하는 수준에 미치지 못합니다.",
    err_cert_no_identity: "이 인증서에는 Any-ID가 본인을 확인하는 데 쓰는 정보가 없어 로그인에 사용할 수 없습니다.",
};

pub static EN: Text = Text {
    lang_name: "English",
    switch_label: "한국어",
    skip_to_content: "Skip to content",
    footer: "Any-ID · One login for public services",
    home_title: "Any-ID",
    home_body: "Any-ID signs citizens in to public services with the accounts and credentials they already have. Services send you here when you sign in.",
    sign_in: "Sign in",
    continue_to: "Sign in to continue to",
    choose_method: "Choose how to sign in",
    last_used: "Last used",
    unavailable: "Not available right now. Try again later or choose another way.",
    continue_with: "Continue with",
    demo_heading: "Demo citizens",
    demo_tag: "development only",
    demo_body: "Pick a demo citizen to sign in as. Real sign-in methods replace this outside development.",
    no_methods: "No sign-in method is enabled on this server yet.",
    consent_title: "Share your details",
    consent_lead: "This service will receive:",
    consent_note: "You can withdraw this later in your account. Any-ID records each time a service reads your details.",
    allow: "Allow and continue",
    deny: "Do not allow",
    scope_openid: "An identifier for you that only this service sees",
    scope_profile: "Your name, date of birth and language",
    scope_email: "Your email address",
    scope_phone: "Your phone number",
    scope_address: "Your postal address",
    scope_offline: "Access to these details while you are not using the service",
    error_title: "Sign-in could not continue",
    try_another: "Sign in another way",
    back_to_service: "Back to the service",
    signed_out_title: "You are signed out",
    signed_out_body: "You have signed out of Any-ID in this browser.",
    sign_out_title: "Sign out of Any-ID?",
    sign_out_body: "You will be signed out of every service that uses your Any-ID session in this browser.",
    sign_out: "Sign out",
    portal_title: "Your Any-ID account",
    portal_signed_in_as: "Signed in as",
    portal_methods: "Linked sign-in methods",
    portal_link_another: "Link another sign-in method",
    portal_unlink: "Unlink",
    portal_level: "Assurance",
    portal_last_used: "Last used",
    portal_sessions: "Signed-in devices (sessions)",
    portal_this_device: "This device",
    portal_started: "Signed in",
    portal_revoke: "Sign out this session",
    portal_revoke_all: "Sign out all sessions",
    portal_consents: "Services you share details with",
    portal_no_consents: "You do not share details with any service.",
    portal_withdraw: "Withdraw consent",
    portal_history: "Your sign-in history",
    portal_when: "When (UTC)",
    portal_method: "Method",
    portal_service: "Service",
    portal_from: "From",
    portal_none: "none",
    portal_linked: "The sign-in method is linked.",
    portal_unlinked: "The sign-in method is unlinked.",
    portal_revoked: "Done. It takes effect from the next request.",
    portal_sign_in_lead: "Sign in to manage your account.",
    err_missing_client: "The sign-in request does not say which service it comes from (client_id is missing).",
    err_unknown_client: "The service that sent you here is not registered with Any-ID.",
    err_missing_redirect: "The sign-in request has no return address (redirect_uri is missing).",
    err_unregistered_redirect: "The return address in the sign-in request is not registered for this service.",
    err_stale: "This sign-in has expired or was already completed. Please start again from the service you were using.",
    err_wrong_browser: "This sign-in was started in another browser or tab. Please start again from the service you were using.",
    err_bad_request: "The request is not valid.",
    err_server: "Any-ID could not complete your request. Please try again.",
    err_not_found: "There is no page at this address.",
    err_upstream_unavailable: "The sign-in method you chose is not available right now. Please choose another way.",
    err_upstream_refused: "The sign-in was cancelled or refused.",
    err_upstream_failed: "The answer from the sign-in method you chose could not be verified. Please try again or choose another way.",
    err_login_mismatch: "The sign-in answer does not match the sign-in that was started. Please try again.",
    err_linked_elsewhere: "This sign-in method is already linked to another Any-ID account.",
    err_last_method: "Your last sign-in method cannot be unlinked.",
    err_logout_unknown_token: "The sign-out request carries an ID token that Any-ID did not issue.",
    err_logout_two_clients: "The sign-out request names two different services.",
    err_logout_unregistered: "The address to return to after sign-out is not registered for this service.",
    err_insufficient_assurance: "The sign-in method you used does not reach the assurance this service requires. Please choose a stronger one.",
    step_up: "This service requires a higher assurance level. Please confirm who you are with one of these methods. Required level:",
    level_low: "low",
    level_substantial: "substantial",
    level_high: "high",
    passkey_heading: "Passkey",
    passkey_button: "Sign in with a passkey",
    passkey_pick: "Choose a saved passkey",
    passkey_hint: "Uses a passkey saved on this device or your phone, confirmed with your fingerprint, face or screen lock.",
    passkey_unsupported: "Passkeys are not available in this browser.",
    passkey_cancelled: "The passkey check was cancelled or failed. Please try again.",
    portal_passkeys: "Passkeys",
    portal_no_passkeys: "You have not registered a passkey.",
    portal_add_passkey: "Add a passkey",
    portal_passkey_name: "Passkey name",
    portal_rename: "Rename",
    portal_remove: "Remove",
    portal_registered: "Registered",
    portal_storage: "Storage",
    portal_synced: "Synced across devices",
    portal_device_bound: "This device only",
    portal_never: "Not used yet",
    portal_passkey_added: "The passkey is registered.",
    portal_passkey_renamed: "The passkey is renamed.",
    portal_passkey_removed: "The passkey is removed.",
    cert_heading: "Certificate",
    cert_sign_summary: "Sign with a joint certificate",
    cert_register: "Register a certificate",
    cert_lead: "Sign the challenge below with your certificate (such as a joint certificate) and paste the signature (PKCS#7). The challenge works once, for 2 minutes.",
    cert_challenge: "Challenge",
    cert_signature: "Signature (PKCS#7, Base64)",
    cert_submit: "Sign in with the certificate",
    cert_tls: "Use a certificate installed in your browser",
    step_up_signed_in: "You are signed in as:",
    step_up_adds: "Only a method already linked to this account, or one that proves the same person (the same national identity check), can raise its level. If this is not you, sign out.",
    err_passkey_failed: "The passkey could not be verified. Please try again or use another method.",
    err_passkey_unknown: "This passkey is not registered with Any-ID. Sign in another way, then register it in your account.",
    err_passkey_exists: "This passkey is already registered.",
    err_passkey_name: "Give the passkey a name of 1 to 64 characters.",
    err_cert_expired: "The certificate has expired. Please renew it and try again.",
    err_cert_not_yet_valid: "The certificate is not valid yet. Please check your device's date and time.",
    err_cert_revoked: "This certificate has been revoked. Please get a new certificate.",
    err_cert_unknown_issuer: "The certificate was issued by an authority Any-ID does not trust. Please use a certificate from an accepted authority.",
    err_cert_policy: "This certificate's policy does not allow signing in.",
    err_cert_key_usage: "This certificate is not meant for digital signatures, so it cannot be used to sign in.",
    err_cert_revocation_unknown: "Whether the certificate has been revoked cannot be checked right now. Please try again later.",
    err_cert_signature: "The signature did not verify: it was altered or it signs a different challenge.",
    err_cert_challenge: "The challenge has expired or was already used. Please sign a new one.",
    err_cert_malformed: "The signature could not be read. Please paste a PKCS#7 (CMS) signature in Base64.",
    err_cert_missing: "Your browser did not present a certificate. Install and choose one in your browser, then try again.",
    err_cert_not_registered: "This certificate is not registered to any account. Sign in another way, then register it in your account.",
    err_another_person: "This sign-in method carries another person's identity check than this account's, so it cannot be used here.",
    err_step_up_not_bound: "This method is not linked to the account you are signed in with, so it cannot raise that account's level. To protect the account, nothing was linked. If the method is yours, sign out and sign in with it directly.",
    err_too_many_requests: "There are too many sign-in requests from your network right now. Please wait a moment and try again.",
    err_bound_below_level: "This method was linked to your account during a sign-in of a lower level, so for this account it proves no more than that level, which is below what this service requires.",
    err_cert_no_identity: "This certificate lacks the information Any-ID uses to identify you, so it cannot be used to sign in.",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_explicit_switch_beats_ui_locales_which_beat_the_cookie_and_the_browser() {
        assert_eq!(
            Lang::negotiate(Some("en"), Some("ko"), Some("ko"), Some("ko")),
            Lang::En
        );
        assert_eq!(
            Lang::negotiate(None, Some("fr en-US"), Some("ko"), None),
            Lang::En
        );
        assert_eq!(
            Lang::negotiate(None, None, Some("en"), Some("ko-KR")),
            Lang::En
        );
        assert_eq!(
            Lang::negotiate(None, None, None, Some("fr;q=1, en;q=0.8, ko;q=0.9")),
            Lang::Ko
        );
        assert_eq!(
            Lang::negotiate(None, None, None, Some("en-GB,en;q=0.9")),
            Lang::En
        );
        assert_eq!(
            Lang::negotiate(None, Some("fr"), None, Some("de")),
            Lang::Ko
        );
    }

    proptest::proptest! {
        #[test]
        fn negotiation_never_panics(a in "\\PC{0,80}", b in "\\PC{0,80}") {
            let _ = Lang::negotiate(Some(&a), Some(&b), Some(&a), Some(&b));
        }
    }
}
