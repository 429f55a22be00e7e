//! Protocol-neutral rules: the only place behaviour is decided. Adapters parse the wire,
//! call into [`Core`], and encode what comes back; they never touch sled directly.

pub mod crypto;
pub mod error;
pub mod events;
pub mod fusionauth;
pub mod horizon;
pub mod identity;
pub mod keys;
pub mod queries;
pub mod saml;
pub mod sessions;
pub mod tokens;
pub mod vcenter;

use crate::clock::SharedClock;
use crate::fixtures::{HorizonSpec, KeyMaterial, World};
use crate::store::{trees, Log, Store, Table};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
pub use error::{CoreError, CoreResult};
use events::Event;
use identity::HorizonUser;
use keys::{KeyRing, SigningKey};
use sessions::Session;
use std::sync::{Arc, RwLock};

/// Marks a store whose fixtures were loaded; its value is the fixtures' origin.
const META_INITIALISED: &str = "initialised";
const META_HORIZON: &str = "horizon";

/// Selects aws-lc-rs for what still goes through jsonwebtoken (HMAC keys; see [`crypto`])
/// explicitly; idempotent.
pub fn install_crypto_provider() {
    // Err means a provider is already installed, which is what we want.
    let _ = std::sync::LazyLock::force(&crypto::PROVIDER).install_default();
}

