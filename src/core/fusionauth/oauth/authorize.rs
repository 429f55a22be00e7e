//! `/oauth2/authorize`: the request's checks in FusionAuth's order (those that cannot trust
//! the redirect URI answer on an error page, the rest on the redirect), the hosted login
//! (password, CSRF token of the served form, SSO session) and the authorization code.

use super::client::{client_of, grant_disabled};
use super::{
    make_room, valid_pkce_value, AuthCode, Client, ErrorCode, LoginForm, OAuthFailure, SsoSession,
    LOGIN_FORM_TTL_SECS,
};
use crate::core::error::{CoreError, CoreResult};
use crate::core::fusionauth::{sha256_hex, FusionAuth, User};
use crate::core::identity::random_token;
use crate::spec::fusionauth::{OAuthGrant, PkcePolicy};

/// Random bytes in codes, SSO cookies and CSRF tokens.
const SECRET_BYTES: usize = 32;

/// The authorize request's parameters, as sent.
#[derive(Debug, Clone, Default)]
pub struct AuthorizeParams {
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub response_type: Option<String>,
    pub response_mode: Option<String>,
    pub scope: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub prompt: Option<String>,
}

/// How the authorization response travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseMode {
    Query,
    FormPost,
}

/// A checked authorize request.
#[derive(Debug, Clone)]
pub struct Authorization {
    pub client: Client,
    pub redirect_uri: String,
    pub mode: ResponseMode,
    pub scopes: Vec<String>,
    pub nonce: Option<String>,
    /// (challenge, `S256` | `plain`)
    pub challenge: Option<(String, String)>,
    pub prompt_none: bool,
    pub prompt_login: bool,
    /// The `iss` the response and the tokens carry.
    pub issuer: String,
}

/// Why an authorize request is refused, and how the refusal travels.
#[derive(Debug, Clone)]
pub enum AuthorizeRefusal {
    /// The client or its redirect URI cannot be trusted: an error page, never a redirect.
    Page(OAuthFailure),
    /// Back to the (checked) redirect URI with `error`.
    Redirect {
        failure: OAuthFailure,
        redirect_uri: String,
        mode: ResponseMode,
        issuer: String,
    },
}

/// A code for the client.
#[derive(Debug, Clone)]
pub struct Granted {
    pub code: String,
    /// FusionAuth's `userState`: `Authenticated` or `AuthenticatedNotRegistered`.
    pub user_state: &'static str,
}

/// A successful hosted login: the SSO cookie and the code.
#[derive(Debug, Clone)]
pub struct FormLogin {
    pub sso_token: String,
    pub sso_max_age_secs: i64,
    pub granted: Granted,
}

/// Why the hosted login form is shown again.
#[derive(Debug)]
pub enum LoginRefusal {
    /// "Invalid login credentials."
    InvalidCredentials,
    /// The application requires registration and the user has none.
    NotRegistered,
    /// The form's CSRF token is missing, forged or expired.
    Csrf,
    Failed(OAuthFailure),
}

impl From<CoreError> for LoginRefusal {
    fn from(e: CoreError) -> Self {
        Self::Failed(e.into())
    }
}

impl From<crate::store::StoreError> for LoginRefusal {
    fn from(e: crate::store::StoreError) -> Self {
        Self::Failed(e.into())
    }
}

fn page(
    error: ErrorCode,
    reason: &'static str,
    description: impl Into<String>,
) -> AuthorizeRefusal {
    AuthorizeRefusal::Page(OAuthFailure::new(error, reason, description))
}

