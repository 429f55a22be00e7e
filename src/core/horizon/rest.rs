//! REST API logins (`/rest/login`, `/rest/refresh`, `/rest/logout`): an access and a
//! refresh JWT, both signed with the Connection Server key `JwtToken_GetPublicKeys`
//! publishes, told apart by their `token_use` claim and tied to one login by `sid`.
//!
//! A login is one sled record (with the instant it expires: its refresh token's `exp`) and
//! an entry in an expiry index, written in one transaction and flushed before the client
//! hears of it. Logout removes both, so every token of the login is refused from then on;
//! [`Horizon::sweep_expired`] removes expired logins in bounded batches (every login sweeps
//! a few, and a background sweeper may call it too).

use super::{Horizon, HorizonUser, PRIVILEGE_GENERATE_JWT};
use crate::core::error::{CoreError, CoreResult};
use crate::core::events::NewEvent;
use crate::core::identity::verify_password;
use crate::core::tokens::{self, Expectations, Verified};
use crate::store::RecentDecodes;
use crate::surface::Surface;
use serde::{Deserialize, Serialize};
use std::cell::RefCell;

pub const EVENT_REST_LOGIN: &str = "REST_AUTH_LOGIN_SUCCESS";
pub const EVENT_REST_LOGIN_FAILED: &str = "REST_AUTH_LOGIN_FAILURE";
pub const EVENT_REST_LOGOUT: &str = "REST_AUTH_LOGOUT_SUCCESS";
/// The Horizon module of the REST API's events.
const REST_MODULE: &str = "Rest";
/// The privilege that lets an administrator read through the REST API without changing
/// anything (the `auditor` fixture).
pub const PRIVILEGE_VIEW: &str = "ADMINISTRATOR_VIEW";
/// How many expired logins each new login removes on its way.
const SWEEP_ON_LOGIN: usize = 16;

thread_local! {
    /// Logins this worker decoded lately: a client sends one login's token call after call.
    static RECENT_LOGINS: RefCell<RecentDecodes<RestLogin>> =
        const { RefCell::new(RecentDecodes::new()) };
}

/// Which of a login's tokens a JWT is (its `token_use` claim).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenUse {
    Access,
    Refresh,
}

impl TokenUse {
    pub fn claim(self) -> &'static str {
        match self {
            Self::Access => "access",
            Self::Refresh => "refresh",
        }
    }
}

/// One REST login: what its tokens stand for until it expires or is logged out.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RestLogin {
    /// The `sid` claim of its tokens.
    pub id: String,
    pub principal: String,
    pub privileges: Vec<String>,
    /// `jti` of its refresh token.
    pub refresh_jti: String,
    pub created_ms: i64,
    /// When the refresh token (and so the login) expires.
    pub expires_ms: i64,
}

/// What `/rest/login` answers.
#[derive(Debug, Clone)]
pub struct RestTokens {
    pub access_token: String,
    pub refresh_token: String,
}

/// Who a valid access token speaks for.
#[derive(Debug, Clone, PartialEq)]
pub struct RestCaller {
    pub login_id: String,
    pub principal: String,
    pub privileges: Vec<String>,
}

/// What a REST call needs of its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestAccess {
    /// Reading (both administrator roles).
    Read,
    /// Changing something (full administrators only).
    Write,
}

impl RestCaller {
    fn has(&self, privilege: &str) -> bool {
        self.privileges.iter().any(|p| p == privilege)
    }

    /// 403 (`PermissionDenied`) unless the caller's role allows `access`.
    pub fn require(&self, access: RestAccess) -> CoreResult<()> {
        let ok = match access {
            RestAccess::Read => self.has(PRIVILEGE_GENERATE_JWT) || self.has(PRIVILEGE_VIEW),
            RestAccess::Write => self.has(PRIVILEGE_GENERATE_JWT),
        };
        if ok {
            return Ok(());
        }
        Err(CoreError::PermissionDenied {
            message: format!(
                "User {} does not have sufficient permission to {} through the REST API.",
                self.principal,
                if access == RestAccess::Read {
                    "read"
                } else {
                    "make changes"
                }
            ),
            privileges: vec![PRIVILEGE_GENERATE_JWT.to_string()],
        })
    }
}

