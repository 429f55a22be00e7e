//! Horizon Connection Server rules: its administrators and their sessions (`auth.rs`), JWT
//! generation and the public keys that verify those JWTs (`jwt.rs`), REST API logins
//! (`rest.rs`), what the REST API reports about the server (`server.rs`), and event queries
//! (`query/`). The VLSI SOAP and the REST surfaces are two wires for these rules.

mod auth;
mod jwt;
pub mod query;
pub mod rest;
pub mod server;
mod users;

use crate::core::error::{CoreError, CoreResult};
use crate::core::events::NewEvent;
use crate::core::identity::hash_fixture_password;
use crate::core::services::{Current, Services};
use crate::spec::HorizonSpec;
use crate::store::{trees, Page, Store, StoreResult, Table};
use crate::surface::Surface;
use std::sync::Arc;

pub use jwt::{GeneratedToken, PublicKeys};
pub use rest::{RestAccess, RestCaller, RestLogin, RestTokens};
pub use users::HorizonUser;

pub const PRIVILEGE_GENERATE_JWT: &str = "ADMINISTRATOR";
pub const EVENT_GENERATED: &str = "VLSI_JWT_TOKEN_GENERATED";
pub const EVENT_GENERATION_FAILED: &str = "VLSI_JWT_TOKEN_GENERATION_FAILED";
pub const EVENT_LOGGED_IN: &str = "VLSI_USERLOGGEDIN";
pub const EVENT_LOGIN_FAILED: &str = "VLSI_USERLOGINFAILED";
pub const EVENT_LOGGED_OUT: &str = "VLSI_USERLOGGEDOUT";
pub const LOCALES: &[&str] = &["de", "en", "es", "fr", "ja", "ko", "zh", "zh_TW"];
/// The Horizon module name of the View API's events.
const MODULE: &str = "Vlsi";
/// Where the settings are kept (`meta` relation).
const SETTINGS: &str = "horizon";

/// The Horizon part of the core: settings, administrators, REST logins, open query cursors.
pub struct HorizonState {
    settings: Current<HorizonSpec>,
    users: Table<HorizonUser>,
    rest_logins: Table<RestLogin>,
    /// Expiry index of `rest_logins`: (expiry ms, login id) → login id.
    rest_expiry: Table<String>,
    cursors: query::QueryCursors,
}

impl HorizonState {
    /// `initial` serves until the stored settings are read (an empty store has none).
    pub fn open(store: &Store, initial: &HorizonSpec) -> StoreResult<Self> {
        Ok(Self {
            settings: Current::new(initial.clone()),
            users: store.table(trees::HORIZON_USERS)?,
            rest_logins: store.table(trees::HORIZON_REST_LOGINS)?,
            rest_expiry: store.table(trees::HORIZON_REST_EXPIRY)?,
            cursors: query::QueryCursors::default(),
        })
    }
}

/// The Horizon rules, reached as `core.horizon()`.
pub struct Horizon<'a> {
    svc: &'a Services,
    state: &'a HorizonState,
}

impl<'a> Horizon<'a> {
    pub fn new(svc: &'a Services, state: &'a HorizonState) -> Self {
        Self { svc, state }
    }

    /// The Connection Server's settings.
    pub fn settings(&self) -> Arc<HorizonSpec> {
        self.state.settings.get()
    }

    /// Loads `[horizon]` into the (already cleared) store.
    pub fn load(&self, spec: &HorizonSpec, key_ids: &[String]) -> CoreResult<()> {
        if !key_ids.contains(&spec.signing_key) {
            return Err(CoreError::invalid_argument(
                "horizon.signing_key",
                format!("no key with id {} in the fixtures", spec.signing_key),
            ));
        }
        server::check(spec, key_ids)?;
        for user in &spec.users {
            let domain = user.domain.clone().unwrap_or_else(|| spec.domain.clone());
            let record = HorizonUser {
                name: user.name.clone(),
                password_hash: hash_fixture_password(&user.password),
                privileges: user.privileges.clone(),
                domain,
            };
            self.state
                .users
                .put(HorizonUser::key(&record.domain, &record.name), &record)?;
        }
        let mut stored = spec.clone();
        stored.users.clear(); // users live in their own relation, passwords only hashed
        self.svc.put_settings(SETTINGS, &stored)
    }

    /// Re-reads the settings from the store (start, reset, restore).
    pub fn reload(&self) -> CoreResult<()> {
        if let Some(spec) = self.svc.settings::<HorizonSpec>(SETTINGS)? {
            self.state.settings.set(spec);
        }
        Ok(())
    }

    pub fn users(&self) -> CoreResult<Vec<HorizonUser>> {
        Ok(self
            .state
            .users
            .all()?
            .into_iter()
            .map(|(_, u)| u)
            .collect())
    }

    /// A page of administrators in key order after the key `after`.
    pub fn user_page(&self, after: Option<&[u8]>, limit: usize) -> CoreResult<Page<HorizonUser>> {
        Ok(self.state.users.page(after, limit)?)
    }

    pub fn user_count(&self) -> usize {
        self.state.users.len()
    }

    fn event(&self, event_type: &'static str, success: bool, user: Option<String>) -> NewEvent {
        NewEvent::audit(event_type, success, MODULE, Surface::Vlsi, user)
    }
}
