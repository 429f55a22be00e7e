//! FusionAuth rules, reached as `core.fusionauth()`: the directory of tenants, applications,
//! API keys and identity providers (`directory.rs`), users (`users.rs`), logins and
//! reconcile (`login.rs`), access tokens: mint, validate, issue, vend (`access.rs`),
//! refresh tokens (`refresh.rs`) and their revocation (`revoke.rs`), and OAuth2 / OpenID
//! Connect (`oauth/`).

mod access;
mod directory;
mod login;
pub mod oauth;
mod refresh;
mod revoke;
mod users;

use crate::core::error::{CoreError, CoreResult};
use crate::core::events::NewEvent;
use crate::core::identity::hash_fixture_password;
use crate::core::services::{Current, Services};
use crate::spec::FusionAuthSpec;
use crate::store::{trees, Page, Store, StoreResult, Table};
use crate::surface::Surface;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::sync::Arc;

pub use access::Issued;
pub use directory::{ApiKey, Application, Directory, IdentityProvider, JwtPolicy, Tenant};
pub use login::{LoginOutcome, LoginRequest, ReconcileRequest, SignInOptions};
pub use refresh::{IssuedRefresh, NewRefresh, RefreshRequest, RefreshToken, Refreshed};
pub use revoke::RevokeTarget;
pub use users::{Registration, User};

pub const MODULE: &str = "FusionAuth";
/// FusionAuth's webhook event names.
pub const EVENT_LOGIN_SUCCESS: &str = "user.login.success";
pub const EVENT_LOGIN_FAILED: &str = "user.login.failed";
pub const EVENT_REFRESH: &str = "jwt.refresh";
pub const EVENT_REFRESH_REVOKE: &str = "jwt.refresh-token.revoke";
pub const EVENT_USER_CREATE: &str = "user.create";
/// vlsim's own names where FusionAuth has no event.
pub const EVENT_ISSUE: &str = "jwt.issue";
pub const EVENT_VEND: &str = "jwt.vend";

/// Where the directory is kept (`meta` relation).
const SETTINGS: &str = "fusionauth";

pub const DEFAULT_ACCESS_TTL_SECS: i64 = 3600;
pub const DEFAULT_REFRESH_TTL_MINUTES: i64 = 43_200;

/// What the rest of the world lends FusionAuth: the key that signs when nothing else is
/// configured, and the Connection Server whose tokens validate here too.
#[derive(Debug, Clone, Default)]
pub struct Neighbours {
    pub default_key: String,
    pub connection_server_name: String,
}

/// The FusionAuth part of the core: its relations and the cached directory.
pub struct FusionAuthState {
    directory: Current<Directory>,
    neighbours: Current<Neighbours>,
    users: Table<User>,
    /// `tenant \n lower(loginId)` → user id.
    user_logins: Table<String>,
    /// hex SHA-256 of the token → record.
    refresh_tokens: Table<RefreshToken>,
    /// token id → hex SHA-256 of its current value.
    refresh_ids: Table<String>,
    /// `userId/tokenId` → hex SHA-256 (index by user).
    refresh_by_user: Table<String>,
    /// OAuth2 codes, hosted-login SSO sessions and login forms (CSRF), each by the hex
    /// SHA-256 of its value.
    oauth: oauth::OAuthTables,
}

impl FusionAuthState {
    pub fn open(store: &Store) -> StoreResult<Self> {
        Ok(Self {
            directory: Current::new(Directory::default()),
            neighbours: Current::new(Neighbours::default()),
            users: store.table(trees::FA_USERS)?,
            user_logins: store.table(trees::FA_USER_LOGINS)?,
            refresh_tokens: store.table(trees::FA_REFRESH_TOKENS)?,
            refresh_ids: store.table(trees::FA_REFRESH_IDS)?,
            refresh_by_user: store.table(trees::FA_REFRESH_BY_USER)?,
            oauth: oauth::OAuthTables::open(store)?,
        })
    }
}

