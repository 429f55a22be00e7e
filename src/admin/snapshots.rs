//! Named snapshots of the whole store, kept as files under `<data-dir>/snapshots/` so they
//! survive restarts: `POST /_vlsim/snapshot/{name}` takes one, `.../restore` (or
//! `POST /_vlsim/reset {"snapshot": name}`) brings it back.

use super::{AdminError, AdminResult};
use crate::state::AppState;
use actix_web::{web, HttpResponse};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(Serialize, Deserialize)]
struct SnapshotFile {
    version: u32,
    name: String,
    created: String,
    /// tree name → [[key, value]] base64.
    trees: BTreeMap<String, Vec<[String; 2]>>,
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn dir(state: &AppState) -> PathBuf {
    state.config.data_dir.join("snapshots")
}

fn path(state: &AppState, name: &str) -> Result<PathBuf, AdminError> {
    if valid_name(name) {
        Ok(dir(state).join(format!("{name}.json")))
    } else {
        Err(AdminError::bad_request(
            "snapshot names are 1-64 characters of A-Z a-z 0-9 - _ . (not starting with .)",
        ))
    }
}

#[derive(Serialize)]
struct Taken<'a> {
    name: &'a str,
    created: &'a str,
    records: usize,
}

#[derive(Serialize)]
struct Restored<'a> {
    status: &'static str,
    snapshot: &'a str,
}

#[derive(Serialize)]
struct Names {
    snapshots: Vec<String>,
}

pub async fn take(state: web::Data<AppState>, name: web::Path<String>) -> AdminResult {
    let (created, records) = take_named(&state, &name)?;
    Ok(HttpResponse::Created().json(Taken {
        name: name.as_str(),
        created: &created,
        records,
    }))
}

/// Snapshots the whole store under `name`: when, and how many records.
pub fn take_named(state: &AppState, name: &str) -> Result<(String, usize), AdminError> {
    let file = path(state, name)?;
    let exported = state.core.store().export_all()?;
    let records: usize = exported.iter().map(|(_, r)| r.len()).sum();
    let snapshot = SnapshotFile {
        version: 1,
        name: name.to_string(),
        created: crate::clock::rfc3339_ms(state.core.clock().now_ms()),
        trees: exported
            .into_iter()
            .map(|(tree, recs)| {
                let recs = recs
                    .into_iter()
                    .map(|(k, v)| [STANDARD.encode(k), STANDARD.encode(v)])
                    .collect();
                (tree, recs)
            })
            .collect(),
    };
    let write = serde_json::to_vec(&snapshot)
        .map_err(|e| e.to_string())
        .and_then(|bytes| {
            std::fs::create_dir_all(dir(state)).map_err(|e| e.to_string())?;
            // Write then rename, so a crash never leaves a half-written snapshot.
            let tmp = file.with_extension("json.tmp");
            std::fs::write(&tmp, bytes).map_err(|e| e.to_string())?;
            std::fs::rename(&tmp, &file).map_err(|e| e.to_string())
        });
    write.map_err(AdminError::internal)?;
    Ok((snapshot.created, records))
}

pub async fn restore_named(state: &AppState, name: &str) -> AdminResult {
    restore_world(state, name)?;
    Ok(HttpResponse::Ok().json(Restored {
        status: "restored",
        snapshot: name,
    }))
}

/// Replaces the store with snapshot `name` and empties the journal.
pub fn restore_world(state: &AppState, name: &str) -> Result<(), AdminError> {
    let file = path(state, name)?;
    let bytes = std::fs::read(&file)
        .map_err(|_| AdminError::not_found(format!("no snapshot named {name}")))?;
    let snapshot: SnapshotFile = serde_json::from_slice(&bytes)
        .map_err(|e| AdminError::internal(format!("snapshot {name} is unreadable: {e}")))?;
    let mut data = Vec::with_capacity(snapshot.trees.len());
    for (tree, recs) in snapshot.trees {
        let mut decoded = Vec::with_capacity(recs.len());
        for [k, v] in recs {
            match (STANDARD.decode(k), STANDARD.decode(v)) {
                (Ok(k), Ok(v)) => decoded.push((k, v)),
                _ => return Err(AdminError::internal(format!("snapshot {name} is corrupt"))),
            }
        }
        data.push((tree, decoded));
    }
    state.core.restore(&data)?;
    state.control.journal.clear();
    Ok(())
}

pub async fn restore(state: web::Data<AppState>, name: web::Path<String>) -> AdminResult {
    restore_named(&state, &name).await
}

pub async fn delete(state: web::Data<AppState>, name: web::Path<String>) -> AdminResult {
    delete_named(&state, &name)?;
    Ok(HttpResponse::NoContent().finish())
}

pub fn delete_named(state: &AppState, name: &str) -> Result<(), AdminError> {
    let file = path(state, name)?;
    std::fs::remove_file(file)
        .map_err(|_| AdminError::not_found(format!("no snapshot named {name}")))
}

pub async fn list(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(Names {
        snapshots: names(&state),
    })
}

/// The stored snapshots' names, sorted.
pub fn names(state: &AppState) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir(state))
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|e| {
                    e.file_name()
                        .to_str()
                        .and_then(|n| n.strip_suffix(".json"))
                        .map(str::to_string)
                })
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}
