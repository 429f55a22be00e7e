//! `POST /_vlsim/reset` and `POST /_vlsim/seed`: back to the fixtures (or a snapshot), or to
//! a fixtures document sent over the API.

use super::{snapshots, AdminError, AdminResult};
use crate::state::AppState;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ResetRequest {
    /// Restore this snapshot instead of the fixtures.
    #[serde(default)]
    snapshot: Option<String>,
}

#[derive(Serialize)]
struct Done<'a> {
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    fixtures: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    keys: Option<usize>,
}

/// Back to the fixtures (or a snapshot): sessions, tokens and events go, the journal is
/// emptied. Fault rules, latency and the clock are left as they are.
pub async fn reset(state: web::Data<AppState>, body: web::Bytes) -> AdminResult {
    let request: ResetRequest = if body.iter().all(u8::is_ascii_whitespace) {
        ResetRequest::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| AdminError::bad_request(format!("invalid reset request: {e}")))?
    };
    if let Some(name) = &request.snapshot {
        return snapshots::restore_named(&state, name).await;
    }
    reset_to_fixtures(&state).await?;
    Ok(HttpResponse::Ok().json(Done {
        status: "reset",
        fixtures: Some(&state.source.origin),
        keys: None,
    }))
}

/// Back to the fixtures; the journal is emptied. The store work (clearing every relation,
/// loading the fixtures, the flush) runs on the blocking pool, not on the HTTP worker whose
/// other connections would wait for it.
pub async fn reset_to_fixtures(state: &web::Data<AppState>) -> Result<(), AdminError> {
    let worker_state = state.clone();
    web::block(move || worker_state.core.reset(&worker_state.source))
        .await
        .map_err(AdminError::internal)??;
    state.control.journal.clear();
    tracing::info!(fixtures = %state.source.origin, "reset to the fixtures");
    Ok(())
}

/// Loads a fixtures document (TOML, or the same shape as JSON) over the API, replacing the
/// world; a bad one is refused with 400 and changes nothing.
pub async fn seed(state: web::Data<AppState>, req: HttpRequest, body: web::Bytes) -> AdminResult {
    let text = std::str::from_utf8(&body)
        .map_err(|_| AdminError::bad_request("the fixtures must be UTF-8 text"))?;
    let is_json = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"));
    let text = if is_json {
        serde_json::from_str::<serde_json::Value>(text)
            .map_err(|e| e.to_string())
            .and_then(|v| toml::to_string(&v).map_err(|e| e.to_string()))
            .map_err(|e| AdminError::bad_request(format!("invalid JSON fixtures: {e}")))?
    } else {
        text.to_string()
    };
    let (world, keys) = crate::fixtures::parse(&text, "seed request", None)
        .map_err(|e| AdminError::bad_request(e.to_string()))?;
    let source = crate::core::WorldSource {
        world,
        keys,
        origin: "POST /_vlsim/seed".into(),
        generate_keys: false,
    };
    // Validate fully before touching the store: a bad seed must leave the world as it was.
    for key in &source.keys {
        crate::core::keys::SigningKey::from_material(key)
            .map_err(|e| AdminError::bad_request(e.to_string()))?;
    }
    if !source
        .keys
        .iter()
        .any(|k| k.id == source.world.horizon.signing_key)
    {
        return Err(AdminError::bad_request(format!(
            "horizon.signing_key {} names no key in the fixtures",
            source.world.horizon.signing_key
        )));
    }
    state.core.reset(&source)?;
    state.control.journal.clear();
    Ok(HttpResponse::Ok().json(Done {
        status: "seeded",
        fixtures: None,
        keys: Some(source.keys.len()),
    }))
}
