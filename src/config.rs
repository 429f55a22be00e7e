//! Configuration, layered: built-in defaults → TOML file (`--config`) → `VLSIM_*`
//! environment variables → command-line flags. Unknown keys in the file are rejected.

use crate::xml::Limits;
use serde::Deserialize;
use std::path::{Path, PathBuf};

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_DATA_DIR: &str = "./vlsim-data";
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// The resolved configuration the server runs with.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: String,
    pub data_dir: PathBuf,
    /// Fixtures file loaded into an empty store; `None` = the embedded defaults.
    pub fixtures: Option<PathBuf>,
    pub generate_keys: bool,
    pub body_limit: usize,
    pub xml_limits: Limits,
    pub workers: Option<usize>,
    pub log_format: LogFormat,
    /// Requests kept in the journal; 0 disables it.
    pub journal_size: usize,
    /// Serve only the emulated surfaces and `/_vlsim/health`.
    pub no_admin: bool,
    /// When set, `/_vlsim/` endpoints (except health) need `Authorization: Bearer <token>`.
    pub admin_token: Option<String>,
    /// Serve HTTPS (rustls) instead of HTTP.
    pub tls: bool,
    /// PEM certificate chain and private key; without them `--tls` generates a self-signed
    /// certificate into `<data-dir>/tls/`.
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// Events kept per surface (the newest); failures have their own budget.
    pub event_retention: usize,
    /// Failure events kept per surface [default: a tenth of `event_retention`].
    pub event_retention_failures: Option<usize>,
    /// Events older than this many seconds (server clock) are removed too.
    pub event_max_age: Option<u64>,
    /// Seconds between sweeps of expired sessions, refresh tokens and cursors.
    pub sweep_interval: u64,
    /// Start on a data dir that lost data since its last checkpoint, serving what is left.
    pub accept_damaged_store: bool,
}

pub const DEFAULT_JOURNAL_SIZE: usize = 1000;
pub const DEFAULT_EVENT_RETENTION: usize = 100_000;
pub const DEFAULT_SWEEP_INTERVAL: u64 = 60;

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: DEFAULT_LISTEN.into(),
            data_dir: DEFAULT_DATA_DIR.into(),
            fixtures: None,
            generate_keys: false,
            body_limit: DEFAULT_BODY_LIMIT,
            xml_limits: Limits::default(),
            workers: None,
            log_format: LogFormat::Text,
            journal_size: DEFAULT_JOURNAL_SIZE,
            no_admin: false,
            admin_token: None,
            tls: false,
            tls_cert: None,
            tls_key: None,
            event_retention: DEFAULT_EVENT_RETENTION,
            event_retention_failures: None,
            event_max_age: None,
            sweep_interval: DEFAULT_SWEEP_INTERVAL,
            accept_damaged_store: false,
        }
    }
}

impl Config {
    /// Failure events kept per surface.
    pub fn failure_retention(&self) -> usize {
        self.event_retention_failures
            .unwrap_or((self.event_retention / 10).max(1))
    }
}

/// The config file's shape; every key optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub fixtures: Option<PathBuf>,
    pub generate_keys: Option<bool>,
    pub body_limit: Option<usize>,
    pub workers: Option<usize>,
    pub log_format: Option<LogFormat>,
    pub journal_size: Option<usize>,
    pub no_admin: Option<bool>,
    pub admin_token: Option<String>,
    pub tls: Option<bool>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub event_retention: Option<usize>,
    pub event_retention_failures: Option<usize>,
    pub event_max_age: Option<u64>,
    pub sweep_interval: Option<u64>,
    pub accept_damaged_store: Option<bool>,
}

