//! The token inspector: paste a JWT or a SAML assertion, see what it says, which of vlsim's
//! keys verifies it (or why none does), and whether it is valid now by vlsim's clock.

use super::journal::jwt_claims;
use super::layout::{self, Page};
use super::pretty;
use super::{html, FormData, UiResult, UI};
use crate::core::saml::Assertion;
use crate::core::tokens;
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest};
use maud::{html as markup, Markup};
use serde_json::Value;

/// Where a token stands against the clock.
enum Validity {
    Valid { until_ms: Option<i64> },
    NotYet { from_ms: i64 },
    Expired { at_ms: i64 },
}

fn validity(now_ms: i64, not_before_ms: Option<i64>, expires_ms: Option<i64>) -> Validity {
    match (not_before_ms, expires_ms) {
        (_, Some(exp)) if now_ms >= exp => Validity::Expired { at_ms: exp },
        (Some(nbf), _) if now_ms < nbf => Validity::NotYet { from_ms: nbf },
        (_, until_ms) => Validity::Valid { until_ms },
    }
}

fn validity_block(v: &Validity, now_ms: i64) -> Markup {
    markup! {
        p #token-status {
            @match v {
                Validity::Valid { until_ms: Some(exp) } => {
                    span.badge.good { "valid" } " by vlsim's clock; it expires " (layout::relative(*exp, now_ms)) "."
                }
                Validity::Valid { until_ms: None } => {
                    span.badge.warn { "valid" } " by vlsim's clock; it states no expiry."
                }
                Validity::NotYet { from_ms } => {
                    span.badge.warn { "not yet valid" } " by vlsim's clock; it becomes valid " (layout::relative(*from_ms, now_ms)) "."
                }
                Validity::Expired { at_ms } => {
                    span.badge.bad { "expired" } " by vlsim's clock: it expired " (layout::relative(*at_ms, now_ms)) " (" (crate::clock::rfc3339_ms(*at_ms)) ")."
                }
            }
            " vlsim's clock reads " (crate::clock::rfc3339_ms(now_ms)) "."
        }
    }
}

fn form(req: &HttpRequest, token: &str) -> Markup {
    markup! {
        form.stack.wide method="post" action={ (UI) "/inspect" } {
            (layout::csrf(req))
            label for="token" { "A JWT, or a SAML 2.0 assertion (XML, or base64 of it, gzipped or not)" }
            textarea #token name="token" required spellcheck="false" { (token) }
            div.actions { button type="submit" { "Inspect" } }
        }
    }
}

fn page_of(req: &HttpRequest, token: &str, result: Markup) -> UiResult {
    let body = markup! {
        p.muted { "What you paste is read here and kept nowhere; it is not recorded in the journal." }
        (form(req, token))
        (result)
    };
    let page = Page {
        title: "Token inspector",
        nav: Some("/inspect"),
        notice: None,
    };
    Ok(html(StatusCode::OK, layout::render(req, &page, body)))
}

pub async fn page(req: HttpRequest) -> UiResult {
    page_of(&req, "", markup! {})
}

fn time_claim(claims: &Value, name: &str) -> Option<i64> {
    claims
        .get(name)
        .and_then(|v| v.as_i64().or_else(|| v.as_f64().map(|f| f as i64)))
        .map(|s| s.saturating_mul(1000))
}

fn inspect_jwt(state: &AppState, token: &str) -> Markup {
    let mut parts = token.split('.');
    let (header, claims) = match (parts.next(), parts.next()) {
        (Some(h), Some(c)) => (pretty::jwt_part(h), pretty::jwt_part(c)),
        _ => (None, None),
    };
    let (Some(header), Some(claims)) = (header, claims) else {
        return markup! { p.notice.bad role="alert" { "This is not a JWT: its header and claims are not base64url JSON." } };
    };
    let now_ms = state.core.clock().now_ms();
    let ring = state.core.key_ring();
    let verified = tokens::verify_signature(&ring, token);
    let v = validity(
        now_ms,
        time_claim(&claims, "nbf"),
        time_claim(&claims, "exp"),
    );
    markup! {
        h2 { "JWT" }
        (validity_block(&v, now_ms))
        h3 { "Signature" }
        p #token-signature {
            @match &verified {
                Ok(ok) => {
                    span.badge.good { "verified" } " by vlsim key " code { (ok.key.id) } " (" (ok.key.name) ", " (crate::core::keys::algorithm_name(ok.key.algorithm)) ")."
                }
                Err(why) => {
                    span.badge.bad { "not verified" } " No vlsim key verifies it: " (why) "."
                }
            }
        }
        (jwt_claims(&header, &claims, now_ms))
    }
}

fn assertion_facts(a: &Assertion) -> Markup {
    markup! {
        dl.facts {
            dt { "ID" } dd { code { (a.id) } }
            dt { "Issuer" } dd { (a.issuer) }
            dt { "Subject (NameID)" } dd { (a.subject) }
            dt { "Audiences" } dd { (a.audiences.join(", ")) }
            dt { "Groups" } dd { (a.groups.join(", ")) }
            dt { "Issued" } dd { (crate::clock::rfc3339_ms(a.issue_instant_ms)) }
            dt { "Not before" } dd { (crate::clock::rfc3339_ms(a.not_before_ms)) }
            dt { "Not on or after" } dd { (crate::clock::rfc3339_ms(a.not_on_or_after_ms)) }
        }
    }
}

fn inspect_saml(state: &AppState, token: &str) -> Markup {
    let xml = match crate::core::vcenter::decode_saml_token(token) {
        Ok(xml) => xml,
        Err(e) => return markup! { p.notice.bad role="alert" { (e) } },
    };
    let now_ms = state.core.clock().now_ms();
    let vcenter = state.core.vcenter();
    let verified = vcenter.verify_saml(&xml);
    let read = match &verified {
        Ok(a) => Ok(a.clone()),
        Err(_) => crate::core::saml::read_unverified(&xml),
    };
    let key = vcenter
        .runtime()
        .map(|rt| rt.key.id.clone())
        .unwrap_or_default();
    markup! {
        h2 { "SAML 2.0 assertion" }
        @match &read {
            Ok(a) => {
                (validity_block(&validity(now_ms, Some(a.not_before_ms), Some(a.not_on_or_after_ms)), now_ms))
                h3 { "Signature" }
                p #token-signature {
                    @match &verified {
                        Ok(_) => { span.badge.good { "verified" } " by the vCenter signing key " code { (key) } "." }
                        Err(why) => { span.badge.bad { "not verified" } " " (why) "." }
                    }
                }
                (assertion_facts(a))
            }
            Err(why) => { p.notice.bad role="alert" { (why) } }
        }
        details {
            summary { "The assertion, indented" }
            pre { code { (pretty::indent_xml(&xml).unwrap_or(xml.clone())) } }
        }
    }
}

pub async fn inspect(state: web::Data<AppState>, req: HttpRequest, form: FormData) -> UiResult {
    let token = form.text("token").unwrap_or_default();
    let token = token.strip_prefix("Bearer ").unwrap_or(token).trim();
    let result = if token.is_empty() {
        markup! { p.notice.bad role="alert" { "Paste a token first." } }
    } else if token.matches('.').count() == 2 && !token.contains('<') {
        inspect_jwt(&state, token)
    } else {
        inspect_saml(&state, token)
    };
    page_of(&req, token, result)
}
