//! Sessions and tokens: what clients hold, per surface, each with a revoke button that goes
//! through the same core operation as the surface's own logout or revoke API (so the same
//! events are recorded and the same flushes happen).
//!
//! The page is a list of providers. A surface that keeps another kind of login adds one:
//! write a `fn my_things() -> Provider` (a title, column names, `list` and `revoke`) below
//! and put it in [`PROVIDERS`]. Nothing else changes: the page, the revoke form and its
//! CSRF check are shared.

use super::layout::{self, Page};
use super::{html, see_other, FormData, UiError, UiResult, UI};
use crate::core::fusionauth::RevokeTarget;
use crate::core::sessions::Session;
use crate::state::AppState;
use crate::surface::Surface;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest};
use futures_util::future::LocalBoxFuture;
use maud::html as markup;

/// One row: the id the revoke form sends back, the cells, whether it is past its expiry.
pub struct Row {
    pub id: String,
    pub cells: Vec<String>,
    pub expired: bool,
}

/// One kind of session or token.
pub struct Provider {
    /// Names the provider in the revoke form (`vlsi-sessions`).
    pub key: &'static str,
    pub title: &'static str,
    /// One line on what these are.
    pub about: &'static str,
    /// Column headings of `Row::cells`.
    pub columns: &'static [&'static str],
    pub list: fn(&AppState) -> Result<Vec<Row>, UiError>,
    /// Revokes the one with this id, the way the surface's API would.
    pub revoke: fn(web::Data<AppState>, String) -> LocalBoxFuture<'static, Result<(), UiError>>,
}

/// How many rows of each provider the page shows at most.
const ROWS_SHOWN: usize = 200;

/// Every provider, in page order.
const PROVIDERS: &[fn() -> Provider] = &[
    vlsi_sessions,
    horizon_rest_logins,
    vcenter_sessions,
    fusionauth_refresh_tokens,
    oauth_sso_sessions,
];

/// The expiry cell: the instant and how far it is from vlsim's now.
fn expiry_cell(expires_ms: i64, now: i64) -> String {
    format!(
        "{} ({})",
        crate::clock::rfc3339_ms(expires_ms),
        layout::relative(expires_ms, now)
    )
}

fn session_rows(state: &AppState, surface: Surface) -> Result<Vec<Row>, UiError> {
    let now = state.core.clock().now_ms();
    let mut sessions: Vec<Session> = state
        .core
        .sessions()
        .all()?
        .into_iter()
        .filter(|s| s.surface == surface)
        .collect();
    sessions.sort_by_key(|s| s.created_ms);
    Ok(sessions
        .into_iter()
        .map(|s| Row {
            cells: vec![
                s.principal.clone(),
                s.method.clone(),
                crate::clock::rfc3339_ms(s.created_ms),
                crate::clock::rfc3339_ms(s.last_access_ms),
                format!(
                    "{} ({})",
                    crate::clock::rfc3339_ms(s.expires_at_ms()),
                    layout::relative(s.expires_at_ms(), now)
                ),
            ],
            expired: now >= s.expires_at_ms(),
            id: s.id,
        })
        .collect())
}

fn stored_session(state: &AppState, id: &str) -> Result<Session, UiError> {
    state
        .core
        .sessions()
        .all()?
        .into_iter()
        .find(|s| s.id == id)
        .ok_or_else(|| UiError::not_found("That session is gone already."))
}

const SESSION_COLUMNS: &[&str] = &["User", "Method", "Created", "Last used", "Expires"];

fn vlsi_sessions() -> Provider {
    Provider {
        key: "vlsi-sessions",
        title: "Horizon View API (VLSI) sessions",
        about: "JSESSIONID sessions of AuthenticationManager_Login and LoginByToken. Revoking logs the session out (AuthenticationManager_Logout).",
        columns: SESSION_COLUMNS,
        list: |state| session_rows(state, Surface::Vlsi),
        revoke: |state, id| {
            Box::pin(async move {
                let session = stored_session(&state, &id)?;
                Ok(state.core.horizon().logout(&session).await?)
            })
        },
    }
}

fn vcenter_sessions() -> Provider {
    Provider {
        key: "vcenter-sessions",
        title: "vCenter sessions",
        about: "vmware-api-session-id sessions of POST /api/session (and the JSON-RPC and legacy logins). Revoking is DELETE /api/session.",
        columns: SESSION_COLUMNS,
        list: |state| session_rows(state, Surface::Vcenter),
        revoke: |state, id| {
            Box::pin(async move {
                let session = stored_session(&state, &id)?;
                Ok(state.core.vcenter().logout(&session).await?)
            })
        },
    }
}

fn horizon_rest_logins() -> Provider {
    Provider {
        key: "horizon-rest-logins",
        title: "Horizon REST logins",
        about: "Logins of POST /rest/login: each holds one refresh token and the access tokens minted from it. Revoking is POST /rest/logout.",
        columns: &["Login id", "User", "Created", "Expires"],
        list: |state| {
            let now = state.core.clock().now_ms();
            Ok(state
                .core
                .horizon()
                .rest_logins()?
                .into_iter()
                .map(|l| Row {
                    cells: vec![
                        l.id.clone(),
                        l.principal.clone(),
                        crate::clock::rfc3339_ms(l.created_ms),
                        expiry_cell(l.expires_ms, now),
                    ],
                    expired: now >= l.expires_ms,
                    id: l.id,
                })
                .collect())
        },
        revoke: |state, id| {
            Box::pin(async move { Ok(state.core.horizon().end_rest_login_by_id(&id).await?) })
        },
    }
}

