//! OAuth2 / OpenID Connect as FusionAuth has it: clients are applications with an OAuth
//! configuration (`client.rs`), the authorize step with its hosted login and SSO session
//! (`authorize.rs`), the token endpoint's grants and the id token (`token.rs`), userinfo and
//! introspection (`inspect.rs`) and logout (`logout.rs`).
//!
//! Everything a client can make the server keep — authorization codes, SSO sessions and
//! login forms (their CSRF token) — is a record with an expiry instant by vlsim's clock,
//! stored by the SHA-256 of its secret value, capped in number, and removed when used,
//! when found expired, or by [`FusionAuth::sweep_expired`].

mod authorize;
mod client;
mod inspect;
mod logout;
mod token;

use super::FusionAuth;
use crate::core::error::{CoreError, CoreResult};

use crate::store::{trees, Store, StoreResult, Table};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

pub use authorize::{
    Authorization, AuthorizeParams, AuthorizeRefusal, FormLogin, Granted, LoginRefusal,
    ResponseMode,
};
pub use client::{is_loopback_redirect, Client, ClientCredentials};
pub use inspect::{Introspection, TokenHint};
pub use logout::{LogoutParams, LogoutTarget};
pub use token::{TokenParams, TokenResponse};

/// How long a hosted login form (its CSRF token) stays usable.
pub const LOGIN_FORM_TTL_SECS: i64 = 900;
/// At most this many pending records of each kind; past it, expired ones are swept first
/// and then new ones refused (503 / `temporarily_unavailable`).
const MAX_PENDING: usize = 100_000;
/// Expired records removed per sweep made to find room.
const SWEEP_FOR_ROOM: usize = 10_000;

/// RFC 6749's `error` values vlsim answers with (and FusionAuth's `not_licensed`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    InvalidScope,
    InvalidToken,
    UnauthorizedClient,
    UnsupportedGrantType,
    UnsupportedResponseType,
    UnsupportedTokenType,
    LoginRequired,
    NotLicensed,
    ServerError,
    TemporarilyUnavailable,
}

impl ErrorCode {
    pub fn name(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::InvalidScope => "invalid_scope",
            Self::InvalidToken => "invalid_token",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::UnsupportedTokenType => "unsupported_token_type",
            Self::LoginRequired => "login_required",
            Self::NotLicensed => "not_licensed",
            Self::ServerError => "server_error",
            Self::TemporarilyUnavailable => "temporarily_unavailable",
        }
    }
}

/// An OAuth2 refusal: RFC 6749's `error`, FusionAuth's `error_reason`, a description.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {description}", error.name())]
pub struct OAuthFailure {
    pub error: ErrorCode,
    pub reason: Option<&'static str>,
    pub description: String,
}

impl OAuthFailure {
    pub fn new(error: ErrorCode, reason: &'static str, description: impl Into<String>) -> Self {
        Self {
            error,
            reason: Some(reason),
            description: description.into(),
        }
    }

    pub fn invalid_request(reason: &'static str, description: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidRequest, reason, description)
    }

    /// "The request is missing a required parameter: NAME" (`missing_NAME`).
    pub fn missing(reason: &'static str, parameter: &str) -> Self {
        Self::invalid_request(
            reason,
            format!("The request is missing a required parameter: {parameter}"),
        )
    }
}

impl From<CoreError> for OAuthFailure {
    fn from(e: CoreError) -> Self {
        match e {
            CoreError::Store(_) | CoreError::Internal(_) => {
                tracing::error!(error = %e, "oauth2 request failed");
                Self {
                    error: ErrorCode::ServerError,
                    reason: None,
                    description: "vlsim failed to complete the request.".into(),
                }
            }
            CoreError::Conflict(m) => Self {
                error: ErrorCode::TemporarilyUnavailable,
                reason: None,
                description: m,
            },
            other => Self {
                error: ErrorCode::InvalidRequest,
                reason: None,
                description: other.to_string(),
            },
        }
    }
}

impl From<crate::store::StoreError> for OAuthFailure {
    fn from(e: crate::store::StoreError) -> Self {
        CoreError::from(e).into()
    }
}

/// A record that stops counting at an instant (milliseconds).
trait Expiring {
    fn expires_ms(&self) -> i64;
}

/// An authorization code, single use, stored by the SHA-256 of its value.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AuthCode {
    pub client_id: String,
    pub tenant_id: String,
    pub user_id: String,
    /// The authorize request's `redirect_uri`: the token request must repeat it exactly.
    pub redirect_uri: String,
    pub scopes: Vec<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    /// `S256` or `plain`.
    pub code_challenge_method: Option<String>,
    /// Seconds.
    pub auth_time: i64,
    pub authentication_type: String,
    /// The SSO session the code came from (the id token's `sid`).
    pub sso_session_id: Option<String>,
    /// The OAuth issuer the authorize response named (`iss`), so the tokens say the same.
    pub issuer: String,
    pub created_ms: i64,
    pub expires_ms: i64,
}

impl Expiring for AuthCode {
    fn expires_ms(&self) -> i64 {
        self.expires_ms
    }
}

/// A hosted-login SSO session (`fusionauth.sso` cookie), stored by the SHA-256 of the
/// cookie's value; `id` is its public name (the id token's `sid`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SsoSession {
    pub id: String,
    pub tenant_id: String,
    pub user_id: String,
    /// Seconds.
    pub auth_time: i64,
    pub created_ms: i64,
    pub expires_ms: i64,
}

impl Expiring for SsoSession {
    fn expires_ms(&self) -> i64 {
        self.expires_ms
    }
}