/// The FusionAuth rules over the shared services.
pub struct FusionAuth<'a> {
    svc: &'a Services,
    state: &'a FusionAuthState,
}

fn fixture_error(what: String) -> CoreError {
    CoreError::invalid_argument("fusionauth", what)
}

impl<'a> FusionAuth<'a> {
    pub fn new(svc: &'a Services, state: &'a FusionAuthState) -> Self {
        Self { svc, state }
    }

    pub fn directory(&self) -> Arc<Directory> {
        self.state.directory.get()
    }

    /// The key that signs when nothing else is configured (the Connection Server's).
    pub fn default_key(&self) -> String {
        self.state.neighbours.get().default_key.clone()
    }

    /// Loads the `[fusionauth]` fixtures into the (already cleared) store.
    pub fn load(&self, spec: &FusionAuthSpec, key_ids: &[String]) -> CoreResult<()> {
        let known_key = |id: &Option<String>, owner: &str| -> CoreResult<()> {
            match id {
                Some(id) if !key_ids.iter().any(|k| k == id) => Err(fixture_error(format!(
                    "{owner}: signing_key {id} is not one of the fixture keys"
                ))),
                _ => Ok(()),
            }
        };
        let mut dir = Directory::default();
        for t in &spec.tenants {
            known_key(&t.jwt.signing_key, &format!("tenant {}", t.id))?;
            let ttl = |v: Option<i64>, name: &str, max: i64| match v {
                Some(s) if !(1..=max).contains(&s) => Err(fixture_error(format!(
                    "tenant {}: oauth.{name} must be between 1 and {max}",
                    t.id
                ))),
                _ => Ok(()),
            };
            ttl(
                t.oauth.authorization_code_ttl_seconds,
                "authorization_code_ttl_seconds",
                600,
            )?;
            ttl(
                t.oauth.sso_session_ttl_seconds,
                "sso_session_ttl_seconds",
                31_536_000,
            )?;
            dir.tenants.push(Tenant {
                id: t.id.clone(),
                name: t.name.clone(),
                issuer: t.issuer.clone(),
                jwt: t.jwt.clone(),
                oauth: t.oauth.clone(),
            });
        }
        for a in &spec.applications {
            if dir.tenant(&a.tenant).is_none() {
                return Err(fixture_error(format!(
                    "application {}: unknown tenant {}",
                    a.id, a.tenant
                )));
            }
            if let Some(jwt) = &a.jwt {
                known_key(&jwt.signing_key, &format!("application {}", a.id))?;
            }
            dir.applications.push(Application {
                id: a.id.clone(),
                name: a.name.clone(),
                tenant_id: a.tenant.clone(),
                roles: a.roles.clone(),
                default_roles: a.default_roles.clone(),
                generate_refresh_tokens: a.generate_refresh_tokens,
                allow_token_refresh: a.allow_token_refresh,
                require_authentication: a.require_authentication,
                jwt: a.jwt.clone(),
                oauth: a.oauth.clone(),
            });
        }
        for k in &spec.api_keys {
            if let Some(t) = &k.tenant {
                if dir.tenant(t).is_none() {
                    return Err(fixture_error(format!("api key: unknown tenant {t}")));
                }
            }
            dir.api_keys.push(ApiKey {
                key_hash: sha256_hex(&k.key),
                description: k.description.clone(),
                tenant_id: k.tenant.clone(),
                superuser: k.superuser,
            });
        }
        for p in &spec.identity_providers {
            if p.kind != "ExternalJWT" {
                return Err(fixture_error(format!(
                    "identity provider {}: only type ExternalJWT is emulated",
                    p.id
                )));
            }
            dir.identity_providers.push(IdentityProvider {
                id: p.id.clone(),
                name: p.name.clone(),
                kind: p.kind.clone(),
                hmac_secret: p.hmac_secret.clone(),
                unique_identity_claim: p.unique_identity_claim.clone(),
                applications: p.applications.clone(),
            });
        }
        let now = self.svc.clock.now_ms();
        for u in &spec.users {
            if dir.tenant(&u.tenant).is_none() {
                return Err(fixture_error(format!(
                    "user {}: unknown tenant {}",
                    u.id, u.tenant
                )));
            }
            let mut registrations = Vec::new();
            for r in &u.registrations {
                let app = dir.application(&r.application).ok_or_else(|| {
                    fixture_error(format!(
                        "user {}: unknown application {}",
                        u.id, r.application
                    ))
                })?;
                if app.tenant_id != u.tenant {
                    return Err(fixture_error(format!(
                        "user {}: application {} is in another tenant",
                        u.id, r.application
                    )));
                }
                registrations.push(Registration {
                    id: r.id.clone(),
                    application_id: r.application.clone(),
                    roles: r.roles.clone(),
                    insert_instant: now,
                    last_login_instant: None,
                });
            }
            let user = User {
                id: u.id.clone(),
                tenant_id: u.tenant.clone(),
                email: u.email.clone(),
                username: u.username.clone(),
                password_hash: u.password.as_deref().map(hash_fixture_password),
                first_name: u.first_name.clone(),
                last_name: u.last_name.clone(),
                active: true,
                verified: true,
                insert_instant: now,
                last_login_instant: None,
                last_update_instant: Some(now),
                registrations,
            };
            self.put_user(&user)?;
        }
        self.svc.put_settings(SETTINGS, &dir)
    }

