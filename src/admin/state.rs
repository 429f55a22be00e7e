//! `GET /_vlsim/state`: the world as it is — counts, keys' public parts, and the first page
//! of each relation: users (no credentials), sessions, Horizon REST logins, refresh tokens
//! (metadata only), OAuth2 SSO sessions; OAuth2 tenants and clients (no secrets);
//! `?relation=NAME&after=CURSOR` pages through one of them. Bounded: at most `limit`
//! (≤ 1000) records per relation, so a dump stays a few MB whatever the store holds.

use super::AdminError;
use super::AdminResult;
use crate::control::latency::LatencySettings;
use crate::core::fusionauth::{RefreshToken, User};
use crate::core::keys::{algorithm_name, Jwk, SigningKey};
use crate::core::sessions::Session;
use crate::core::Core;
use crate::state::AppState;
use crate::store::Page;
use crate::surface::Surface;
use actix_web::{web, HttpRequest, HttpResponse};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

const DEFAULT_LIMIT: usize = 100;
const MAX_LIMIT: usize = 1000;

/// The relations paged in the dump, by the name `?relation=` takes.
const RELATIONS: [&str; 7] = [
    "horizon_users",
    "sessions",
    "horizon_rest_logins",
    "fusionauth_users",
    "fusionauth_refresh_tokens",
    "oauth_sso_sessions",
    "vcenter_users",
];

#[derive(Serialize)]
struct World {
    fixtures: Option<String>,
    keys: Vec<Key>,
    horizon: Horizon,
    sessions: Vec<Value>,
    fusionauth: FusionAuth,
    vcenter: Vcenter,
    counts: Counts,
    control: Control,
    /// Per relation: where its next page starts (`?relation=NAME&after=NEXT`), null when
    /// the first page holds it all.
    pages: BTreeMap<&'static str, Option<String>>,
    limit: usize,
}

