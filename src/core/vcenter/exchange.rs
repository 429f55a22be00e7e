//! RFC 8693 token exchange (`Token.issue` and the legacy `TokenExchange.exchange`): IdP JWT
//! → SAML2, SAML2 → JWT for an audience, JWT → JWT, with the lifetimes, claims and refusals
//! a real vCenter has, and the events it records.

use super::subject::Subject;
use super::{split_user, Vcenter, EVENT_TOKEN_FAILED, EVENT_TOKEN_ISSUED};
use crate::core::error::{CoreError, CoreResult};
use crate::core::events::{details, NewEvent};
use crate::core::saml::{self, Assertion};
use crate::core::tokens::Claims;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::json;

pub const GRANT_TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
pub const TYPE_ACCESS_TOKEN: &str = "urn:ietf:params:oauth:token-type:access_token";
pub const TYPE_ID_TOKEN: &str = "urn:ietf:params:oauth:token-type:id_token";
pub const TYPE_REFRESH_TOKEN: &str = "urn:ietf:params:oauth:token-type:refresh_token";
pub const TYPE_SAML2: &str = "urn:ietf:params:oauth:token-type:saml2";
pub const TYPE_SAML1: &str = "urn:ietf:params:oauth:token-type:saml1";
pub const TYPE_JWT: &str = "urn:ietf:params:oauth:token-type:jwt";

/// `InvalidArgument` fields whose refusal is not a malformed request (OAuth2
/// `invalid_request`) but a target this vCenter does not serve (`invalid_target`), a scope it
/// cannot satisfy (`invalid_scope`), or a grant type it does not support
/// (`unsupported_grant_type`).
pub const FIELD_TARGET_AUDIENCE: &str = "target.audience";
pub const FIELD_TARGET_SCOPE: &str = "target.scope";
pub const FIELD_UNSUPPORTED_GRANT: &str = "grant_type.unsupported";

/// Scopes an exchanged JWT satisfies: `openid` (it is an OpenID token), `profile` (it names
/// the user), `groups` (it lists them in `group_names`).
pub const SATISFIABLE_SCOPES: &[&str] = &["openid", "profile", "groups"];

/// `com.vmware.vcenter.authentication.token.issue_spec` (also the legacy exchange spec).
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
pub struct IssueSpec {
    pub grant_type: Option<String>,
    pub resource: Option<String>,
    pub audience: Option<String>,
    pub scope: Option<String>,
    pub requested_token_type: Option<String>,
    pub subject_token: Option<String>,
    pub subject_token_type: Option<String>,
    pub actor_token: Option<String>,
    pub actor_token_type: Option<String>,
}

impl IssueSpec {
    /// Empty strings count as absent (HTML forms send `audience=`).
    pub fn normalised(mut self) -> Self {
        for field in [
            &mut self.grant_type,
            &mut self.resource,
            &mut self.audience,
            &mut self.scope,
            &mut self.requested_token_type,
            &mut self.subject_token,
            &mut self.subject_token_type,
            &mut self.actor_token,
            &mut self.actor_token_type,
        ] {
            if field.as_deref().is_some_and(|v| v.trim().is_empty()) {
                *field = None;
            }
        }
        self
    }
}

/// `com.vmware.oauth2.token_info`
#[derive(Debug, Clone, PartialEq)]
pub struct TokenInfo {
    pub access_token: String,
    pub token_type: String,
    pub expires_in: Option<i64>,
    pub scope: Option<String>,
    pub refresh_token: Option<String>,
    pub issued_token_type: String,
}

