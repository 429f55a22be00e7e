//! Fault injection: rules that make matching calls fail the way the real server can (a
//! typed fault of the surface, an HTTP status, or a dropped connection), with a
//! probability and a maximum count, and counters of how often each fired.

use super::routes::TypedFault;
use crate::surface::Surface;
use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use actix_web::HttpResponse;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum FaultAction {
    /// The surface's own typed error: a VLSI SOAP fault (`fault` names the type, default
    /// `UnexpectedFault`), a FusionAuth error (status, default 503), an OAuth2 error
    /// (`error`, default `invalid_grant`) or a vAPI error (default `SERVICE_UNAVAILABLE`).
    Typed {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        fault: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        status: Option<u16>,
    },
    /// A bare HTTP status with an optional body.
    Status {
        status: u16,
        #[serde(default)]
        body: String,
    },
    /// The connection is closed without a complete response.
    Drop,
}

/// What `POST /_vlsim/faults` accepts.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewRule {
    /// `vlsi`, `fusionauth` or `vcenter`; absent = any.
    #[serde(default)]
    pub surface: Option<Surface>,
    /// Operation name (`JwtToken_Generate`, `POST /api/jwt/refresh`, ...); a trailing `*`
    /// matches a prefix; absent = any.
    #[serde(default)]
    pub operation: Option<String>,
    /// Only calls by this user (VLSI principal such as `VLSIM\administrator`).
    #[serde(default)]
    pub user: Option<String>,
    /// 0.0–1.0, default 1.0.
    #[serde(default)]
    pub probability: Option<f64>,
    /// Stop firing after this many times.
    #[serde(default)]
    pub max_count: Option<u64>,
    pub action: FaultAction,
}

#[derive(Debug, Clone, Serialize)]
pub struct Rule {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub surface: Option<Surface>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    pub probability: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_count: Option<u64>,
    pub action: FaultAction,
    /// How many times it fired.
    pub fired: u64,
    /// How many calls it matched (fired or not, by probability).
    pub matched: u64,
}

/// A rule that fired for a call.
#[derive(Debug, Clone)]
pub struct Fired {
    pub rule_id: String,
    pub action: FaultAction,
}

/// What a fired rule makes of a call.
pub enum Injected<'a> {
    /// A response every surface answers the same way (`drop`, `status`).
    Response(HttpResponse),
    /// The surface's own typed error, for the surface to render.
    Typed(TypedFault<'a>),
}

impl Fired {
    pub fn injected(&self) -> Injected<'_> {
        match &self.action {
            FaultAction::Drop => Injected::Response(dropped_connection()),
            FaultAction::Status { status, body } => Injected::Response(
                HttpResponse::build(
                    StatusCode::from_u16(*status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE),
                )
                .body(body.clone()),
            ),
            FaultAction::Typed {
                fault,
                message,
                status,
            } => Injected::Typed(TypedFault {
                fault: fault.as_deref(),
                // The rule's message, or one naming the rule.
                message: message
                    .clone()
                    .unwrap_or_else(|| format!("Injected fault (rule {})", self.rule_id)),
                status: status.and_then(|s| StatusCode::from_u16(s).ok()),
            }),
        }
    }
}

/// A response whose body fails after the headers: the client sees the connection close
/// without a complete response.
fn dropped_connection() -> HttpResponse {
    let failing = futures_util::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "vlsim: connection dropped by an injected fault",
        ))
    });
    HttpResponse::Ok()
        .insert_header(("connection", "close"))
        .streaming(failing)
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RuleError {
    #[error("probability must be between 0 and 1")]
    Probability,
    #[error("surface must be one of {}", Surface::EMULATED.map(Surface::name).join(", "))]
    Surface,
    #[error("status must be an HTTP status between 200 and 599")]
    Status,
}

#[derive(Debug, Default)]
pub struct FaultInjector {
    rules: Mutex<Vec<Rule>>,
    /// How many rules are set, kept beside them: every call asks whether there are any,
    /// and with a worker per core a shared lock taken twice per call costs more than the
    /// answer (its cache line travels between the cores).
    count: AtomicUsize,
}

fn operation_matches(pattern: &str, operation: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => operation.starts_with(prefix),
        None => pattern.eq_ignore_ascii_case(operation),
    }
}

impl FaultInjector {
    /// Whether any rule is set (calls skip naming their operation when none is).
    pub fn is_empty(&self) -> bool {
        self.count.load(Ordering::Acquire) == 0
    }