    /// Re-reads the directory from the store (start, reset, restore).
    pub fn reload(&self, neighbours: Neighbours) -> CoreResult<()> {
        let dir: Directory = self.svc.settings(SETTINGS)?.unwrap_or_default();
        self.state.directory.set(dir);
        self.state.neighbours.set(neighbours);
        Ok(())
    }

    pub fn user_count(&self) -> usize {
        self.state.users.len()
    }

    /// A page of users in id order after the key `after`.
    pub fn user_page(&self, after: Option<&[u8]>, limit: usize) -> CoreResult<Page<User>> {
        Ok(self.state.users.page(after, limit)?)
    }

    pub fn refresh_token_count(&self) -> usize {
        self.state.refresh_tokens.len()
    }

    /// Every user, in id order.
    pub fn users(&self) -> CoreResult<Vec<User>> {
        Ok(self
            .state
            .users
            .all()?
            .into_iter()
            .map(|(_, u)| u)
            .collect())
    }

    /// Every stored refresh token (expired ones included).
    pub fn refresh_tokens(&self) -> CoreResult<Vec<RefreshToken>> {
        Ok(self
            .state
            .refresh_tokens
            .all()?
            .into_iter()
            .map(|(_, t)| t)
            .collect())
    }

    fn event(
        &self,
        event_type: &'static str,
        success: bool,
        user: Option<String>,
        message: String,
        details: Map<String, Value>,
    ) {
        self.svc.events.record_or_log(NewEvent {
            message,
            details,
            ..NewEvent::audit(event_type, success, MODULE, Surface::FusionAuth, user)
        });
    }
}

/// Who may see what: `None` sees every tenant, `Some(t)` only tenant `t` (a tenant-locked
/// API key, or the `X-FusionAuth-TenantId` header).
pub type TenantScope<'a> = Option<&'a str>;

pub fn in_scope(scope: TenantScope<'_>, tenant_id: &str) -> bool {
    scope.is_none_or(|t| t == tenant_id)
}

/// Hex SHA-256 (how refresh tokens and API keys are keyed).
pub fn sha256_hex(text: &str) -> String {
    // Every refresh and API-key check keys a lookup with this: a `format!` per byte cost
    // several times the hash itself.
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = Sha256::digest(text.as_bytes());
    let mut out = String::with_capacity(64);
    for b in digest {
        for nibble in [b >> 4, b & 0x0f] {
            out.push(char::from(
                HEX.get(usize::from(nibble)).copied().unwrap_or(b'0'),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn sha256_hex_is_the_lowercase_hex_digest() {
        assert_eq!(
            super::sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            super::sha256_hex(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