/// Values given as flags or `VLSIM_*` variables (clap reads both).
#[derive(Debug, Default, Clone, clap::Args)]
pub struct Overrides {
    /// Address to listen on (port 0: the OS picks one) [default: 127.0.0.1:8080]
    #[arg(long, env = "VLSIM_LISTEN")]
    pub listen: Option<String>,
    /// Data directory (sled) [default: ./vlsim-data]
    #[arg(long, env = "VLSIM_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Fixtures file loaded into an empty data dir [default: the embedded fixtures/default.toml]
    #[arg(long, env = "VLSIM_FIXTURES")]
    pub fixtures: Option<PathBuf>,
    /// TOML config file (keys: the long flag names with underscores, e.g. data_dir, journal_size)
    #[arg(long, env = "VLSIM_CONFIG")]
    pub config: Option<PathBuf>,
    /// Make fresh random signing keys (same ids) instead of the fixture test keys, on first start
    #[arg(long, env = "VLSIM_GENERATE_KEYS", num_args = 0..=1, default_missing_value = "true")]
    pub generate_keys: Option<bool>,
    /// Request body limit in bytes [default: 1048576]
    #[arg(long, env = "VLSIM_BODY_LIMIT")]
    pub body_limit: Option<usize>,
    /// HTTP worker threads [default: one per core]
    #[arg(long, env = "VLSIM_WORKERS")]
    pub workers: Option<usize>,
    /// Log format on stderr
    #[arg(long, env = "VLSIM_LOG_FORMAT", value_enum)]
    pub log_format: Option<LogFormat>,
    /// Requests kept in the journal (0 disables it) [default: 1000]
    #[arg(long, env = "VLSIM_JOURNAL_SIZE")]
    pub journal_size: Option<usize>,
    /// Turn the admin API off (only /_vlsim/health stays)
    #[arg(long, env = "VLSIM_NO_ADMIN", num_args = 0..=1, default_missing_value = "true")]
    pub no_admin: Option<bool>,
    /// Require `Authorization: Bearer TOKEN` on the admin API (health excepted)
    #[arg(long, env = "VLSIM_ADMIN_TOKEN")]
    pub admin_token: Option<String>,
    /// Serve HTTPS; without --tls-cert/--tls-key a self-signed certificate is written to DATA_DIR/tls/
    #[arg(long, env = "VLSIM_TLS", num_args = 0..=1, default_missing_value = "true")]
    pub tls: Option<bool>,
    /// PEM certificate (chain) for --tls
    #[arg(long, env = "VLSIM_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for --tls
    #[arg(long, env = "VLSIM_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Events kept per surface, the newest (failures count apart) [default: 100000]
    #[arg(long, env = "VLSIM_EVENT_RETENTION")]
    pub event_retention: Option<usize>,
    /// Failure events (AUDIT_FAIL, ERROR) kept per surface [default: a tenth of --event-retention]
    #[arg(long, env = "VLSIM_EVENT_RETENTION_FAILURES")]
    pub event_retention_failures: Option<usize>,
    /// Also remove events older than this many seconds, by vlsim's clock [default: no age limit]
    #[arg(long, env = "VLSIM_EVENT_MAX_AGE")]
    pub event_max_age: Option<u64>,
    /// Seconds between sweeps of expired sessions, refresh tokens and query cursors (moving the clock sweeps at once too) [default: 60]
    #[arg(long, env = "VLSIM_SWEEP_INTERVAL")]
    pub sweep_interval: Option<u64>,
    /// Start even though the data dir lost data since its last checkpoint, serving what is left
    #[arg(long, env = "VLSIM_ACCEPT_DAMAGED_STORE", num_args = 0..=1, default_missing_value = "true")]
    pub accept_damaged_store: Option<bool>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{0}")]
    Invalid(String),
}

impl FileConfig {
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
    }
}