    pub fn add(&self, new: NewRule) -> Result<Rule, RuleError> {
        let probability = new.probability.unwrap_or(1.0);
        if !(0.0..=1.0).contains(&probability) {
            return Err(RuleError::Probability);
        }
        if new.surface.is_some_and(|s| !Surface::EMULATED.contains(&s)) {
            return Err(RuleError::Surface);
        }
        let status = match &new.action {
            FaultAction::Status { status, .. } => Some(*status),
            FaultAction::Typed { status, .. } => *status,
            FaultAction::Drop => None,
        };
        if status.is_some_and(|s| !(200..=599).contains(&s)) {
            return Err(RuleError::Status);
        }
        let rule = Rule {
            id: uuid::Uuid::new_v4().to_string(),
            surface: new.surface,
            operation: new.operation,
            user: new.user,
            probability,
            max_count: new.max_count,
            action: new.action,
            fired: 0,
            matched: 0,
        };
        if let Ok(mut rules) = self.rules.lock() {
            rules.push(rule.clone());
            self.count.store(rules.len(), Ordering::Release);
        }
        Ok(rule)
    }

    pub fn list(&self) -> Vec<Rule> {
        self.rules.lock().map(|r| r.clone()).unwrap_or_default()
    }

    pub fn remove(&self, id: &str) -> bool {
        let Ok(mut rules) = self.rules.lock() else {
            return false;
        };
        let before = rules.len();
        rules.retain(|r| r.id != id);
        self.count.store(rules.len(), Ordering::Release);
        rules.len() != before
    }

    pub fn clear(&self) {
        if let Ok(mut rules) = self.rules.lock() {
            rules.clear();
            self.count.store(0, Ordering::Release);
        }
    }

    /// The first rule that matches this call and fires (by its probability and count).
    pub fn check(&self, surface: Surface, operation: &str, user: Option<&str>) -> Option<Fired> {
        if self.is_empty() {
            return None;
        }
        let mut rules = self.rules.lock().ok()?;
        for rule in rules.iter_mut() {
            let matches = rule.surface.is_none_or(|s| s == surface)
                && rule
                    .operation
                    .as_deref()
                    .is_none_or(|p| operation_matches(p, operation))
                && rule
                    .user
                    .as_deref()
                    .is_none_or(|u| user.is_some_and(|cu| cu.eq_ignore_ascii_case(u)));
            if !matches || rule.max_count.is_some_and(|max| rule.fired >= max) {
                continue;
            }
            rule.matched += 1;
            if rule.probability < 1.0 && rand::random::<f64>() >= rule.probability {
                continue;
            }
            rule.fired += 1;
            return Some(Fired {
                rule_id: rule.id.clone(),
                action: rule.action.clone(),
            });
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed() -> FaultAction {
        FaultAction::Typed {
            fault: None,
            message: None,
            status: None,
        }
    }

    #[test]
    fn emptiness_follows_every_change_of_the_rules() {
        let f = FaultInjector::default();
        let any = || NewRule {
            surface: None,
            operation: None,
            user: None,
            probability: None,
            max_count: None,
            action: typed(),
        };
        assert!(f.is_empty());
        let first = f.add(any()).unwrap();
        let second = f.add(any()).unwrap();
        assert!(!f.is_empty());
        assert!(f.remove(&first.id));
        assert!(!f.is_empty(), "one rule left");
        assert!(f.check(Surface::Vlsi, "JwtToken_Generate", None).is_some());
        assert!(f.remove(&second.id));
        assert!(f.is_empty());
        assert!(f.check(Surface::Vlsi, "JwtToken_Generate", None).is_none());
        f.add(any()).unwrap();
        f.clear();
        assert!(f.is_empty());
        assert!(f.check(Surface::Vlsi, "JwtToken_Generate", None).is_none());
    }

    #[test]
    fn max_count_and_matching() {
        let f = FaultInjector::default();
        f.add(NewRule {
            surface: Some(Surface::Vlsi),
            operation: Some("JwtToken_*".into()),
            user: None,
            probability: None,
            max_count: Some(2),
            action: typed(),
        })
        .unwrap();
        assert!(f
            .check(Surface::FusionAuth, "JwtToken_Generate", None)
            .is_none());
        assert!(f
            .check(Surface::Vlsi, "AuthenticationManager_Login", None)
            .is_none());
        assert!(f.check(Surface::Vlsi, "JwtToken_Generate", None).is_some());
        assert!(f
            .check(Surface::Vlsi, "JwtToken_GetPublicKeys", None)
            .is_some());
        assert!(f.check(Surface::Vlsi, "JwtToken_Generate", None).is_none());
        assert_eq!(f.list()[0].fired, 2);
    }

    #[test]
    fn probability_zero_never_fires_and_bad_rules_refused() {
        let f = FaultInjector::default();
        let rule = f
            .add(NewRule {
                surface: None,
                operation: None,
                user: Some("VLSIM\\auditor".into()),
                probability: Some(0.0),
                max_count: None,
                action: FaultAction::Drop,
            })
            .unwrap();
        for _ in 0..50 {
            assert!(f
                .check(Surface::Vlsi, "x", Some("vlsim\\AUDITOR"))
                .is_none());
        }
        assert_eq!(f.list()[0].matched, 50);
        assert!(f.remove(&rule.id));
        let bad = NewRule {
            surface: Some(Surface::Admin),
            operation: None,
            user: None,
            probability: None,
            max_count: None,
            action: typed(),
        };
        assert_eq!(f.add(bad).unwrap_err(), RuleError::Surface);
    }
}