/// The claims of a REST token (fields in the order a map would sort them).
#[derive(Serialize)]
struct RestClaims<'a> {
    domain: &'a str,
    exp: i64,
    iat: i64,
    iss: &'a str,
    jti: &'a str,
    sid: &'a str,
    sub: &'a str,
    token_use: &'static str,
    username: &'a str,
}

/// Index key: expiry (big-endian, so the oldest come first) then the login id.
fn expiry_key(expires_ms: i64, id: &str) -> Vec<u8> {
    let mut key = expires_ms.max(0).to_be_bytes().to_vec();
    key.extend_from_slice(id.as_bytes());
    key
}

fn not_authenticated() -> CoreError {
    CoreError::NotAuthenticated("User is not authenticated".into())
}

fn invalid_refresh(why: impl std::fmt::Display) -> CoreError {
    CoreError::InvalidToken(format!(
        "The refresh token is invalid, expired or logged out: {why}"
    ))
}

impl Horizon<'_> {
    fn rest_event(&self, event_type: &'static str, success: bool, user: String) -> NewEvent {
        NewEvent::audit(
            event_type,
            success,
            REST_MODULE,
            Surface::HorizonRest,
            Some(user),
        )
    }

    /// `DOMAIN\user` as a login attempt named it (for the failure event).
    fn typed_principal(&self, username: &str, domain: &str) -> String {
        if username.contains('\\') {
            return username.to_string();
        }
        let settings = self.settings();
        let (name, domain) = match username.split_once('@') {
            Some((n, d)) => (n, d),
            None if domain.trim().is_empty() => (username, settings.domain.as_str()),
            None => (username, domain),
        };
        format!("{}\\{}", domain.trim().to_uppercase(), name.trim())
    }

    /// `POST /rest/login`: checks the password (names as on the SOAP surface), stores the
    /// login durably and returns its two tokens. Records `REST_AUTH_LOGIN_SUCCESS` or
    /// `REST_AUTH_LOGIN_FAILURE`.
    pub async fn rest_login(
        &self,
        username: &str,
        password: &str,
        domain: &str,
    ) -> CoreResult<RestTokens> {
        let user = self
            .find_user(username, domain)?
            .filter(|u| verify_password(password, &u.password_hash));
        let Some(user) = user else {
            let who = self.typed_principal(username, domain);
            self.svc.events.record(NewEvent {
                message: format!("User {who} has failed to login to Horizon Server REST API"),
                ..self.rest_event(EVENT_REST_LOGIN_FAILED, false, who)
            })?;
            return Err(CoreError::InvalidCredentials(
                "Invalid user name, password or domain".into(),
            ));
        };
        let now_ms = self.svc.clock.now_ms();
        // Expired logins go with new ones, so their number stays bounded without a sweeper.
        self.sweep_expired(now_ms, SWEEP_ON_LOGIN)?;
        let tokens = self.open_rest_login(&user, now_ms).await?;
        self.svc.events.record(NewEvent {
            message: format!(
                "User {} has logged in to Horizon Server REST API",
                user.principal()
            ),
            ..self.rest_event(EVENT_REST_LOGIN, true, user.principal())
        })?;
        Ok(tokens)
    }

    async fn open_rest_login(&self, user: &HorizonUser, now_ms: i64) -> CoreResult<RestTokens> {
        let settings = self.settings();
        let now = now_ms.div_euclid(1000);
        let refresh_exp =
            now.saturating_add(settings.rest_refresh_token_ttl_minutes.saturating_mul(60));
        let login = RestLogin {
            id: uuid::Uuid::new_v4().to_string(),
            principal: user.principal(),
            privileges: user.privileges.clone(),
            refresh_jti: uuid::Uuid::new_v4().to_string(),
            created_ms: now_ms,
            expires_ms: refresh_exp.saturating_mul(1000),
        };
        let refresh_token = self.mint_rest(&login, TokenUse::Refresh, now, refresh_exp)?;
        let access_token = self.mint_access(&login, now)?;
        let ops = [
            self.state.rest_logins.put_op(&login.id, &login)?,
            self.state
                .rest_expiry
                .put_op(expiry_key(login.expires_ms, &login.id), &login.id)?,
        ];
        if !self.svc.store.transact(&ops)? {
            return Err(CoreError::Internal("storing a REST login failed".into()));
        }
        self.svc.store.flush().await?;
        Ok(RestTokens {
            access_token,
            refresh_token,
        })
    }

    /// An access token for `login`, living the configured TTL but never past the login.
    fn mint_access(&self, login: &RestLogin, now: i64) -> CoreResult<String> {
        let ttl = self
            .settings()
            .rest_access_token_ttl_minutes
            .saturating_mul(60);
        let exp = now
            .saturating_add(ttl)
            .min(login.expires_ms.div_euclid(1000));
        self.mint_rest(login, TokenUse::Access, now, exp)
    }

    fn mint_rest(
        &self,
        login: &RestLogin,
        token_use: TokenUse,
        now: i64,
        exp: i64,
    ) -> CoreResult<String> {
        let settings = self.settings();
        let key = self.svc.keys.get(&settings.signing_key)?;
        let (domain, username) = login
            .principal
            .split_once('\\')
            .unwrap_or((settings.domain.as_str(), login.principal.as_str()));
        let jti = match token_use {
            TokenUse::Refresh => login.refresh_jti.clone(),
            TokenUse::Access => uuid::Uuid::new_v4().to_string(),
        };
        tokens::mint(
            &key,
            &RestClaims {
                domain,
                exp,
                iat: now,
                iss: &settings.connection_server_name,
                jti: &jti,
                sid: &login.id,
                sub: &login.principal,
                token_use: token_use.claim(),
                username,
            },
        )
    }

    /// Verifies a REST token of `token_use` and finds its live login.
    fn rest_token(&self, token: &str, token_use: TokenUse) -> CoreResult<(Verified, RestLogin)> {
        let settings = self.settings();
        let expect = Expectations {
            issuers: Some(std::slice::from_ref(&settings.connection_server_name)),
            ..Default::default()
        };
        let ring = self.svc.keys.ring();
        let now_ms = self.svc.clock.now_ms();
        let verified = tokens::verify(&ring, token, now_ms.div_euclid(1000), &expect)?;
        if verified.key.id != settings.signing_key {
            return Err(CoreError::InvalidToken(
                "the token is not signed by the Connection Server key".into(),
            ));
        }
        if verified.claim_str("token_use") != Some(token_use.claim()) {
            return Err(CoreError::InvalidToken(format!(
                "the token is not a REST {} token",
                token_use.claim()
            )));
        }
        let login = verified
            .claim_str("sid")
            .map(|sid| self.state.rest_logins.get_recent(sid, &RECENT_LOGINS))
            .transpose()?
            .flatten()
            .filter(|l| now_ms < l.expires_ms)
            .ok_or_else(|| CoreError::InvalidToken("the login has ended".into()))?;
        if token_use == TokenUse::Refresh && verified.claim_str("jti") != Some(&login.refresh_jti) {
            return Err(CoreError::InvalidToken(
                "the token is not this login's refresh token".into(),
            ));
        }
        Ok((verified, login))
    }

    /// The caller an `Authorization: Bearer` access token speaks for; `NotAuthenticated`
    /// when it is malformed, forged, expired, a refresh token, or its login is over.
    pub fn rest_caller(&self, access_token: &str) -> CoreResult<RestCaller> {
        let (_, login) = self
            .rest_token(access_token, TokenUse::Access)
            .map_err(|e| {
                tracing::debug!(reason = %e, "REST bearer refused");
                not_authenticated()
            })?;
        Ok(RestCaller {
            login_id: login.id,
            principal: login.principal,
            privileges: login.privileges,
        })
    }

    /// `POST /rest/refresh`: a new access token of the login (the refresh token is not
    /// rotated). `InvalidToken` for anything but a live login's refresh token.
    pub fn rest_refresh(&self, refresh_token: &str) -> CoreResult<String> {
        let (_, login) = self
            .rest_token(refresh_token, TokenUse::Refresh)
            .map_err(invalid_refresh)?;
        self.mint_access(&login, self.svc.clock.now_secs())
    }

    /// `POST /rest/logout`: ends the login durably, so none of its tokens works again.
    /// Records `REST_AUTH_LOGOUT_SUCCESS`.
    pub async fn rest_logout(&self, refresh_token: &str) -> CoreResult<()> {
        let (_, login) = self
            .rest_token(refresh_token, TokenUse::Refresh)
            .map_err(invalid_refresh)?;
        self.end_rest_login(&login).await
    }

    /// Every stored REST login (expired ones not yet swept included), oldest first.
    pub fn rest_logins(&self) -> CoreResult<Vec<RestLogin>> {
        let mut logins: Vec<RestLogin> = self
            .state
            .rest_logins
            .all()?
            .into_iter()
            .map(|(_, l)| l)
            .collect();
        logins.sort_by_key(|l| l.created_ms);
        Ok(logins)
    }

    /// A page of stored REST logins in key order (the admin state dump).
    pub fn rest_login_page(
        &self,
        after: Option<&[u8]>,
        limit: usize,
    ) -> CoreResult<crate::store::Page<RestLogin>> {
        Ok(self.state.rest_logins.page(after, limit)?)
    }

    /// Ends the REST login with this id as `/rest/logout` would (the dashboard's revoke).
    pub async fn end_rest_login_by_id(&self, id: &str) -> CoreResult<()> {
        let login = self
            .state
            .rest_logins
            .get(id)?
            .ok_or_else(|| CoreError::NotFound {
                entity: "REST login",
                id: id.to_string(),
                message: format!("No REST login with id [{id}]"),
            })?;
        self.end_rest_login(&login).await
    }

    async fn end_rest_login(&self, login: &RestLogin) -> CoreResult<()> {
        let ops = [
            self.state.rest_logins.expect_op(&login.id, login)?,
            self.state.rest_logins.remove_op(&login.id),
            self.state
                .rest_expiry
                .remove_op(expiry_key(login.expires_ms, &login.id)),
        ];
        if !self.svc.store.transact(&ops)? {
            // A concurrent logout of the same login won.
            return Err(invalid_refresh("the login has ended"));
        }
        self.svc.store.flush().await?;
        self.svc.events.record(NewEvent {
            message: format!(
                "User {} has logged out from Horizon Server REST API",
                login.principal
            ),
            ..self.rest_event(EVENT_REST_LOGOUT, true, login.principal.clone())
        })?;
        Ok(())
    }

    /// Removes up to `limit` REST logins that expired at or before `now_ms` (oldest first),
    /// each with its index entry in one transaction; returns how many went. For a periodic
    /// sweeper: each call is bounded, so it never holds the store for long.
    pub fn sweep_expired(&self, now_ms: i64, limit: usize) -> CoreResult<usize> {
        let mut removed = 0;
        for (key, id) in self.state.rest_expiry.first(limit)? {
            let expires = key
                .get(..8)
                .and_then(|b| <[u8; 8]>::try_from(b).ok())
                .map_or(i64::MAX, i64::from_be_bytes);
            if expires > now_ms {
                break;
            }
            let ops = [
                self.state.rest_logins.remove_op(&id),
                self.state.rest_expiry.remove_op(&key),
            ];
            if self.svc.store.transact(&ops)? {
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// The background sweeper's pass over REST logins: of at most `limit` logins after the
    /// key `after`, removes those expired at `now_ms`, with their expiry index entries.
    pub fn sweep_rest_logins(
        &self,
        now_ms: i64,
        after: Option<&[u8]>,
        limit: usize,
    ) -> CoreResult<crate::core::sweep::Batch> {
        crate::core::sweep::table(
            &self.state.rest_logins,
            after,
            limit,
            |l| l.expires_ms <= now_ms,
            |l| {
                self.state
                    .rest_expiry
                    .remove(expiry_key(l.expires_ms, &l.id))?;
                Ok(())
            },
        )
    }

    /// How many REST logins are stored (expired ones not yet swept included).
    pub fn rest_login_count(&self) -> usize {
        self.state.rest_logins.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_keys_sort_by_time() {
        let a = expiry_key(1_000, "zzz");
        let b = expiry_key(2_000, "aaa");
        assert!(a < b);
        assert_eq!(a.get(..8).unwrap(), 1_000i64.to_be_bytes());
    }

    #[test]
    fn view_role_reads_but_does_not_write() {
        let caller = |p: &str| RestCaller {
            login_id: "l".into(),
            principal: "VLSIM\\x".into(),
            privileges: vec![p.to_string()],
        };
        assert!(caller(PRIVILEGE_VIEW).require(RestAccess::Read).is_ok());
        assert!(matches!(
            caller(PRIVILEGE_VIEW).require(RestAccess::Write),
            Err(CoreError::PermissionDenied { .. })
        ));
        assert!(caller("ADMINISTRATOR").require(RestAccess::Write).is_ok());
        assert!(caller("NONE").require(RestAccess::Read).is_err());
    }
}
