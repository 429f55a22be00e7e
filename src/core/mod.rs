//! Protocol-neutral rules: the only place behaviour is decided. Adapters parse the wire,
//! call into [`Core`], and encode what comes back; they never touch sled directly.
//!
//! Shared services (store, clock, key ring, tokens, sessions, events) live in the modules at
//! this level; each product's rules are a type of their own, reached as `core.horizon()`,
//! `core.fusionauth()` and `core.vcenter()`. Products depend on the shared services, never
//! on one another: what one lends another (FusionAuth's default signing key is the
//! Connection Server's) is handed over here, when the world is loaded.

pub mod crypto;
pub mod error;
mod event_record;
pub mod events;
pub mod fusionauth;
pub mod horizon;
pub mod identity;
pub mod keys;
pub mod request;
pub mod saml;
pub mod services;
pub mod sessions;
pub mod sweep;
pub mod tokens;
pub mod vcenter;

use crate::clock::SharedClock;
use crate::spec::{KeyMaterial, World};
use crate::store::{Store, StoreError};
pub use error::{CoreError, CoreResult};
use fusionauth::{FusionAuth, FusionAuthState, Neighbours};
use horizon::{Horizon, HorizonState};
use services::Services;
use std::collections::BTreeMap;
use sweep::{Batch, Sweeper};
use vcenter::{Vcenter, VcenterState};

/// Marks a store whose fixtures were loaded; its value is the fixtures' origin.
const META_INITIALISED: &str = "initialised";
/// The clock's offset or frozen instant (`meta` relation), restored at start.
const META_CLOCK: &str = "clock";

/// A relation the sweeper keeps bounded. `run(core, now_ms, after, limit)` looks at no more
/// than `limit` records after the key `after` (from the first without it), removes those
/// the real server would have forgotten by `now_ms`, through the same indexes a revocation
/// uses, and says where the next batch starts. Batches run on the blocking pool, each its
/// own short store operations, so requests never wait for a sweep.
pub struct Sweep {
    pub relation: &'static str,
    pub run: SweepFn,
}

/// `(core, now_ms, resume after this key, at most this many records)`.
pub type SweepFn = fn(&Core, i64, Option<&[u8]>, usize) -> CoreResult<Batch>;

/// Everything the sweeper removes: a relation that expires plugs in with one line here.
pub const SWEEPS: &[Sweep] = &[
    Sweep {
        relation: "sessions",
        run: |core, now, after, limit| core.svc.sessions.sweep(now, after, limit),
    },
    Sweep {
        relation: "fusionauth_refresh_tokens",
        run: |core, now, after, limit| core.fusionauth().sweep_refresh_tokens(now, after, limit),
    },
    Sweep {
        relation: "horizon_rest_logins",
        run: |core, now, after, limit| core.horizon().sweep_rest_logins(now, after, limit),
    },
    Sweep {
        relation: "oauth2_codes",
        run: |core, now, after, limit| core.fusionauth().sweep_oauth_codes(now, after, limit),
    },
    Sweep {
        relation: "oauth2_sso_sessions",
        run: |core, now, after, limit| core.fusionauth().sweep_sso_sessions(now, after, limit),
    },
    Sweep {
        relation: "oauth2_login_forms",
        run: |core, now, after, limit| core.fusionauth().sweep_login_forms(now, after, limit),
    },
    Sweep {
        relation: "horizon_query_cursors",
        run: |core, _, _, _| Ok(Batch::whole(core.horizon().sweep_query_cursors())),
    },
    Sweep {
        relation: "events",
        run: |core, _, _, _| Ok(Batch::whole(core.svc.events.enforce_retention()?)),
    },
];

/// What to do with a data dir that lost data since its last checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Damaged {
    /// Refuse to start ([`StoreError::LostData`]).
    #[default]
    Refuse,
    /// Serve what is left (fixtures load if nothing is).
    Accept,
}

/// Selects aws-lc-rs for what still goes through jsonwebtoken (HMAC keys; see [`crypto`])
/// explicitly; idempotent.
pub fn install_crypto_provider() {
    // Err means a provider is already installed, which is what we want.
    let _ = std::sync::LazyLock::force(&crypto::PROVIDER).install_default();
}

/// Where the world comes from when the store is empty.
#[derive(Debug, Clone)]
pub struct WorldSource {
    pub world: World,
    pub keys: Vec<KeyMaterial>,
    pub origin: String,
    /// Replace fixture key material with fresh random keys.
    pub generate_keys: bool,
}

/// What [`Core::open`] found or loaded, for the start-up log.
#[derive(Debug, Clone)]
pub struct LoadReport {
    pub loaded_fixtures: bool,
    pub origin: String,
    pub keys: usize,
    pub horizon_users: usize,
    pub fusionauth_users: usize,
    pub refresh_tokens: usize,
    pub vcenter_users: usize,
    pub sessions: usize,
    pub events: usize,
}

pub struct Core {
    svc: Services,
    sweeper: Sweeper,
    horizon: HorizonState,
    fusionauth: FusionAuthState,
    vcenter: VcenterState,
}