/// A hosted login form that was served: its CSRF token must come back with the form.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LoginForm {
    pub client_id: String,
    pub created_ms: i64,
    pub expires_ms: i64,
}

impl Expiring for LoginForm {
    fn expires_ms(&self) -> i64 {
        self.expires_ms
    }
}

/// The OAuth relations.
pub struct OAuthTables {
    codes: Table<AuthCode>,
    sso: Table<SsoSession>,
    logins: Table<LoginForm>,
}

impl OAuthTables {
    pub fn open(store: &Store) -> StoreResult<Self> {
        Ok(Self {
            codes: store.table(trees::FA_OAUTH_CODES)?,
            sso: store.table(trees::FA_OAUTH_SSO)?,
            logins: store.table(trees::FA_OAUTH_LOGINS)?,
        })
    }
}

/// How many records of each kind are stored (expired ones included).
#[derive(Debug, Clone, Copy, Serialize, Default, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct OAuthCounts {
    pub authorization_codes: usize,
    pub sso_sessions: usize,
    pub login_forms: usize,
}

/// Removes up to `limit` records of `table` that expired at or before `now_ms`.
fn sweep<T: Expiring + Serialize + DeserializeOwned>(
    table: &Table<T>,
    now_ms: i64,
    limit: usize,
) -> CoreResult<usize> {
    let mut removed = 0;
    for (key, record) in table.all()? {
        if removed >= limit {
            break;
        }
        // Only if unchanged: a record renewed meanwhile stays.
        if record.expires_ms() <= now_ms && table.remove_if_unchanged(&key, &record)? {
            removed += 1;
        }
    }
    Ok(removed)
}

fn sweep_page<T: Expiring + Serialize + DeserializeOwned>(
    table: &Table<T>,
    now_ms: i64,
    after: Option<&[u8]>,
    limit: usize,
) -> CoreResult<crate::core::sweep::Batch> {
    crate::core::sweep::table(
        table,
        after,
        limit,
        |r| r.expires_ms() <= now_ms,
        |_| Ok(()),
    )
}

/// Makes sure one more record fits under [`MAX_PENDING`].
fn make_room<T: Expiring + Serialize + DeserializeOwned>(
    table: &Table<T>,
    now_ms: i64,
    what: &str,
) -> CoreResult<()> {
    if table.len() < MAX_PENDING {
        return Ok(());
    }
    sweep(table, now_ms, SWEEP_FOR_ROOM)?;
    if table.len() < MAX_PENDING {
        Ok(())
    } else {
        Err(CoreError::Conflict(format!(
            "Too many pending {what}; try again when some have expired."
        )))
    }
}

impl FusionAuth<'_> {
    fn oauth(&self) -> &OAuthTables {
        &self.state.oauth
    }

    /// Removes up to `limit` (in total) authorization codes, SSO sessions and login forms
    /// that expired at or before `now_ms`; returns how many. For a background sweeper:
    /// expired records are also ignored and removed when they are next presented.
    pub fn sweep_expired(&self, now_ms: i64, limit: usize) -> CoreResult<usize> {
        let t = self.oauth();
        let mut removed = sweep(&t.codes, now_ms, limit)?;
        removed += sweep(&t.sso, now_ms, limit.saturating_sub(removed))?;
        removed += sweep(&t.logins, now_ms, limit.saturating_sub(removed))?;
        Ok(removed)
    }

    /// The background sweeper's passes: expired authorization codes, SSO sessions and
    /// login forms, at most `limit` records after the key `after` each.
    pub fn sweep_oauth_codes(
        &self,
        now_ms: i64,
        after: Option<&[u8]>,
        limit: usize,
    ) -> CoreResult<crate::core::sweep::Batch> {
        sweep_page(&self.oauth().codes, now_ms, after, limit)
    }

    pub fn sweep_sso_sessions(
        &self,
        now_ms: i64,
        after: Option<&[u8]>,
        limit: usize,
    ) -> CoreResult<crate::core::sweep::Batch> {
        sweep_page(&self.oauth().sso, now_ms, after, limit)
    }

    pub fn sweep_login_forms(
        &self,
        now_ms: i64,
        after: Option<&[u8]>,
        limit: usize,
    ) -> CoreResult<crate::core::sweep::Batch> {
        sweep_page(&self.oauth().logins, now_ms, after, limit)
    }

    pub fn oauth_counts(&self) -> OAuthCounts {
        let t = self.oauth();
        OAuthCounts {
            authorization_codes: t.codes.len(),
            sso_sessions: t.sso.len(),
            login_forms: t.logins.len(),
        }
    }

    /// A page of stored SSO sessions in key order (the admin state dump).
    pub fn sso_session_page(
        &self,
        after: Option<&[u8]>,
        limit: usize,
    ) -> CoreResult<crate::store::Page<SsoSession>> {
        Ok(self.oauth().sso.page(after, limit)?)
    }

    /// Every stored SSO session (expired ones included).
    pub fn sso_sessions(&self) -> CoreResult<Vec<SsoSession>> {
        Ok(self
            .oauth()
            .sso
            .all()?
            .into_iter()
            .map(|(_, s)| s)
            .collect())
    }
}

/// Space-separated scopes, each once, in the order given.
pub fn parse_scopes(scope: Option<&str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in scope.unwrap_or_default().split_ascii_whitespace() {
        if !out.iter().any(|o| o == s) {
            out.push(s.to_string());
        }
    }
    out
}

/// RFC 7636 §4.1: 43 to 128 characters of `[A-Za-z0-9-._~]` (verifiers and, for
/// `plain`/S256, challenges alike).
pub fn valid_pkce_value(value: &str) -> bool {
    (43..=128).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}