impl Vcenter<'_> {
    /// Token exchange (`Token.issue` and the legacy `TokenExchange.exchange`) for `caller`,
    /// with `host` the name the client addressed (it goes into `iss`). Records
    /// `VCENTER_TOKEN_ISSUED` or `VCENTER_TOKEN_ISSUE_FAILED`.
    pub fn issue_token(&self, caller: &str, spec: &IssueSpec, host: &str) -> CoreResult<TokenInfo> {
        let result = self.exchange(spec, host);
        let requested = spec.requested_token_type.clone().unwrap_or_default();
        match &result {
            Ok((info, subject)) => {
                self.svc.events.record_or_log(NewEvent {
                    message: format!(
                        "{caller} exchanged a token of {} for {} ({})",
                        subject.principal, info.issued_token_type, info.token_type
                    ),
                    details: details([
                        ("caller", json!(caller)),
                        ("subjectTokenType", json!(spec.subject_token_type)),
                        ("issuedTokenType", json!(info.issued_token_type)),
                        ("audience", json!(spec.audience)),
                        ("expiresIn", json!(info.expires_in)),
                    ]),
                    ..self.event(EVENT_TOKEN_ISSUED, true, Some(subject.principal.clone()))
                });
            }
            Err(e) => self.token_failed(caller, Some(spec), &requested, e),
        }
        result.map(|(info, _)| info)
    }

    /// Records `VCENTER_TOKEN_ISSUE_FAILED` (also for requests refused before the exchange,
    /// e.g. an unreadable body: then `spec` is `None`).
    pub fn token_failed(
        &self,
        caller: &str,
        spec: Option<&IssueSpec>,
        requested: &str,
        error: &CoreError,
    ) {
        self.svc.events.record_or_log(NewEvent {
            message: format!("Token exchange by {caller} failed: {error}"),
            details: details([
                ("caller", json!(caller)),
                (
                    "subjectTokenType",
                    json!(spec.and_then(|s| s.subject_token_type.clone())),
                ),
                ("requestedTokenType", json!(requested)),
                ("reason", json!(error.to_string())),
            ]),
            ..self.event(EVENT_TOKEN_FAILED, false, Some(caller.to_string()))
        });
    }

    fn exchange(&self, spec: &IssueSpec, host: &str) -> CoreResult<(TokenInfo, Subject)> {
        let rt = self.runtime()?;
        let required = |v: &Option<String>, name: &str| {
            v.clone()
                .ok_or_else(|| CoreError::invalid_argument(name, format!("{name} is required")))
        };
        let grant_type = required(&spec.grant_type, "grant_type")?;
        if grant_type != GRANT_TOKEN_EXCHANGE {
            return Err(CoreError::invalid_argument(
                FIELD_UNSUPPORTED_GRANT,
                format!("Unsupported grant type {grant_type}"),
            ));
        }
        let subject_token = required(&spec.subject_token, "subject_token")?;
        let subject_type = required(&spec.subject_token_type, "subject_token_type")?;
        // The tokens first: a subject that does not verify is invalid_grant whatever else
        // the request says.
        let subject = self.subject(&subject_token, &subject_type, "subject_token", host)?;
        let actor = match (&spec.actor_token, &spec.actor_token_type) {
            (Some(t), Some(tt)) => Some(self.subject(t, tt, "actor_token", host)?),
            (Some(_), None) => {
                return Err(CoreError::invalid_argument(
                    "actor_token_type",
                    "actor_token_type is required with actor_token",
                ))
            }
            (None, Some(_)) => {
                return Err(CoreError::invalid_argument(
                    "actor_token",
                    "actor_token_type given without actor_token",
                ))
            }
            (None, None) => None,
        };
        // "If missing or null, it is inferred from other arguments": the type is at the
        // server's discretion (SAML for an IdP token, a JWT for a SAML token), the audience
        // of a JWT this vCenter itself (its issuer), the resource is not needed.
        let requested = match spec.requested_token_type.as_deref() {
            Some(t @ (TYPE_SAML2 | TYPE_ID_TOKEN | TYPE_ACCESS_TOKEN)) => t,
            Some(TYPE_JWT) => TYPE_ACCESS_TOKEN,
            Some(other) => {
                return Err(CoreError::invalid_argument(
                    "requested_token_type",
                    format!("requested_token_type {other} is not supported"),
                ))
            }
            None if subject_type == TYPE_SAML2 => TYPE_ID_TOKEN,
            None => TYPE_SAML2,
        };
        if let Some(resource) = &spec.resource {
            let absolute = resource
                .split_once("://")
                .is_some_and(|(scheme, rest)| !scheme.is_empty() && !rest.is_empty());
            if !absolute || resource.contains(' ') {
                return Err(CoreError::invalid_argument(
                    "resource",
                    "resource must be an absolute URI",
                ));
            }
        }
        // Any audience, unless the fixtures list the ones this vCenter serves.
        if let Some(audience) = &spec.audience {
            if !rt.spec.audiences.is_empty() && !rt.spec.audiences.contains(audience) {
                return Err(CoreError::invalid_argument(
                    FIELD_TARGET_AUDIENCE,
                    format!("Unknown audience value {audience}"),
                ));
            }
        }
        let scopes: Vec<&str> = spec
            .scope
            .as_deref()
            .map(|s| s.split(' ').filter(|x| !x.is_empty()).collect())
            .unwrap_or_default();
        if let Some(bad) = scopes.iter().find(|s| !SATISFIABLE_SCOPES.contains(s)) {
            return Err(CoreError::invalid_argument(
                FIELD_TARGET_SCOPE,
                format!(
                    "scope {bad} cannot be granted; this vCenter grants {}",
                    SATISFIABLE_SCOPES.join(", ")
                ),
            ));
        }

        let now_ms = self.svc.clock.now_ms();
        let now = now_ms.div_euclid(1000);
        let info = if requested == TYPE_SAML2 {
            let lifetime = rt.spec.saml_token_lifetime_seconds;
            let assertion = Assertion {
                id: format!("_{}", uuid::Uuid::new_v4()),
                issuer: rt.saml_issuer(host),
                subject: subject.principal.clone(),
                groups: subject.groups.clone(),
                audiences: spec.audience.iter().cloned().collect(),
                issue_instant_ms: now_ms,
                not_before_ms: now_ms,
                not_on_or_after_ms: now_ms.saturating_add(lifetime.saturating_mul(1000)),
            };
            let xml = saml::sign_assertion(&assertion, rt.rsa()?, rt.cert_der()?)?;
            TokenInfo {
                access_token: STANDARD.encode(xml.as_bytes()),
                token_type: "Bearer".into(),
                expires_in: Some(lifetime.saturating_sub(1)),
                scope: None,
                refresh_token: None,
                issued_token_type: TYPE_SAML2.into(),
            }
        } else {
            let lifetime = rt.spec.jwt_token_lifetime_seconds;
            let (name, domain) = split_user(&subject.principal, &rt.spec.domain);
            let issuer = rt.issuer(host);
            let audience = spec.audience.clone().unwrap_or_else(|| issuer.clone());
            let mut claims: Claims = details([
                ("iss", json!(issuer)),
                ("sub", json!(subject.principal)),
                ("aud", json!(audience)),
                ("domain", json!(domain)),
                ("group_names", json!(subject.groups)),
                ("iat", json!(now)),
                ("exp", json!(now.saturating_add(lifetime))),
                ("jti", json!(uuid::Uuid::new_v4().to_string())),
                ("username", json!(name)),
            ]);
            if let Some(actor) = &actor {
                claims.insert("act".into(), json!({"sub": actor.principal}));
            }
            let token = rt.mint_jwt(&claims)?;
            let id_token = requested == TYPE_ID_TOKEN;
            TokenInfo {
                access_token: token,
                token_type: if id_token { "N_A" } else { "Bearer" }.into(),
                expires_in: Some(lifetime.saturating_sub(1)),
                scope: Some("openid".into()),
                refresh_token: None,
                issued_token_type: requested.into(),
            }
        };
        Ok((info, subject))
    }
}
