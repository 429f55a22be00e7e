//! Added latency: a global delay, per-operation delays, and random jitter on top.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
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
    /// Whether any delay is set, kept beside the settings so that the question every call
    /// asks takes no lock shared between the workers.
    delaying: AtomicBool,
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
            let off = settings.global_ms == 0
                && settings.jitter_ms == 0
                && settings.operations.is_empty();
            *s = settings;
            self.delaying.store(!off, Ordering::Release);
        }
        Ok(())
    }

    pub fn get(&self) -> LatencySettings {
        self.settings.read().map(|s| s.clone()).unwrap_or_default()
    }

    /// Whether no delay of any kind is set.
    pub fn is_off(&self) -> bool {
        !self.delaying.load(Ordering::Acquire)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn off_follows_every_setting() {
        let latency = Latency::default();
        assert!(latency.is_off());
        let operations = BTreeMap::from([("JwtToken_Generate".to_string(), 5)]);
        for on in [
            LatencySettings {
                global_ms: 5,
                ..Default::default()
            },
            LatencySettings {
                jitter_ms: 5,
                ..Default::default()
            },
            LatencySettings {
                operations,
                ..Default::default()
            },
        ] {
            latency.set(on).unwrap();
            assert!(!latency.is_off());
            latency.set(LatencySettings::default()).unwrap();
            assert!(latency.is_off());
        }
        latency
            .set(LatencySettings {
                global_ms: 5,
                ..Default::default()
            })
            .unwrap();
        assert!(latency
            .set(LatencySettings {
                global_ms: MAX_DELAY_MS + 1,
                ..Default::default()
            })
            .is_err());
        assert!(!latency.is_off(), "a refused setting changes nothing");
    }
}