impl Core {
    /// Opens the core over `store`, loading `source` first if the store is empty. A store
    /// behind its manifest (it lost data) is refused unless `damaged` accepts it.
    pub fn open(
        store: Store,
        clock: SharedClock,
        source: &WorldSource,
        damaged: Damaged,
    ) -> CoreResult<(Self, LoadReport)> {
        install_crypto_provider();
        let core = Self {
            horizon: HorizonState::open(&store, &source.world.horizon)?,
            fusionauth: FusionAuthState::open(&store)?,
            vcenter: VcenterState::open(&store)?,
            svc: Services::open(store, clock)?,
            sweeper: Sweeper::default(),
        };
        core.check_manifest(damaged)?;
        core.restore_clock()?;
        let loaded_fixtures = match core.svc.store.meta_get(META_INITIALISED)? {
            Some(_) => {
                // A data dir from before the vCenter surface: add its [vcenter] world.
                if !core.vcenter().is_loaded()? {
                    core.vcenter().load(&source.world.vcenter)?;
                }
                false
            }
            None => {
                core.load_world(source)?;
                true
            }
        };
        core.refresh_cache()?;
        let report = LoadReport {
            loaded_fixtures,
            origin: core
                .svc
                .store
                .meta_get(META_INITIALISED)?
                .unwrap_or_else(|| source.origin.clone()),
            keys: core.key_ring().all().len(),
            horizon_users: core.horizon().user_count(),
            fusionauth_users: core.fusionauth().user_count(),
            refresh_tokens: core.fusionauth().refresh_token_count(),
            vcenter_users: core.vcenter().user_count(),
            sessions: core.svc.sessions.count(),
            events: core.svc.events.count(),
        };
        Ok((core, report))
    }

    /// Replaces everything in the store with `source` (first start and reset).
    pub fn load_world(&self, source: &WorldSource) -> CoreResult<()> {
        // The clock stays as it is across a reset (it is the run's setting, not the world's).
        let clock = self.svc.store.meta_get(META_CLOCK)?;
        self.svc.store.clear_all()?;
        if let Some(clock) = clock {
            self.svc.store.meta_put(META_CLOCK, &clock)?;
        }
        let materials = if source.generate_keys {
            source
                .keys
                .iter()
                .map(keys::generate_like)
                .collect::<CoreResult<Vec<_>>>()?
        } else {
            source.keys.clone()
        };
        self.svc.keys.store_all(&materials)?;
        let key_ids: Vec<String> = source.keys.iter().map(|k| k.id.clone()).collect();
        self.horizon().load(&source.world.horizon, &key_ids)?;
        self.fusionauth().load(&source.world.fusionauth, &key_ids)?;
        self.vcenter().load(&source.world.vcenter)?;
        self.svc.store.meta_put(META_INITIALISED, &source.origin)?;
        self.svc.store.flush_blocking()?;
        Ok(())
    }

    /// Back to `source` (the fixtures). Generated keys are kept: a server's keys are its
    /// identity, and clients may have cached them.
    pub fn reset(&self, source: &WorldSource) -> CoreResult<()> {
        if source.generate_keys {
            let kept = WorldSource {
                keys: self.svc.keys.materials()?,
                generate_keys: false,
                ..source.clone()
            };
            self.load_world(&kept)?;
        } else {
            self.load_world(source)?;
        }
        self.refresh_cache()
    }

    /// Replaces the whole store with a snapshot taken by [`Store::export_all`].
    pub fn restore(&self, data: &crate::store::Dump) -> CoreResult<()> {
        let clock = self.svc.store.meta_get(META_CLOCK)?;
        self.svc.store.import_all(data)?;
        match clock {
            Some(clock) => self.svc.store.meta_put(META_CLOCK, &clock)?,
            None => self.svc.store.meta_remove(META_CLOCK)?,
        }
        self.refresh_cache()
    }

    /// Rebuilds in-memory views (parsed keys, settings) from the store.
    pub fn refresh_cache(&self) -> CoreResult<()> {
        self.svc.keys.reload()?;
        self.svc.events.discover()?;
        self.horizon().reload()?;
        let horizon = self.horizon().settings();
        self.fusionauth().reload(Neighbours {
            default_key: horizon.signing_key.clone(),
            connection_server_name: horizon.connection_server_name.clone(),
        })?;
        self.vcenter().reload()?;
        Ok(())
    }

    /// The fixtures the store was loaded from, as recorded when it was.
    pub fn fixtures_origin(&self) -> CoreResult<Option<String>> {
        Ok(self.svc.store.meta_get(META_INITIALISED)?)
    }

