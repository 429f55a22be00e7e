//! What a data dir held at the last checkpoint: a small JSON file beside the store, and a
//! matching checkpoint number inside it. A store whose number is behind the manifest's lost
//! what it held then (its files were deleted, cut or overwritten), even if sled opens it
//! without complaint; the counts say what is missing.

use super::{Store, StoreError, StoreResult};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The manifest's file name in the data dir.
pub const MANIFEST_FILE: &str = "vlsim-manifest.json";
/// The checkpoint number inside the store (`meta` relation).
const META_CHECKPOINT: &str = "checkpoint";

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    pub format: u32,
    /// Raised at every checkpoint; the store holds the same number once it is durable.
    pub checkpoint: u64,
    /// The server clock's time of the checkpoint (RFC 3339).
    pub written_at: String,
    /// Written at a clean shutdown (rather than a periodic checkpoint).
    pub clean: bool,
    /// Records per relation at the checkpoint.
    pub counts: BTreeMap<String, u64>,
}

fn manifest_path(dir: &Path) -> PathBuf {
    dir.join(MANIFEST_FILE)
}

fn manifest_error(dir: &Path, message: impl std::fmt::Display) -> StoreError {
    StoreError::Manifest {
        path: manifest_path(dir),
        message: message.to_string(),
    }
}

impl Store {
    /// The data dir's manifest, if it has one.
    pub fn read_manifest(&self) -> StoreResult<Option<Manifest>> {
        if self.dir().as_os_str().is_empty() {
            return Ok(None);
        }
        let path = manifest_path(self.dir());
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| manifest_error(self.dir(), e)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(manifest_error(self.dir(), e)),
        }
    }

    /// The checkpoint number the store holds (0 for none).
    pub fn checkpoint_marker(&self) -> StoreResult<u64> {
        Ok(self
            .meta_get(META_CHECKPOINT)?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0))
    }

    /// Makes everything written durable under a new checkpoint number, then records it and
    /// `counts` in the manifest (written whole, then renamed into place).
    pub fn checkpoint(
        &self,
        counts: BTreeMap<String, u64>,
        written_at: String,
        clean: bool,
    ) -> StoreResult<u64> {
        if self.dir().as_os_str().is_empty() {
            return Ok(0);
        }
        let previous = self
            .read_manifest()
            .ok()
            .flatten()
            .map_or(0, |m| m.checkpoint);
        let number = previous.max(self.checkpoint_marker()?) + 1;
        self.meta_put(META_CHECKPOINT, &number.to_string())?;
        self.flush_blocking()?;
        let manifest = Manifest {
            format: 1,
            checkpoint: number,
            written_at,
            clean,
            counts,
        };
        let json =
            serde_json::to_vec_pretty(&manifest).map_err(|e| manifest_error(self.dir(), e))?;
        let path = manifest_path(self.dir());
        let temporary = path.with_extension("json.tmp");
        let written = (|| {
            use std::io::Write;
            let mut file = std::fs::File::create(&temporary)?;
            file.write_all(&json)?;
            file.sync_all()?;
            std::fs::rename(&temporary, &path)
        })();
        if let Err(e) = written {
            let _ = std::fs::remove_file(&temporary);
            return Err(manifest_error(self.dir(), e));
        }
        Ok(number)
    }

    /// Keeps the checkpoint number across `f` (which empties or replaces the `meta`
    /// relation), so a reset never looks like lost data.
    pub(super) fn keeping_checkpoint<T>(
        &self,
        f: impl FnOnce() -> StoreResult<T>,
    ) -> StoreResult<T> {
        let marker = self.checkpoint_marker()?;
        let out = f()?;
        if self.checkpoint_marker()? < marker {
            self.meta_put(META_CHECKPOINT, &marker.to_string())?;
        }
        Ok(out)
    }
}
