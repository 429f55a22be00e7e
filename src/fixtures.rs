//! Reads a fixtures document (`fixtures/default.toml`, embedded in the binary, or
//! `--fixtures FILE`) into a [`World`] and the key material it names. Only reading happens
//! here: the types are in [`crate::spec`], loading them into the store is the core's job.

use crate::spec::{KeyMaterial, World};
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

/// The world embedded in the binary.
pub fn embedded() -> Result<(World, Vec<KeyMaterial>), FixtureError> {
    parse(EMBEDDED_DEFAULT, "embedded default.toml", None)
}

pub fn from_file(path: &Path) -> Result<(World, Vec<KeyMaterial>), FixtureError> {
    let text = std::fs::read_to_string(path).map_err(|source| FixtureError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse(&text, &path.display().to_string(), path.parent())
}

/// Parses fixtures text; key files are resolved against `base_dir`, then against the files
/// embedded in the binary.
pub fn parse(
    text: &str,
    origin: &str,
    base_dir: Option<&Path>,
) -> Result<(World, Vec<KeyMaterial>), FixtureError> {
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
        let (world, keys) = embedded().unwrap();
        assert_eq!(keys.len(), 3);
        assert_eq!(world.horizon.domain, "VLSIM");
        assert_eq!(world.horizon.users.len(), 2);
    }

    #[test]
    fn unknown_keys_are_named() {
        let err = parse("bogus = 1\n[horizon]\n", "t", None).unwrap_err();
        assert!(err.to_string().contains("bogus"), "{err}");
    }

    #[test]
    fn vcenter_fixtures_are_strict() {
        let err = parse(
            "[horizon]\nconnection_server_name = \"c\"\ndomain = \"D\"\nsigning_key = \"k\"\n[vcenter]\nbogus = 1\n",
            "t",
            None,
        )
        .unwrap_err();
        assert!(err.to_string().contains("bogus"), "{err}");
    }

    #[test]
    fn default_fixture_matches_default_vcenter_spec() {
        let (world, _) = embedded().unwrap();
        assert_eq!(world.vcenter, crate::spec::VcenterSpec::default());
    }
}
