//! The OpenAPI 3.0 description of the admin API, served at `/_vlsim/openapi.json`, made
//! from the admin route table (paths, summaries, bodies, statuses) and the schemas below.
//! The document is mostly fixed text, so it is written as JSON values.

use super::SURFACE;
use crate::control::routes::Method;
use actix_web::HttpResponse;
use serde_json::{json, Value};

fn schemas() -> Value {
    json!({
        "Error": {"type": "object", "properties": {"error": {"type": "string"}}, "required": ["error"]},
        "Reset": {"type": "object", "additionalProperties": false, "properties": {"snapshot": {"type": "string"}}},
        "Fixtures": {"type": "string", "description": "fixtures/default.toml format"},
        "FaultRule": {
            "type": "object", "additionalProperties": false, "required": ["action"],
            "properties": {
                "surface": {"type": "string", "enum": crate::surface::Surface::EMULATED.map(crate::surface::Surface::name)},
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
    for route in SURFACE.routes {
        let (path, summary, body, status) = (route.path, route.summary, route.body, route.status);
        let method = match route.method {
            Method::Any => continue,
            m => m.name().to_lowercase(),
        };
        let mut op = json!({
            "summary": summary,
            "responses": {
                status.to_string(): {"description": "success"},
                "400": {"description": "invalid request", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
                "401": {"description": "missing or wrong admin token (with --admin-token)"}
            }
        });
        if let Some(schema) = body {
            let media = if schema == "Fixtures" {
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
        let entry = paths.entry(path.to_string()).or_insert_with(|| json!({}));
        if let Some(obj) = entry.as_object_mut() {
            obj.insert(method, op);
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