impl FusionAuth<'_> {
    /// Checks an authorize request made to vlsim at `origin` (`scheme://host`).
    pub fn authorize_request(
        &self,
        p: &AuthorizeParams,
        origin: &str,
    ) -> Result<Authorization, AuthorizeRefusal> {
        let given = |v: &Option<String>| v.clone().filter(|s| !s.is_empty());
        let Some(redirect_uri) = given(&p.redirect_uri) else {
            return Err(AuthorizeRefusal::Page(OAuthFailure::missing(
                "missing_redirect_uri",
                "redirect_uri",
            )));
        };
        let Some(client_id) = given(&p.client_id) else {
            return Err(AuthorizeRefusal::Page(OAuthFailure::missing(
                "missing_client_id",
                "client_id",
            )));
        };
        let dir = self.directory();
        let client = client_of(&dir, &client_id).ok_or_else(|| {
            page(
                ErrorCode::InvalidClient,
                "invalid_client_id",
                format!("client_id: {client_id} is not valid."),
            )
        })?;
        let challenge = match given(&p.code_challenge) {
            None => None,
            Some(c) if !valid_pkce_value(&c) => {
                return Err(page(
                    ErrorCode::InvalidRequest,
                    "invalid_pkce_code_challenge",
                    "Invalid code_challenge, see https://tools.ietf.org/html/rfc7636#section-4.2 for requirements.",
                ))
            }
            Some(c) => {
                // Absent means S256, as FusionAuth reads it; `plain` is a vlsim addition.
                let method = given(&p.code_challenge_method).unwrap_or_else(|| "S256".into());
                if method != "S256" && method != "plain" {
                    return Err(page(
                        ErrorCode::InvalidRequest,
                        "invalid_pkce_code_challenge_method",
                        "The code_challenge_method must be S256 or plain.",
                    ));
                }
                Some((c, method))
            }
        };
        if !client.allows_redirect(&redirect_uri) {
            return Err(page(
                ErrorCode::InvalidRequest,
                "invalid_redirect_uri",
                format!("Invalid redirect_uri {redirect_uri}"),
            ));
        }
        let issuer = client.tenant.oauth_issuer(origin);
        let mode = match p.response_mode.as_deref().filter(|m| !m.is_empty()) {
            None | Some("query") => Ok(ResponseMode::Query),
            Some("form_post") => Ok(ResponseMode::FormPost),
            Some(_) => Err(OAuthFailure::invalid_request(
                "invalid_response_mode",
                "Parameter response_mode must be set to 'form_post' or 'query'.",
            )),
        };
        let refuse = |failure: OAuthFailure, mode: ResponseMode| AuthorizeRefusal::Redirect {
            failure,
            redirect_uri: redirect_uri.clone(),
            mode,
            issuer: issuer.clone(),
        };
        let response_type = given(&p.response_type).ok_or_else(|| {
            refuse(
                OAuthFailure::missing("missing_response_type", "response_type"),
                ResponseMode::Query,
            )
        })?;
        if challenge.is_none()
            && client.config.proof_key_for_code_exchange_policy == PkcePolicy::Required
        {
            return Err(refuse(
                OAuthFailure::missing("missing_code_challenge", "code_challenge"),
                ResponseMode::Query,
            ));
        }
        if response_type != "code" {
            return Err(refuse(
                OAuthFailure::new(
                    ErrorCode::UnsupportedResponseType,
                    "invalid_response_type",
                    "Parameter response_type must be set to code.",
                ),
                ResponseMode::Query,
            ));
        }
        let mode = mode.map_err(|f| refuse(f, ResponseMode::Query))?;
        if !client.grant_enabled(OAuthGrant::AuthorizationCode) {
            return Err(refuse(grant_disabled(OAuthGrant::AuthorizationCode), mode));
        }
        let prompts: Vec<&str> = p
            .prompt
            .as_deref()
            .unwrap_or_default()
            .split_ascii_whitespace()
            .collect();
        let prompt_none = prompts.contains(&"none");
        if prompt_none && prompts.len() > 1 {
            return Err(refuse(
                OAuthFailure::invalid_request(
                    "invalid_prompt",
                    "Parameter prompt may only contain a single value when requesting 'none'.",
                ),
                mode,
            ));
        }
        Ok(Authorization {
            scopes: super::parse_scopes(p.scope.as_deref()),
            nonce: given(&p.nonce),
            challenge,
            prompt_none,
            prompt_login: prompts.contains(&"login"),
            issuer,
            redirect_uri,
            mode,
            client,
        })
    }

    /// The live SSO session of the `fusionauth.sso` cookie value `token` in `tenant_id`.
    pub fn sso_session(&self, token: &str, tenant_id: &str) -> CoreResult<Option<SsoSession>> {
        let key = sha256_hex(token);
        let sso = &self.oauth().sso;
        let Some(session) = sso.get(&key)? else {
            return Ok(None);
        };
        if session.expires_ms <= self.svc.clock.now_ms() {
            sso.remove_if_unchanged(&key, &session)?;
            return Ok(None);
        }
        Ok(Some(session).filter(|s| s.tenant_id == tenant_id))
    }

    /// Serves a login form: a new CSRF token, stored until it is used or expires.
    pub async fn new_login_form(&self, client: &Client) -> CoreResult<String> {
        let now = self.svc.clock.now_ms();
        let logins = &self.oauth().logins;
        make_room(logins, now, "login forms")?;
        let token = random_token(SECRET_BYTES);
        let form = LoginForm {
            client_id: client.id().to_string(),
            created_ms: now,
            expires_ms: now.saturating_add(LOGIN_FORM_TTL_SECS.saturating_mul(1000)),
        };
        logins.put(sha256_hex(&token), &form)?;
        self.svc.store.flush().await?;
        Ok(token)
    }

    /// A code for the user of a live SSO session (the form is skipped).
    pub async fn authorize_with_session(
        &self,
        auth: &Authorization,
        session: &SsoSession,
    ) -> Result<Granted, LoginRefusal> {
        let user = self
            .user(&session.user_id)?
            .filter(|u| u.active)
            .ok_or(LoginRefusal::InvalidCredentials)?;
        let (code, record, granted) = self.new_code(auth, &user, session, "PING")?;
        self.oauth().codes.put(sha256_hex(&code), &record)?;
        self.svc.store.flush().await?;
        Ok(granted)
    }

    /// The hosted form was posted: checks the CSRF token (the cookie's value equals the
    /// field's, as the caller checked, and it names a live form of this client) and the
    /// password, then starts an SSO session and issues a code, in one transaction.
    pub async fn authorize_with_password(
        &self,
        auth: &Authorization,
        csrf: &str,
        login_id: &str,
        password: &str,
    ) -> Result<FormLogin, LoginRefusal> {
        let now = self.svc.clock.now_ms();
        let t = self.oauth();
        let form_key = sha256_hex(csrf);
        let form = t
            .logins
            .get(&form_key)?
            .filter(|f| f.expires_ms > now && f.client_id == auth.client.id())
            .ok_or(LoginRefusal::Csrf)?;
        let user = self
            .check_password(
                &auth.client.tenant.id,
                login_id,
                password,
                Some(auth.client.id()),
            )
            .map_err(|e| match e {
                CoreError::InvalidCredentials(_) => LoginRefusal::InvalidCredentials,
                other => other.into(),
            })?;
        if auth.client.config.require_registration && user.registration(auth.client.id()).is_none()
        {
            return Err(LoginRefusal::NotRegistered);
        }
        make_room(&t.sso, now, "SSO sessions")?;
        make_room(&t.codes, now, "authorization codes")?;
        let ttl = auth.client.tenant.sso_ttl_secs();
        let sso_token = random_token(SECRET_BYTES);
        let session = SsoSession {
            id: uuid::Uuid::new_v4().to_string(),
            tenant_id: auth.client.tenant.id.clone(),
            user_id: user.id.clone(),
            auth_time: now.div_euclid(1000),
            created_ms: now,
            expires_ms: now.saturating_add(ttl.saturating_mul(1000)),
        };
        let (code, record, granted) = self.new_code(auth, &user, &session, "PASSWORD")?;
        // The form is used up, the session and the code arrive: all or nothing.
        let done = self.svc.store.transact(&[
            t.logins.expect_op(&form_key, &form)?,
            t.logins.remove_op(&form_key),
            t.sso.put_op(sha256_hex(&sso_token), &session)?,
            t.codes.put_op(sha256_hex(&code), &record)?,
        ])?;
        if !done {
            return Err(LoginRefusal::Csrf);
        }
        let mut user = user;
        user.logged_in(Some(auth.client.id()), now);
        self.put_user(&user)?;
        self.svc.store.flush().await?;
        self.login_success_event(&user, Some(auth.client.id()), "PASSWORD", None);
        Ok(FormLogin {
            sso_token,
            sso_max_age_secs: ttl,
            granted,
        })
    }

    fn new_code(
        &self,
        auth: &Authorization,
        user: &User,
        session: &SsoSession,
        authentication_type: &str,
    ) -> Result<(String, AuthCode, Granted), LoginRefusal> {
        let now = self.svc.clock.now_ms();
        make_room(&self.oauth().codes, now, "authorization codes")?;
        let registered = user.registration(auth.client.id()).is_some();
        if auth.client.config.require_registration && !registered {
            return Err(LoginRefusal::NotRegistered);
        }
        let code = random_token(SECRET_BYTES);
        let ttl = auth.client.tenant.code_ttl_secs();
        let record = AuthCode {
            client_id: auth.client.id().to_string(),
            tenant_id: auth.client.tenant.id.clone(),
            user_id: user.id.clone(),
            redirect_uri: auth.redirect_uri.clone(),
            scopes: auth.scopes.clone(),
            nonce: auth.nonce.clone(),
            code_challenge: auth.challenge.as_ref().map(|(c, _)| c.clone()),
            code_challenge_method: auth.challenge.as_ref().map(|(_, m)| m.clone()),
            auth_time: session.auth_time,
            authentication_type: authentication_type.to_string(),
            sso_session_id: Some(session.id.clone()),
            issuer: auth.issuer.clone(),
            created_ms: now,
            expires_ms: now.saturating_add(ttl.saturating_mul(1000)),
        };
        let granted = Granted {
            code: code.clone(),
            user_state: if registered {
                "Authenticated"
            } else {
                "AuthenticatedNotRegistered"
            },
        };
        Ok((code, record, granted))
    }
}
