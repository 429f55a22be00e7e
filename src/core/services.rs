//! What every product's rules share: the store, the clock, the key ring, sessions and the
//! event log. The product types (`horizon`, `fusionauth`, `vcenter`) are built on these and
//! nothing here knows of them.

use crate::clock::SharedClock;
use crate::core::events::EventLog;
use crate::core::keys::Keys;
use crate::core::sessions::Sessions;
use crate::store::{Store, StoreResult};

pub struct Services {
    pub store: Store,
    pub clock: SharedClock,
    pub keys: Keys,
    pub sessions: Sessions,
    pub events: EventLog,
}

impl Services {
    pub fn open(store: Store, clock: SharedClock) -> StoreResult<Self> {
        Ok(Self {
            keys: Keys::open(&store)?,
            sessions: Sessions::open(&store, &clock)?,
            events: EventLog::open(&store, &clock)?,
            store,
            clock,
        })
    }

    /// Stored settings of one product (`meta` relation), decoded.
    pub fn settings<T: serde::de::DeserializeOwned>(
        &self,
        name: &str,
    ) -> crate::core::error::CoreResult<Option<T>> {
        self.store
            .meta_get(name)?
            .map(|json| {
                serde_json::from_str(&json).map_err(|e| {
                    crate::core::error::CoreError::Internal(format!("stored {name} settings: {e}"))
                })
            })
            .transpose()
    }

    /// Stores one product's settings (`meta` relation).
    pub fn put_settings<T: serde::Serialize>(
        &self,
        name: &str,
        value: &T,
    ) -> crate::core::error::CoreResult<()> {
        let json = serde_json::to_string(value).map_err(|e| {
            crate::core::error::CoreError::Internal(format!("encoding {name} settings: {e}"))
        })?;
        self.store.meta_put(name, &json)?;
        Ok(())
    }
}

/// A value rebuilt from the store on start and reset, read on every request: readers take
/// a cheap shared pointer and never wait for one another.
pub struct Current<T>(std::sync::RwLock<std::sync::Arc<T>>);

impl<T> Current<T> {
    pub fn new(value: T) -> Self {
        Self(std::sync::RwLock::new(std::sync::Arc::new(value)))
    }

    pub fn get(&self) -> std::sync::Arc<T> {
        // A writer that panicked left a whole value behind (it swaps pointers): keep serving.
        match self.0.read() {
            Ok(guard) => std::sync::Arc::clone(&guard),
            Err(poisoned) => std::sync::Arc::clone(&poisoned.into_inner()),
        }
    }

    pub fn set(&self, value: T) {
        let value = std::sync::Arc::new(value);
        match self.0.write() {
            Ok(mut guard) => *guard = value,
            Err(poisoned) => *poisoned.into_inner() = value,
        }
    }
}
