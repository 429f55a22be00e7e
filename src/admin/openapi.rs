//! The OpenAPI 3.0 description of the admin API, served at `/_vlsim/openapi.json`.

use actix_web::HttpResponse;
use serde_json::{json, Value};

/// (method, path, summary, request body schema, success status)
const ENDPOINTS: &[(&str, &str, &str, Option<&str>, u16)] = &[
    ("get", "/_vlsim/health", "Liveness: status, version, uptime, data dir", None, 200),
    ("get", "/_vlsim/about", "Every emulated operation per surface", None, 200),
    ("get", "/_vlsim/openapi.json", "This document", None, 200),
    ("post", "/_vlsim/reset", "Back to the fixtures, or to a snapshot ({\"snapshot\": name}); sessions, tokens, events and the journal are cleared", Some("Reset"), 200),
    ("get", "/_vlsim/state", "Dump of the world: keys' public parts, users, sessions, counts", None, 200),
    ("post", "/_vlsim/seed", "Load a fixtures document (TOML, or JSON of the same shape), replacing the world", Some("Fixtures"), 200),
    ("get", "/_vlsim/snapshots", "Names of the stored snapshots", None, 200),
    ("post", "/_vlsim/snapshot/{name}", "Snapshot the whole store under a name", None, 201),
    ("delete", "/_vlsim/snapshot/{name}", "Delete a snapshot", None, 204),
    ("post", "/_vlsim/snapshot/{name}/restore", "Restore a snapshot", None, 200),
    ("get", "/_vlsim/journal", "Recent requests and responses, newest first (query: surface, operation, status, limit)", None, 200),
    ("delete", "/_vlsim/journal", "Empty the journal", None, 204),
    ("post", "/_vlsim/faults", "Add a fault rule", Some("FaultRule"), 201),
    ("get", "/_vlsim/faults", "Fault rules with their counters", None, 200),
    ("delete", "/_vlsim/faults", "Remove every fault rule", None, 204),
    ("delete", "/_vlsim/faults/{id}", "Remove one fault rule", None, 204),
    ("get", "/_vlsim/latency", "Latency settings", None, 200),
    ("put", "/_vlsim/latency", "Set latency (global, per operation, jitter)", Some("Latency"), 200),
    ("get", "/_vlsim/events", "Events newest first (query: type, prefix, surface, user, limit<=1000)", None, 200),
    ("get", "/_vlsim/clock", "The server clock", None, 200),
    ("put", "/_vlsim/clock", "Set the clock ({\"now\": RFC3339, \"freeze\": bool})", Some("SetClock"), 200),
    ("delete", "/_vlsim/clock", "Back to real time", None, 200),
    ("post", "/_vlsim/clock/advance", "Move the clock by {\"seconds\": N}", Some("Advance"), 200),
];

pub fn paths() -> Vec<String> {
    ENDPOINTS
        .iter()
        .map(|(m, p, ..)| format!("{} {p}", m.to_uppercase()))
        .collect()
}

fn schemas() -> Value {
    json!({
        "Error": {"type": "object", "properties": {"error": {"type": "string"}}, "required": ["error"]},
        "Reset": {"type": "object", "additionalProperties": false, "properties": {"snapshot": {"type": "string"}}},
        "Fixtures": {"type": "string", "description": "fixtures/default.toml format"},
        "FaultRule": {
            "type": "object", "additionalProperties": false, "required": ["action"],
            "properties": {
                "surface": {"type": "string", "enum": ["vlsi", "fusionauth", "vcenter"]},
                "operation": {"type": "string", "description": "e.g. JwtToken_Generate or 'POST /api/jwt/refresh'; trailing * matches a prefix"},
                "user": {"type": "string", "description": "VLSI principal, e.g. VLSIM\\administrator"},
                "probability": {"type": "number", "minimum": 0, "maximum": 1},
                "max_count": {"type": "integer", "minimum": 0},
                "action": {
                    "oneOf": [
                        {"type": "object", "required": ["kind"], "properties": {
                            "kind": {"enum": ["typed"]}, "fault": {"type": "string"},
                            "message": {"type": "string"}, "status": {"type": "integer"}}},
                        {"type": "object", "required": ["kind", "status"], "properties": {
                            "kind": {"enum": ["status"]}, "status": {"type": "integer"}, "body": {"type": "string"}}},
                        {"type": "object", "required": ["kind"], "properties": {"kind": {"enum": ["drop"]}}}
                    ]
                }
            }
        },
        "Latency": {
            "type": "object", "additionalProperties": false,
            "properties": {
                "global_ms": {"type": "integer", "minimum": 0, "maximum": 60000},
                "jitter_ms": {"type": "integer", "minimum": 0, "maximum": 60000},
                "operations": {"type": "object", "additionalProperties": {"type": "integer"}}
            }
        },
        "SetClock": {"type": "object", "additionalProperties": false, "required": ["now"],
            "properties": {"now": {"type": "string", "format": "date-time"}, "freeze": {"type": "boolean"}}},
        "Advance": {"type": "object", "additionalProperties": false, "required": ["seconds"],
            "properties": {"seconds": {"type": "integer"}}}
    })
}

pub fn spec() -> Value {
    let mut paths = serde_json::Map::new();
    for (method, path, summary, body, status) in ENDPOINTS {
        let mut op = json!({
            "summary": summary,
            "responses": {
                status.to_string(): {"description": "success"},
                "400": {"description": "invalid request", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
                "401": {"description": "missing or wrong admin token (with --admin-token)"}
            }
        });
        if let Some(schema) = body {
            let media = if *schema == "Fixtures" {
                "application/toml"
            } else {
                "application/json"
            };
            op.as_object_mut().map(|o| o.insert("requestBody".into(), json!({"content": {media: {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}})));
        }
        let params: Vec<Value> = ["name", "id"]
            .iter()
            .filter(|p| path.contains(&format!("{{{p}}}")))
            .map(|p| json!({"name": p, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        if !params.is_empty() {
            op.as_object_mut()
                .map(|o| o.insert("parameters".into(), Value::Array(params)));
        }
        let entry = paths
            .entry((*path).to_string())
            .or_insert_with(|| json!({}));
        if let Some(obj) = entry.as_object_mut() {
            obj.insert((*method).to_string(), op);
        }
    }
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "vlsim admin API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Emulator controls. With --admin-token, every endpoint but /_vlsim/health needs Authorization: Bearer <token>."
        },
        "paths": paths,
        "components": {
            "schemas": schemas(),
            "securitySchemes": {"adminToken": {"type": "http", "scheme": "bearer"}}
        }
    })
}

pub async fn document() -> HttpResponse {
    HttpResponse::Ok().json(spec())
}
