//! `GET /_vlsim/state`: the world as it is — keys' public parts, users (no credentials),
//! sessions, refresh tokens (metadata only), OAuth2 clients and SSO sessions, counts and
//! the control settings.

use super::AdminResult;
use crate::control::latency::LatencySettings;
use crate::core::fusionauth::{RefreshToken, User};
use crate::core::keys::{algorithm_name, Jwk, SigningKey};
use crate::core::sessions::Session;
use crate::state::AppState;
use crate::surface::Surface;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;

#[derive(Serialize)]
struct World {
    fixtures: Option<String>,
    keys: Vec<Key>,
    horizon: Horizon,
    sessions: Vec<SessionView>,
    fusionauth: FusionAuth,
    vcenter: Vcenter,
    counts: Counts,
    control: Control,
}

#[derive(Serialize)]
struct Key {
    id: String,
    name: String,
    algorithm: &'static str,
    public_pem: Option<String>,
    jwk: Option<Jwk>,
}

impl From<&SigningKey> for Key {
    fn from(k: &SigningKey) -> Self {
        Self {
            id: k.id.clone(),
            name: k.name.clone(),
            algorithm: algorithm_name(k.algorithm),
            public_pem: k.public_pem.clone(),
            jwk: k.jwk.clone(),
        }
    }
}

#[derive(Serialize)]
struct Horizon {
    connection_server_name: String,
    domain: String,
    signing_key: String,
    users: Vec<Principal>,
}

#[derive(Serialize)]
struct Principal {
    principal: String,
    privileges: Vec<String>,
}

#[derive(Serialize)]
struct SessionView {
    id: String,
    surface: Surface,
    principal: String,
    method: String,
    created: String,
    last_access: String,
    expires: String,
    expired: bool,
}

impl SessionView {
    fn new(s: Session, now: i64) -> Self {
        Self {
            created: crate::clock::rfc3339_ms(s.created_ms),
            last_access: crate::clock::rfc3339_ms(s.last_access_ms),
            expires: crate::clock::rfc3339_ms(s.expires_at_ms()),
            expired: now >= s.expires_at_ms(),
            id: s.id,
            surface: s.surface,
            principal: s.principal,
            method: s.method,
        }
    }
}

#[derive(Serialize)]
struct FusionAuth {
    users: Vec<UserView>,
    refresh_tokens: Vec<RefreshTokenView>,
    /// OAuth2: tenants' settings, clients, SSO sessions, stored counts.
    oauth: super::oauth_view::OAuthView,
}

/// A FusionAuth user as the admin API shows it (no password hash).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UserView {
    id: String,
    tenant_id: String,
    email: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    first_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_name: Option<String>,
    active: bool,
    verified: bool,
    insert_instant: i64,
    registrations: Vec<RegistrationView>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RegistrationView {
    id: String,
    application_id: String,
    roles: Vec<String>,
    insert_instant: i64,
}

impl From<User> for UserView {
    fn from(u: User) -> Self {
        Self {
            id: u.id,
            tenant_id: u.tenant_id,
            email: u.email,
            username: u.username,
            first_name: u.first_name,
            last_name: u.last_name,
            active: u.active,
            verified: u.verified,
            insert_instant: u.insert_instant,
            registrations: u
                .registrations
                .into_iter()
                .map(|r| RegistrationView {
                    id: r.id,
                    application_id: r.application_id,
                    roles: r.roles,
                    insert_instant: r.insert_instant,
                })
                .collect(),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RefreshTokenView {
    id: String,
    user_id: String,
    application_id: String,
    tenant_id: String,
    start_instant: i64,
    insert_instant: i64,
    expiration_instant: i64,
    expired: bool,
}

impl RefreshTokenView {
    fn new(t: RefreshToken, now: i64) -> Self {
        Self {
            expired: now >= t.expiration_instant,
            id: t.id,
            user_id: t.user_id,
            application_id: t.application_id,
            tenant_id: t.tenant_id,
            start_instant: t.start_instant,
            insert_instant: t.insert_instant,
            expiration_instant: t.expiration_instant,
        }
    }
}

#[derive(Serialize)]
struct Vcenter {
    users: Vec<String>,
}

#[derive(Serialize)]
struct Counts {
    fusionauth_users: usize,
    fusionauth_refresh_tokens: usize,
    vcenter_users: usize,
    keys: usize,
    horizon_users: usize,
    /// Horizon REST logins (expired ones not yet swept included).
    horizon_rest_logins: usize,
    sessions: usize,
    events: usize,
}

#[derive(Serialize)]
struct Control {
    journal_entries: usize,
    journal_capacity: usize,
    fault_rules: usize,
    latency: LatencySettings,
    clock_offset_seconds: i64,
}

pub async fn dump(state: web::Data<AppState>, req: HttpRequest) -> AdminResult {
    let core = &state.core;
    let now = core.clock().now_ms();
    let ring = core.key_ring();
    let horizon = core.horizon().settings();
    let fusionauth = core.fusionauth();
    let world = World {
        fixtures: core.fixtures_origin()?,
        keys: ring.all().iter().map(|k| Key::from(k.as_ref())).collect(),
        horizon: Horizon {
            connection_server_name: horizon.connection_server_name.clone(),
            domain: horizon.domain.clone(),
            signing_key: horizon.signing_key.clone(),
            users: core
                .horizon()
                .users()?
                .into_iter()
                .map(|u| Principal {
                    principal: u.principal(),
                    privileges: u.privileges,
                })
                .collect(),
        },
        sessions: core
            .sessions()
            .all()?
            .into_iter()
            .map(|s| SessionView::new(s, now))
            .collect(),
        fusionauth: FusionAuth {
            users: fusionauth
                .users()?
                .into_iter()
                .map(UserView::from)
                .collect(),
            refresh_tokens: fusionauth
                .refresh_tokens()?
                .into_iter()
                .map(|t| RefreshTokenView::new(t, now))
                .collect(),
            oauth: super::oauth_view::view(
                &fusionauth,
                &crate::http::external_base_url(&req),
                now,
            )?,
        },
        vcenter: Vcenter {
            users: core
                .vcenter()
                .users()?
                .iter()
                .map(|u| u.principal())
                .collect(),
        },
        counts: Counts {
            fusionauth_users: fusionauth.user_count(),
            fusionauth_refresh_tokens: fusionauth.refresh_token_count(),
            vcenter_users: core.vcenter().user_count(),
            keys: ring.all().len(),
            horizon_users: core.horizon().user_count(),
            horizon_rest_logins: core.horizon().rest_login_count(),
            sessions: core.sessions().count(),
            events: core.events().count(),
        },
        control: Control {
            journal_entries: state.control.journal.len(),
            journal_capacity: state.control.journal.capacity(),
            fault_rules: state.control.faults.list().len(),
            latency: state.control.latency.get(),
            clock_offset_seconds: core.clock().offset_ms() / 1000,
        },
    };
    Ok(HttpResponse::Ok().json(world))
}
