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
pub mod events;
pub mod fusionauth;
pub mod horizon;
pub mod identity;
pub mod keys;
pub mod saml;
pub mod services;
pub mod sessions;
pub mod tokens;
pub mod vcenter;

use crate::clock::SharedClock;
use crate::spec::{KeyMaterial, World};
use crate::store::Store;
pub use error::{CoreError, CoreResult};
use fusionauth::{FusionAuth, FusionAuthState, Neighbours};
use horizon::{Horizon, HorizonState};
use services::Services;
use vcenter::{Vcenter, VcenterState};

/// Marks a store whose fixtures were loaded; its value is the fixtures' origin.
const META_INITIALISED: &str = "initialised";

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
    horizon: HorizonState,
    fusionauth: FusionAuthState,
    vcenter: VcenterState,
}

impl Core {
    /// Opens the core over `store`, loading `source` first if the store is empty.
    pub fn open(
        store: Store,
        clock: SharedClock,
        source: &WorldSource,
    ) -> CoreResult<(Self, LoadReport)> {
        install_crypto_provider();
        let core = Self {
            horizon: HorizonState::open(&store, &source.world.horizon)?,
            fusionauth: FusionAuthState::open(&store)?,
            vcenter: VcenterState::open(&store)?,
            svc: Services::open(store, clock)?,
        };
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
        self.svc.store.clear_all()?;
        for material in &source.keys {
            let material = if source.generate_keys {
                keys::generate_like(material)?
            } else {
                material.clone()
            };
            self.svc.keys.store(&material)?;
        }
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
        self.svc.store.import_all(data)?;
        self.refresh_cache()
    }

    /// Rebuilds in-memory views (parsed keys, settings) from the store.
    pub fn refresh_cache(&self) -> CoreResult<()> {
        self.svc.keys.reload()?;
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
        let Err(err) = Core::open(store, crate::clock::Clock::new(), &source) else {
            panic!("the start should fail");
        };
        assert!(err.to_string().contains("RS256"), "{err}");
        world.vcenter.signing_key = crate::spec::vcenter::default_signing_key();
        world.vcenter.saml_token_lifetime_seconds = 0;
        let source = WorldSource { world, ..source };
        let store = Store::temporary().unwrap();
        let Err(err) = Core::open(store, crate::clock::Clock::new(), &source) else {
            panic!("the start should fail");
        };
        assert!(err.to_string().contains("at least 1"), "{err}");
    }
}