impl Config {
    /// Applies the layers in order.
    pub fn resolve(overrides: &Overrides) -> Result<Self, ConfigError> {
        let file = match &overrides.config {
            Some(path) => FileConfig::load(path)?,
            None => FileConfig::default(),
        };
        let defaults = Config::default();
        let config = Config {
            listen: overrides
                .listen
                .clone()
                .or(file.listen)
                .unwrap_or(defaults.listen),
            data_dir: overrides
                .data_dir
                .clone()
                .or(file.data_dir)
                .unwrap_or(defaults.data_dir),
            fixtures: overrides.fixtures.clone().or(file.fixtures),
            generate_keys: overrides
                .generate_keys
                .or(file.generate_keys)
                .unwrap_or(defaults.generate_keys),
            body_limit: overrides
                .body_limit
                .or(file.body_limit)
                .unwrap_or(defaults.body_limit),
            xml_limits: defaults.xml_limits,
            journal_size: overrides
                .journal_size
                .or(file.journal_size)
                .unwrap_or(defaults.journal_size),
            no_admin: overrides.no_admin.or(file.no_admin).unwrap_or(false),
            admin_token: overrides.admin_token.clone().or(file.admin_token),
            tls: overrides.tls.or(file.tls).unwrap_or(false) || overrides.tls_cert.is_some(),
            tls_cert: overrides.tls_cert.clone().or(file.tls_cert),
            tls_key: overrides.tls_key.clone().or(file.tls_key),
            workers: overrides.workers.or(file.workers),
            log_format: overrides
                .log_format
                .or(file.log_format)
                .unwrap_or(defaults.log_format),
            event_retention: overrides
                .event_retention
                .or(file.event_retention)
                .unwrap_or(defaults.event_retention),
            event_retention_failures: overrides
                .event_retention_failures
                .or(file.event_retention_failures),
            event_max_age: overrides.event_max_age.or(file.event_max_age),
            sweep_interval: overrides
                .sweep_interval
                .or(file.sweep_interval)
                .unwrap_or(defaults.sweep_interval),
            accept_damaged_store: overrides
                .accept_damaged_store
                .or(file.accept_damaged_store)
                .unwrap_or(false),
        };
        if config.body_limit < 1024 {
            return Err(ConfigError::Invalid(format!(
                "body_limit must be at least 1024 bytes, got {}",
                config.body_limit
            )));
        }
        if config.tls_cert.is_some() != config.tls_key.is_some() {
            return Err(ConfigError::Invalid(
                "tls_cert and tls_key go together".into(),
            ));
        }
        if config.admin_token.as_deref().is_some_and(str::is_empty) {
            return Err(ConfigError::Invalid("admin_token must not be empty".into()));
        }
        if config.workers == Some(0) {
            return Err(ConfigError::Invalid("workers must be at least 1".into()));
        }
        if config.event_retention == 0 || config.event_retention_failures == Some(0) {
            return Err(ConfigError::Invalid(
                "event_retention and event_retention_failures must be at least 1".into(),
            ));
        }
        if config.event_max_age == Some(0) || config.sweep_interval == 0 {
            return Err(ConfigError::Invalid(
                "event_max_age and sweep_interval must be at least 1 second".into(),
            ));
        }
        Ok(config)
    }

    /// A configuration for tests: port 0 on loopback, the given data dir.
    pub fn for_tests(data_dir: &Path) -> Self {
        Self {
            listen: "127.0.0.1:0".into(),
            data_dir: data_dir.to_path_buf(),
            workers: Some(1),
            ..Self::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_apply_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("vlsim.toml");
        std::fs::write(&file, "listen = \"127.0.0.1:9\"\nbody_limit = 4096\n").unwrap();
        let overrides = Overrides {
            config: Some(file.clone()),
            body_limit: Some(8192),
            ..Overrides::default()
        };
        let config = Config::resolve(&overrides).unwrap();
        assert_eq!(config.listen, "127.0.0.1:9");
        assert_eq!(config.body_limit, 8192);
        assert_eq!(config.data_dir, PathBuf::from(DEFAULT_DATA_DIR));
        std::fs::write(&file, "lissten = 1\n").unwrap();
        let err = Config::resolve(&overrides).unwrap_err().to_string();
        assert!(err.contains("lissten"), "{err}");
    }
}