/// `bytes` random bytes from a CSPRNG, URL-safe base64 without padding.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    // rand's thread-local generator is a CSPRNG (ChaCha12) reseeded from the OS; drawing
    // from it avoids a getrandom syscall per session id and refresh token.
    rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut buf);
    URL_SAFE_NO_PAD.encode(buf)
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
    pub store: Store,
    pub clock: SharedClock,
    keys: RwLock<Arc<KeyRing>>,
    horizon: RwLock<Arc<HorizonSpec>>,
    key_materials: Table<KeyMaterial>,
    horizon_users: Table<HorizonUser>,
    sessions: Table<Session>,
    events: Log<Event>,
    query_cursors: queries::QueryCursors,
    pub(crate) fusionauth: fusionauth::FusionAuthState,
    vcenter: RwLock<Option<Arc<vcenter::VcenterRuntime>>>,
    vcenter_users: Table<vcenter::VcenterUser>,
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
            key_materials: store.table(trees::KEYS)?,
            horizon_users: store.table(trees::HORIZON_USERS)?,
            sessions: store.table(trees::SESSIONS)?,
            events: store.log(trees::EVENTS)?,
            query_cursors: queries::QueryCursors::default(),
            fusionauth: fusionauth::FusionAuthState::open(&store)?,
            vcenter: RwLock::new(None),
            vcenter_users: store.table(trees::VCENTER_USERS)?,
            keys: RwLock::new(Arc::new(KeyRing::default())),
            horizon: RwLock::new(Arc::new(source.world.horizon.clone())),
            store,
            clock,
        };
        let loaded_fixtures = match core.store.meta_get(META_INITIALISED)? {
            Some(_) => {
                // A data dir from before the vCenter surface: add its [vcenter] world.
                if core.store.meta_get(vcenter::META_VCENTER)?.is_none() {
                    core.load_vcenter(&source.world.vcenter)?;
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
                .store
                .meta_get(META_INITIALISED)?
                .unwrap_or_else(|| source.origin.clone()),
            keys: core.key_ring().all().len(),
            horizon_users: core.horizon_users.len(),
            fusionauth_users: core.fusionauth.users.len(),
            refresh_tokens: core.fusionauth.refresh_tokens.len(),
            vcenter_users: core.vcenter_users.len(),
            sessions: core.sessions.len(),
            events: core.events.len(),
        };
        Ok((core, report))
    }

    /// Replaces everything in the store with `source` (first start and reset).
    pub fn load_world(&self, source: &WorldSource) -> CoreResult<()> {
        self.store.clear_all()?;
        for material in &source.keys {
            let material = if source.generate_keys {
                keys::generate_like(material)?
            } else {
                material.clone()
            };
            // Parse before storing, so a broken fixture never leaves a half-written ring.
            SigningKey::from_material(&material)?;
            self.key_materials.put(&material.id, &material)?;
        }
        let horizon = &source.world.horizon;
        if !source.keys.iter().any(|k| k.id == horizon.signing_key) {
            return Err(CoreError::invalid_argument(
                "horizon.signing_key",
                format!("no key with id {} in the fixtures", horizon.signing_key),
            ));
        }
        for user in &horizon.users {
            let domain = user
                .domain
                .clone()
                .unwrap_or_else(|| horizon.domain.clone());
            let record = HorizonUser {
                name: user.name.clone(),
                password_hash: identity::hash_password(&user.password),
                privileges: user.privileges.clone(),
                domain,
            };
            self.horizon_users
                .put(HorizonUser::key(&record.domain, &record.name), &record)?;
        }
        let horizon_json = serde_json::to_string(horizon)
            .map_err(|e| CoreError::Internal(format!("encoding horizon settings: {e}")))?;
        self.store.meta_put(META_HORIZON, &horizon_json)?;
        let key_ids: Vec<String> = source.keys.iter().map(|k| k.id.clone()).collect();
        self.fusionauth_load(&source.world.fusionauth, &key_ids)?;
        self.load_vcenter(&source.world.vcenter)?;
        self.store.meta_put(META_INITIALISED, &source.origin)?;
        self.store.flush_blocking()?;
        Ok(())
    }

    /// Back to `source` (the fixtures). Generated keys are kept: a server's keys are its
    /// identity, and clients may have cached them.
    pub fn reset(&self, source: &WorldSource) -> CoreResult<()> {
        if source.generate_keys {
            let current: Vec<KeyMaterial> = self
                .key_materials
                .all()?
                .into_iter()
                .map(|(_, m)| m)
                .collect();
            let kept = WorldSource {
                keys: current,
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
        self.store.import_all(data)?;
        self.refresh_cache()
    }

    /// Rebuilds in-memory views (parsed keys, settings) from the store.
    pub fn refresh_cache(&self) -> CoreResult<()> {
        let mut ring = Vec::new();
        for (_, material) in self.key_materials.all()? {
            ring.push(SigningKey::from_material(&material)?);
        }
        let ring = Arc::new(KeyRing::new(ring));
        if let Ok(mut guard) = self.keys.write() {
            *guard = ring;
        }
        if let Some(json) = self.store.meta_get(META_HORIZON)? {
            let spec: HorizonSpec = serde_json::from_str(&json)
                .map_err(|e| CoreError::Internal(format!("stored horizon settings: {e}")))?;
            if let Ok(mut guard) = self.horizon.write() {
                *guard = Arc::new(spec);
            }
        }
        self.fusionauth_refresh_cache()?;
        self.refresh_vcenter()?;
        Ok(())
    }

    /// A dump of the world for `GET /_vlsim/state`: public key parts, users without
    /// credentials, sessions, counts.
    pub fn state_dump(&self) -> CoreResult<serde_json::Value> {
        use serde_json::json;
        let ring = self.key_ring();
        let keys: Vec<serde_json::Value> = ring
            .all()
            .iter()
            .map(|k| {
                json!({
                    "id": k.id,
                    "name": k.name,
                    "algorithm": keys::algorithm_name(k.algorithm),
                    "public_pem": k.public_pem,
                    "jwk": k.jwk,
                })
            })
            .collect();
        let users: Vec<serde_json::Value> = self
            .horizon_users
            .all()?
            .into_iter()
            .map(|(_, u)| json!({"principal": u.principal(), "privileges": u.privileges}))
            .collect();
        let now = self.clock.now_ms();
        let sessions: Vec<serde_json::Value> = self
            .sessions
            .all()?
            .into_iter()
            .map(|(_, s)| {
                json!({
                    "id": s.id,
                    "surface": s.surface,
                    "principal": s.principal,
                    "method": s.method,
                    "created": crate::clock::rfc3339_ms(s.created_ms),
                    "last_access": crate::clock::rfc3339_ms(s.last_access_ms),
                    "expires": crate::clock::rfc3339_ms(s.expires_at_ms()),
                    "expired": now >= s.expires_at_ms(),
                })
            })
            .collect();
        let horizon = self.horizon_settings();
        let refresh_tokens: Vec<serde_json::Value> = self
            .fusionauth
            .refresh_tokens
            .all()?
            .into_iter()
            .map(|(_, t)| {
                json!({
                    "id": t.id,
                    "userId": t.user_id,
                    "applicationId": t.application_id,
                    "tenantId": t.tenant_id,
                    "startInstant": t.start_instant,
                    "insertInstant": t.insert_instant,
                    "expirationInstant": t.expiration_instant,
                    "expired": now >= t.expiration_instant,
                })
            })
            .collect();
        let fa_users: Vec<serde_json::Value> = self
            .fusionauth
            .users
            .all()?
            .into_iter()
            .map(|(_, u)| {
                let mut v = u.to_json();
                if let Some(o) = v.as_object_mut() {
                    o.remove("password");
                }
                v
            })
            .collect();
        Ok(json!({
            "fixtures": self.store.meta_get(META_INITIALISED)?,
            "keys": keys,
            "horizon": {
                "connection_server_name": horizon.connection_server_name,
                "domain": horizon.domain,
                "signing_key": horizon.signing_key,
                "users": users,
            },
            "sessions": sessions,
            "fusionauth": {
                "users": fa_users,
                "refresh_tokens": refresh_tokens,
            },
            "vcenter": {
                "users": self.vcenter_users.all()?.into_iter().map(|(_, u)| u.principal()).collect::<Vec<_>>(),
            },
            "counts": {
                "fusionauth_users": self.fusionauth.users.len(),
                "fusionauth_refresh_tokens": self.fusionauth.refresh_tokens.len(),
                "vcenter_users": self.vcenter_users.len(),
                "keys": ring.all().len(),
                "horizon_users": self.horizon_users.len(),
                "sessions": self.sessions.len(),
                "events": self.events.len(),
            },
        }))
    }

    pub fn key_ring(&self) -> Arc<KeyRing> {
        self.keys.read().map(|g| Arc::clone(&g)).unwrap_or_default()
    }

    pub fn horizon_settings(&self) -> Arc<HorizonSpec> {
        self.horizon
            .read()
            .map(|g| Arc::clone(&g))
            .unwrap_or_else(|poisoned| Arc::clone(&poisoned.into_inner()))
    }
}