/// One relation's page (`?relation=NAME`).
#[derive(Serialize)]
struct RelationPage {
    relation: &'static str,
    count: usize,
    records: Vec<Value>,
    next: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateQuery {
    /// Records per relation (≤ 1000, default 100).
    limit: Option<usize>,
    /// Page through this relation only.
    relation: Option<String>,
    /// Where the page starts: a `next` of the previous page.
    after: Option<String>,
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
    users: Vec<Value>,
    /// REST logins (`POST /rest/login`), expired ones not yet swept included.
    rest_logins: Vec<Value>,
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
    users: Vec<Value>,
    refresh_tokens: Vec<Value>,
    /// OAuth2: tenants' settings, clients, stored counts.
    oauth: super::oauth_view::OAuthView,
    /// SSO sessions of the hosted login page.
    sso_sessions: Vec<Value>,
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
    users: Vec<Value>,
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
    horizon_query_cursors: usize,
    events: usize,
    /// Events per log: `vlsi`, `vlsi.failures`, ...
    events_by_log: BTreeMap<String, usize>,
    /// Records the sweeper removed since the start, per relation.
    swept: BTreeMap<&'static str, u64>,
}

#[derive(Serialize)]
struct Control {
    journal_entries: usize,
    journal_capacity: usize,
    fault_rules: usize,
    latency: LatencySettings,
    clock_offset_seconds: i64,
}

fn values<T: Serialize>(items: impl IntoIterator<Item = T>) -> Vec<Value> {
    items
        .into_iter()
        .filter_map(|i| serde_json::to_value(i).ok())
        .collect()
}

/// A relation's page as JSON records, and its next cursor.
fn page_of(
    core: &Core,
    relation: &str,
    after: Option<&[u8]>,
    limit: usize,
    now: i64,
) -> Result<(Vec<Value>, Option<Vec<u8>>), AdminError> {
    fn split<T, V: Serialize>(
        page: Page<T>,
        view: impl Fn(T) -> V,
    ) -> (Vec<Value>, Option<Vec<u8>>) {
        (
            values(page.records.into_iter().map(|(_, r)| view(r))),
            page.next,
        )
    }
    Ok(match relation {
        "horizon_users" => split(core.horizon().user_page(after, limit)?, |u| Principal {
            principal: u.principal(),
            privileges: u.privileges,
        }),
        "sessions" => split(core.sessions().page(after, limit)?, |s| {
            SessionView::new(s, now)
        }),
        "horizon_rest_logins" => split(core.horizon().rest_login_page(after, limit)?, |l| l),
        "fusionauth_users" => split(core.fusionauth().user_page(after, limit)?, UserView::from),
        "oauth_sso_sessions" => split(core.fusionauth().sso_session_page(after, limit)?, |s| {
            super::oauth_view::SsoView::new(s, now)
        }),
        "fusionauth_refresh_tokens" => {
            split(core.fusionauth().refresh_token_page(after, limit)?, |t| {
                RefreshTokenView::new(t, now)
            })
        }
        "vcenter_users" => split(core.vcenter().user_page(after, limit)?, |u| u.principal()),
        other => {
            return Err(AdminError::bad_request(format!(
                "no relation {other}; one of {}",
                RELATIONS.join(", ")
            )))
        }
    })
}

fn cursor(next: Option<Vec<u8>>) -> Option<String> {
    next.map(|k| URL_SAFE_NO_PAD.encode(k))
}

pub async fn dump(
    state: web::Data<AppState>,
    query: web::Query<StateQuery>,
    req: HttpRequest,
) -> AdminResult {
    let q = query.into_inner();
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    let core = &state.core;
    let now = core.clock().now_ms();
    if let Some(name) = q.relation.as_deref() {
        let relation = RELATIONS
            .iter()
            .copied()
            .find(|r| *r == name)
            .ok_or_else(|| {
                AdminError::bad_request(format!(
                    "no relation {name}; one of {}",
                    RELATIONS.join(", ")
                ))
            })?;
        let after = q
            .after
            .as_deref()
            .map(|a| URL_SAFE_NO_PAD.decode(a))
            .transpose()
            .map_err(|_| {
                AdminError::bad_request("after must be a next value of a previous page")
            })?;
        let (records, next) = page_of(core, relation, after.as_deref(), limit, now)?;
        let count = match relation {
            "horizon_users" => core.horizon().user_count(),
            "sessions" => core.sessions().count(),
            "horizon_rest_logins" => core.horizon().rest_login_count(),
            "fusionauth_users" => core.fusionauth().user_count(),
            "fusionauth_refresh_tokens" => core.fusionauth().refresh_token_count(),
            "oauth_sso_sessions" => core.fusionauth().oauth_counts().sso_sessions,
            _ => core.vcenter().user_count(),
        };
        return Ok(HttpResponse::Ok().json(RelationPage {
            relation,
            count,
            records,
            next: cursor(next),
        }));
    }
    if q.after.is_some() {
        return Err(AdminError::bad_request("after goes with relation"));
    }
    let mut pages = BTreeMap::new();
    let mut first = |relation: &'static str| -> Result<Vec<Value>, AdminError> {
        let (records, next) = page_of(core, relation, None, limit, now)?;
        pages.insert(relation, cursor(next));
        Ok(records)
    };
    let horizon_users = first("horizon_users")?;
    let sessions = first("sessions")?;
    let rest_logins = first("horizon_rest_logins")?;
    let fusionauth_users = first("fusionauth_users")?;
    let refresh_tokens = first("fusionauth_refresh_tokens")?;
    let sso_sessions = first("oauth_sso_sessions")?;
    let vcenter_users = first("vcenter_users")?;
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
            users: horizon_users,
            rest_logins,
        },
        sessions,
        fusionauth: FusionAuth {
            users: fusionauth_users,
            refresh_tokens,
            oauth: super::oauth_view::view(&fusionauth, &crate::http::external_base_url(&req))?,
            sso_sessions,
        },
        vcenter: Vcenter {
            users: vcenter_users,
        },
        counts: Counts {
            fusionauth_users: fusionauth.user_count(),
            fusionauth_refresh_tokens: fusionauth.refresh_token_count(),
            vcenter_users: core.vcenter().user_count(),
            keys: ring.all().len(),
            horizon_users: core.horizon().user_count(),
            horizon_rest_logins: core.horizon().rest_login_count(),
            sessions: core.sessions().count(),
            horizon_query_cursors: core.horizon().query_cursor_count(),
            events: core.events().count(),
            events_by_log: core.events().counts(),
            swept: core.sweeper().totals(),
        },
        control: Control {
            journal_entries: state.control.journal.len(),
            journal_capacity: state.control.journal.capacity(),
            fault_rules: state.control.faults.list().len(),
            latency: state.control.latency.get(),
            clock_offset_seconds: core.clock().offset_ms() / 1000,
        },
        pages,
        limit,
    };
    Ok(HttpResponse::Ok().json(world))
}