fn oauth_sso_sessions() -> Provider {
    Provider {
        key: "oauth-sso-sessions",
        title: "OAuth2 SSO sessions",
        about: "Sessions of the hosted login page (the fusionauth.sso cookie) that let /oauth2/authorize skip the form. Revoking is what /oauth2/logout does; refresh tokens stay, as in FusionAuth.",
        columns: &["Session id", "User", "Created", "Expires"],
        list: |state| {
            let now = state.core.clock().now_ms();
            let fa = state.core.fusionauth();
            let users = fa.users()?;
            let mut sessions = fa.sso_sessions()?;
            sessions.sort_by_key(|s| s.created_ms);
            Ok(sessions
                .into_iter()
                .map(|s| {
                    let user = users
                        .iter()
                        .find(|u| u.id == s.user_id)
                        .map_or(s.user_id.clone(), |u| u.email.clone());
                    Row {
                        cells: vec![
                            s.id.clone(),
                            user,
                            crate::clock::rfc3339_ms(s.created_ms),
                            expiry_cell(s.expires_ms, now),
                        ],
                        expired: now >= s.expires_ms,
                        id: s.id,
                    }
                })
                .collect())
        },
        revoke: |state, id| {
            Box::pin(async move { Ok(state.core.fusionauth().end_sso_session(&id).await?) })
        },
    }
}

fn fusionauth_refresh_tokens() -> Provider {
    Provider {
        key: "fusionauth-refresh-tokens",
        title: "FusionAuth refresh tokens",
        about: "Refresh tokens of /api/login and the OAuth2 grants. Revoking is DELETE /api/jwt/refresh/{tokenId}.",
        columns: &["Token id", "User", "Application", "Issued", "Expires"],
        list: |state| {
            let now = state.core.clock().now_ms();
            let fa = state.core.fusionauth();
            let users = fa.users()?;
            let dir = fa.directory();
            let mut tokens = fa.refresh_tokens()?;
            tokens.sort_by_key(|t| t.insert_instant);
            Ok(tokens
                .into_iter()
                .map(|t| {
                    let user = users
                        .iter()
                        .find(|u| u.id == t.user_id)
                        .map_or(t.user_id.clone(), |u| u.email.clone());
                    let app = dir
                        .application(&t.application_id)
                        .map_or(t.application_id.clone(), |a| a.name.clone());
                    Row {
                        cells: vec![
                            t.id.clone(),
                            user,
                            app,
                            crate::clock::rfc3339_ms(t.start_instant),
                            format!(
                                "{} ({})",
                                crate::clock::rfc3339_ms(t.expiration_instant),
                                layout::relative(t.expiration_instant, now)
                            ),
                        ],
                        expired: now >= t.expiration_instant,
                        id: t.id,
                    }
                })
                .collect())
        },
        revoke: |state, id| {
            Box::pin(async move {
                state
                    .core
                    .fusionauth()
                    .revoke(RevokeTarget::TokenId(id), None, None)
                    .await?;
                Ok(())
            })
        },
    }
}

pub async fn page(state: web::Data<AppState>, req: HttpRequest) -> UiResult {
    let mut sections = Vec::new();
    for make in PROVIDERS {
        let p = make();
        let mut rows = (p.list)(&state)?;
        // A page stays small whatever a load test left behind: the newest rows only.
        let total = rows.len();
        rows.drain(..total.saturating_sub(ROWS_SHOWN));
        sections.push((p, rows, total));
    }
    let body = markup! {
        @for (p, rows, total) in &sections {
            section.panel aria-labelledby=(p.key) {
                h2 #(p.key) { (p.title) " " span.muted { "(" (total) ")" } }
                p.muted { (p.about) }
                @if *total > rows.len() {
                    p.muted { "Showing the newest " (rows.len()) " of " (total) "." }
                }
                div.table-wrap {
                    table data-provider=(p.key) {
                        caption.sr { (p.title) }
                        thead {
                            tr {
                                @for c in p.columns { th scope="col" { (c) } }
                                th scope="col" { "State" }
                                th scope="col" { span.sr { "Actions" } }
                            }
                        }
                        tbody {
                            @for row in rows {
                                tr {
                                    @for (i, cell) in row.cells.iter().enumerate() {
                                        @if i == 0 { th scope="row" { (cell) } } @else { td { (cell) } }
                                    }
                                    td { @if row.expired { span.badge.warn { "expired" } } @else { span.badge.good { "live" } } }
                                    td {
                                        form.inline method="post" action={ (UI) "/sessions/revoke" } {
                                            (layout::csrf(&req))
                                            input type="hidden" name="provider" value=(p.key);
                                            input type="hidden" name="id" value=(row.id);
                                            button.danger type="submit" aria-label={ "Revoke " (row.cells.first().map_or("", String::as_str)) } { "Revoke" }
                                        }
                                    }
                                }
                            }
                            @if rows.is_empty() {
                                tr { td colspan=(p.columns.len() + 2) .muted { "None." } }
                            }
                        }
                    }
                }
            }
        }
    };
    let page = Page {
        title: "Sessions and tokens",
        nav: Some("/sessions"),
        notice: None,
    };
    Ok(html(StatusCode::OK, layout::render(&req, &page, body)))
}

pub async fn revoke(state: web::Data<AppState>, form: FormData) -> UiResult {
    let key = form.text("provider").unwrap_or_default();
    let provider = PROVIDERS
        .iter()
        .map(|make| make())
        .find(|p| p.key == key)
        .ok_or_else(|| UiError::bad_request(format!("There is no provider {key}.")))?;
    let id = form
        .text("id")
        .ok_or_else(|| UiError::bad_request("Which one? The form names no id."))?
        .to_string();
    (provider.revoke)(state, id).await?;
    Ok(see_other(&format!("{UI}/sessions"), "revoked"))
}
