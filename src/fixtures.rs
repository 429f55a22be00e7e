//! The fixtures file: the world vlsim starts with (`fixtures/default.toml`, embedded in the
//! binary, or `--fixtures FILE`). Parsed strictly: an unknown key is an error that names it.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub const EMBEDDED_DEFAULT: &str = include_str!("../fixtures/default.toml");

/// Key files shipped with the binary, so the embedded world (or a copy of default.toml moved
/// elsewhere) needs nothing on disk.
const EMBEDDED_FILES: &[(&str, &str)] = &[
    (
        "keys/rsa-2048.TEST-KEY.pem",
        include_str!("../fixtures/keys/rsa-2048.TEST-KEY.pem"),
    ),
    (
        "keys/ec-p256.TEST-KEY.pem",
        include_str!("../fixtures/keys/ec-p256.TEST-KEY.pem"),
    ),
];

#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    #[error("cannot read fixtures file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("fixtures {origin}: {message}")]
    Parse { origin: String, message: String },
    #[error("fixtures {origin}: key {key_id}: {message}")]
    Key {
        origin: String,
        key_id: String,
        message: String,
    },
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct World {
    #[serde(default)]
    pub keys: Vec<KeySpec>,
    pub horizon: HorizonSpec,
    #[serde(default)]
    pub fusionauth: crate::core::fusionauth::spec::FusionAuthSpec,
    /// vCenter sessions and token exchange (`[vcenter]`); documented defaults when absent.
    #[serde(default)]
    pub vcenter: crate::core::vcenter::VcenterSpec,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct KeySpec {
    pub id: String,
    #[serde(default)]
    pub name: String,
    /// RS256, ES256 or HS256.
    pub algorithm: String,
    #[serde(default)]
    pub private_key_file: Option<String>,
    #[serde(default)]
    pub private_key_pem: Option<String>,
    #[serde(default)]
    pub secret_base64: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HorizonSpec {
    pub connection_server_name: String,
    pub domain: String,
    pub signing_key: String,
    #[serde(default = "default_idle")]
    pub session_idle_timeout_seconds: i64,
    #[serde(default = "default_validity")]
    pub default_token_validity_minutes: i64,
    #[serde(default = "default_max_validity")]
    pub max_token_validity_minutes: i64,
    #[serde(default)]
    pub users: Vec<HorizonUserSpec>,
}

fn default_idle() -> i64 {
    1800
}
fn default_validity() -> i64 {
    30
}
fn default_max_validity() -> i64 {
    525_600
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HorizonUserSpec {
    pub name: String,
    pub password: String,
    #[serde(default)]
    pub domain: Option<String>,
    #[serde(default)]
    pub privileges: Vec<String>,
}

/// A key as resolved from the fixtures: PEM text or secret bytes, no file references left.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct KeyMaterial {
    pub id: String,
    pub name: String,
    pub algorithm: String,
    #[serde(default)]
    pub private_pem: Option<String>,
    #[serde(default)]
    pub secret_base64: Option<String>,
}

impl World {
    pub fn embedded() -> Result<(Self, Vec<KeyMaterial>), FixtureError> {
        Self::parse(EMBEDDED_DEFAULT, "embedded default.toml", None)
    }

    pub fn from_file(path: &Path) -> Result<(Self, Vec<KeyMaterial>), FixtureError> {
        let text = std::fs::read_to_string(path).map_err(|source| FixtureError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, &path.display().to_string(), path.parent())
    }

    /// Parses fixtures text; key files are resolved against `base_dir`, then against the
    /// files embedded in the binary.
    pub fn parse(
        text: &str,
        origin: &str,
        base_dir: Option<&Path>,
    ) -> Result<(Self, Vec<KeyMaterial>), FixtureError> {
        let world: World = toml::from_str(text).map_err(|e| FixtureError::Parse {
            origin: origin.to_string(),
            message: e.to_string(),
        })?;
        let mut keys = Vec::with_capacity(world.keys.len());
        for spec in &world.keys {
            let key_err = |message: String| FixtureError::Key {
                origin: origin.to_string(),
                key_id: spec.id.clone(),
                message,
            };
            let private_pem = match (&spec.private_key_pem, &spec.private_key_file) {
                (Some(pem), _) => Some(pem.clone()),
                (None, Some(file)) => Some(read_key_file(base_dir, file).map_err(key_err)?),
                (None, None) => None,
            };
            if private_pem.is_none() && spec.secret_base64.is_none() {
                return Err(key_err(
                    "needs private_key_file, private_key_pem or secret_base64".into(),
                ));
            }
            keys.push(KeyMaterial {
                id: spec.id.clone(),
                name: spec.name.clone(),
                algorithm: spec.algorithm.clone(),
                private_pem,
                secret_base64: spec.secret_base64.clone(),
            });
        }
        Ok((world, keys))
    }
}

fn read_key_file(base_dir: Option<&Path>, file: &str) -> Result<String, String> {
    if let Some(dir) = base_dir {
        let path = dir.join(file);
        if let Ok(text) = std::fs::read_to_string(&path) {
            return Ok(text);
        }
    }
    EMBEDDED_FILES
        .iter()
        .find(|(name, _)| *name == file)
        .map(|(_, text)| (*text).to_string())
        .ok_or_else(|| format!("key file {file} not found"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_world_parses() {
        let (world, keys) = World::embedded().unwrap();
        assert_eq!(keys.len(), 3);
        assert_eq!(world.horizon.domain, "VLSIM");
        assert_eq!(world.horizon.users.len(), 2);
    }

    #[test]
    fn unknown_keys_are_named() {
        let err = World::parse("bogus = 1\n[horizon]\n", "t", None).unwrap_err();
        assert!(err.to_string().contains("bogus"), "{err}");
    }
}
