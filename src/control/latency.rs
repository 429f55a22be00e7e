//! Added latency: a global delay, per-operation delays, and random jitter on top.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::RwLock;
use std::time::Duration;

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct LatencySettings {
    /// Added to every emulated call (not to `/_vlsim/`).
    #[serde(default)]
    pub global_ms: u64,
    /// Up to this much more, uniformly at random.
    #[serde(default)]
    pub jitter_ms: u64,
    /// Per operation (`JwtToken_Generate`, `POST /api/jwt/refresh`, ...), replacing `global_ms`.
    #[serde(default)]
    pub operations: BTreeMap<String, u64>,
}

#[derive(Debug, Default)]
pub struct Latency {
    settings: RwLock<LatencySettings>,
}

pub const MAX_DELAY_MS: u64 = 60_000;

impl Latency {
    pub fn set(&self, settings: LatencySettings) -> Result<(), String> {
        let too_long = settings.global_ms > MAX_DELAY_MS
            || settings.jitter_ms > MAX_DELAY_MS
            || settings.operations.values().any(|v| *v > MAX_DELAY_MS);
        if too_long {
            return Err(format!("delays are limited to {MAX_DELAY_MS} ms"));
        }
        if let Ok(mut s) = self.settings.write() {
            *s = settings;
        }
        Ok(())
    }

    pub fn get(&self) -> LatencySettings {
        self.settings.read().map(|s| s.clone()).unwrap_or_default()
    }

    /// Whether no delay of any kind is set.
    pub fn is_off(&self) -> bool {
        self.settings
            .read()
            .map(|s| s.global_ms == 0 && s.jitter_ms == 0 && s.operations.is_empty())
            .unwrap_or(true)
    }

    /// The delay for one call of `operation`, if any.
    pub fn delay_for(&self, operation: &str) -> Option<Duration> {
        let s = self.settings.read().ok()?;
        let base = s.operations.get(operation).copied().unwrap_or(s.global_ms);
        let jitter = if s.jitter_ms > 0 {
            rand::random::<u64>() % (s.jitter_ms + 1)
        } else {
            0
        };
        let total = base + jitter;
        (total > 0).then(|| Duration::from_millis(total))
    }
}