    pub fn horizon(&self) -> Horizon<'_> {
        Horizon::new(&self.svc, &self.horizon)
    }

    pub fn fusionauth(&self) -> FusionAuth<'_> {
        FusionAuth::new(&self.svc, &self.fusionauth)
    }

    pub fn vcenter(&self) -> Vcenter<'_> {
        Vcenter::new(&self.svc, &self.vcenter)
    }

    /// The shared services: store, clock, keys, sessions, events.
    pub fn services(&self) -> &Services {
        &self.svc
    }

    pub fn clock(&self) -> &SharedClock {
        &self.svc.clock
    }

    pub fn store(&self) -> &Store {
        &self.svc.store
    }

    pub fn key_ring(&self) -> std::sync::Arc<keys::KeyRing> {
        self.svc.keys.ring()
    }

    pub fn events(&self) -> &events::EventLog {
        &self.svc.events
    }

    pub fn sessions(&self) -> &sessions::Sessions {
        &self.svc.sessions
    }

    pub fn sweeper(&self) -> &Sweeper {
        &self.sweeper
    }

    /// Records per relation (the manifest's counts).
    pub fn relation_counts(&self) -> BTreeMap<String, u64> {
        let fa = self.fusionauth();
        [
            ("keys", self.svc.keys.count()),
            ("horizon_users", self.horizon().user_count()),
            ("sessions", self.svc.sessions.count()),
            ("fusionauth_users", fa.user_count()),
            ("fusionauth_refresh_tokens", fa.refresh_token_count()),
            ("vcenter_users", self.vcenter().user_count()),
            ("events", self.svc.events.count()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v as u64))
        .collect()
    }

    /// Makes the store durable and records what it holds in the manifest (at clean
    /// shutdown, after loading a world, and periodically).
    pub fn checkpoint(&self, clean: bool) -> CoreResult<u64> {
        let at = crate::clock::rfc3339_ms(self.svc.clock.now_ms());
        Ok(self
            .svc
            .store
            .checkpoint(self.relation_counts(), at, clean)?)
    }

    /// Refuses a store whose checkpoint number is behind its manifest's, naming what
    /// the manifest counted and what is left.
    fn check_manifest(&self, damaged: Damaged) -> CoreResult<()> {
        let store = &self.svc.store;
        let Some(manifest) = store.read_manifest()? else {
            return Ok(());
        };
        let marker = store.checkpoint_marker()?;
        if marker >= manifest.checkpoint {
            return Ok(());
        }
        let now = self.relation_counts();
        let mut missing: Vec<String> = manifest
            .counts
            .iter()
            .filter_map(|(relation, then)| {
                let left = now.get(relation).copied().unwrap_or(0);
                (left < *then).then(|| format!("{relation}: {then} then, {left} now"))
            })
            .collect();
        if missing.is_empty() {
            missing.push("records written since then".into());
        }
        let message = format!(
            "the store is behind the checkpoint of {} (number {}, the store has {marker}); lost {}",
            manifest.written_at,
            manifest.checkpoint,
            missing.join(", ")
        );
        match damaged {
            Damaged::Refuse => Err(StoreError::LostData {
                path: store.dir().to_path_buf(),
                message,
            }
            .into()),
            Damaged::Accept => {
                tracing::warn!(%message, "serving a damaged store (--accept-damaged-store)");
                Ok(())
            }
        }
    }

    /// Sets the clock as it was persisted (offset or frozen instant).
    fn restore_clock(&self) -> CoreResult<()> {
        if let Some(json) = self.svc.store.meta_get(META_CLOCK)? {
            match serde_json::from_str::<crate::clock::ClockState>(&json) {
                Ok(state) => self.svc.clock.restore(state),
                Err(e) => {
                    tracing::warn!(error = %e, "the persisted clock is unreadable; real time")
                }
            }
        }
        Ok(())
    }

    /// Persists the clock's offset or frozen instant (durably), so a restart keeps the
    /// time tokens were issued under, and wakes the sweeper: moving time expires things.
    pub async fn clock_changed(&self) -> CoreResult<()> {
        self.sweeper.wake();
        let state = self.svc.clock.state();
        if state == crate::clock::ClockState::default() {
            self.svc.store.meta_remove(META_CLOCK)?;
        } else {
            let json = serde_json::to_string(&state)
                .map_err(|e| CoreError::Internal(format!("encoding the clock: {e}")))?;
            self.svc.store.meta_put(META_CLOCK, &json)?;
        }
        self.svc.store.flush().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_vcenter_settings_stop_the_start() {
        let (mut world, keys) = crate::fixtures::embedded().unwrap();
        world.vcenter.signing_key = "40000000-0000-4000-8000-000000000002".into(); // ES256
        let source = WorldSource {
            world: world.clone(),
            keys: keys.clone(),
            origin: "t".into(),
            generate_keys: false,
        };
        let store = Store::temporary().unwrap();
        let Err(err) = Core::open(store, crate::clock::Clock::new(), &source, Damaged::Refuse)
        else {
            panic!("the start should fail");
        };
        assert!(err.to_string().contains("RS256"), "{err}");
        world.vcenter.signing_key = crate::spec::vcenter::default_signing_key();
        world.vcenter.saml_token_lifetime_seconds = 0;
        let source = WorldSource { world, ..source };
        let store = Store::temporary().unwrap();
        let Err(err) = Core::open(store, crate::clock::Clock::new(), &source, Damaged::Refuse)
        else {
            panic!("the start should fail");
        };
        assert!(err.to_string().contains("at least 1"), "{err}");
    }
}
