//! vCenter rules, reached as `core.vcenter()`: users of the SSO domain (`vsphere.local`),
//! sessions by password, SAML token or JWT (`session.rs`), who a token speaks for
//! (`subject.rs`), and RFC 8693 token exchange (`exchange.rs`), with the signing material
//! in `runtime.rs`. The adapters in `src/vcenter/` only parse the wire and encode.

mod exchange;
mod runtime;
mod session;
mod subject;

use crate::core::error::{CoreError, CoreResult};
use crate::core::events::NewEvent;
use crate::core::identity::hash_fixture_password;
use crate::core::services::{Current, Services};
use crate::spec::VcenterSpec;
use crate::store::{trees, Page, Store, StoreResult, Table};
use crate::surface::Surface;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

pub use exchange::{
    IssueSpec, TokenInfo, FIELD_TARGET_AUDIENCE, FIELD_TARGET_SCOPE, FIELD_UNSUPPORTED_GRANT,
    GRANT_TOKEN_EXCHANGE, SATISFIABLE_SCOPES, TYPE_ACCESS_TOKEN, TYPE_ID_TOKEN, TYPE_JWT,
    TYPE_REFRESH_TOKEN, TYPE_SAML1, TYPE_SAML2,
};
pub use runtime::{issuer_matches, VcenterRuntime};
pub use subject::{decode_saml_token, Credentials, Subject};

const MODULE: &str = "vCenter";
pub const EVENT_SESSION_CREATED: &str = "VCENTER_SESSION_CREATED";
pub const EVENT_LOGIN_FAILED: &str = "VCENTER_LOGIN_FAILED";
pub const EVENT_SESSION_DELETED: &str = "VCENTER_SESSION_DELETED";
pub const EVENT_TOKEN_ISSUED: &str = "VCENTER_TOKEN_ISSUED";
pub const EVENT_TOKEN_FAILED: &str = "VCENTER_TOKEN_ISSUE_FAILED";

/// Where the settings are kept (`meta` relation).
const SETTINGS: &str = "vcenter";

/// A stored vCenter SSO user (password only as a hash).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VcenterUser {
    pub name: String,
    pub domain: String,
    pub password_hash: String,
    pub groups: Vec<String>,
}

impl VcenterUser {
    /// `Administrator@vsphere.local`
    pub fn principal(&self) -> String {
        format!("{}@{}", self.name, self.domain)
    }

    pub fn key(name: &str, domain: &str) -> String {
        format!("{}@{}", name.to_lowercase(), domain.to_lowercase())
    }
}

/// The vCenter part of the core: the signing runtime and the SSO users.
pub struct VcenterState {
    runtime: Current<Option<Arc<VcenterRuntime>>>,
    users: Table<VcenterUser>,
}

impl VcenterState {
    pub fn open(store: &Store) -> StoreResult<Self> {
        Ok(Self {
            runtime: Current::new(None),
            users: store.table(trees::VCENTER_USERS)?,
        })
    }
}

/// The vCenter rules over the shared services.
pub struct Vcenter<'a> {
    svc: &'a Services,
    state: &'a VcenterState,
}

impl<'a> Vcenter<'a> {
    pub fn new(svc: &'a Services, state: &'a VcenterState) -> Self {
        Self { svc, state }
    }

    /// Whether a store from before the vCenter surface lacks its `[vcenter]` world.
    pub fn is_loaded(&self) -> CoreResult<bool> {
        Ok(self.svc.store.meta_get(SETTINGS)?.is_some())
    }

    pub fn load(&self, spec: &VcenterSpec) -> CoreResult<()> {
        let key_ok = self
            .svc
            .keys
            .material(&spec.signing_key)?
            .is_some_and(|k| k.algorithm == "RS256");
        if !key_ok {
            return Err(CoreError::invalid_argument(
                "vcenter.signing_key",
                format!("no RS256 key with id {} in the fixtures", spec.signing_key),
            ));
        }
        for (field, value) in [
            (
                "session_idle_timeout_seconds",
                spec.session_idle_timeout_seconds,
            ),
            (
                "saml_token_lifetime_seconds",
                spec.saml_token_lifetime_seconds,
            ),
            (
                "jwt_token_lifetime_seconds",
                spec.jwt_token_lifetime_seconds,
            ),
        ] {
            if value < 1 {
                return Err(CoreError::invalid_argument(
                    format!("vcenter.{field}"),
                    format!("must be at least 1 second, got {value}"),
                ));
            }
        }
        if spec.domain.trim().is_empty() || spec.domain.contains('/') {
            return Err(CoreError::invalid_argument(
                "vcenter.domain",
                "must be a domain name such as vsphere.local",
            ));
        }
        for user in &spec.users {
            let record = VcenterUser {
                name: user.name.clone(),
                domain: spec.domain.clone(),
                password_hash: hash_fixture_password(&user.password),
                groups: user.groups.clone(),
            };
            self.state
                .users
                .put(VcenterUser::key(&record.name, &record.domain), &record)?;
        }
        let mut stored = spec.clone();
        stored.users.clear(); // users live in their own table, passwords only hashed
        self.svc.put_settings(SETTINGS, &stored)
    }

    pub fn reload(&self) -> CoreResult<()> {
        let spec: VcenterSpec = self.svc.settings(SETTINGS)?.unwrap_or_default();
        let key = self
            .svc
            .keys
            .ring()
            .get(&spec.signing_key)
            .filter(|k| k.algorithm == jsonwebtoken::Algorithm::RS256)
            .ok_or_else(|| {
                CoreError::invalid_argument(
                    "vcenter.signing_key",
                    format!("no RS256 key with id {} in the fixtures", spec.signing_key),
                )
            })?;
        let previous = self.state.runtime.get();
        let runtime = Arc::new(VcenterRuntime::build(spec, key, previous.as_deref())?);
        self.state.runtime.set(Some(runtime));
        Ok(())
    }

    /// The signing runtime (built at start and on reset).
    pub fn runtime(&self) -> CoreResult<Arc<VcenterRuntime>> {
        self.state
            .runtime
            .get()
            .as_ref()
            .clone()
            .ok_or_else(|| CoreError::Internal("the vCenter surface is not configured".into()))
    }

    pub(super) fn user(&self, name: &str, domain: &str) -> CoreResult<Option<VcenterUser>> {
        Ok(self.state.users.get(VcenterUser::key(name, domain))?)
    }

    /// A page of SSO users in key order after the key `after`.
    pub fn user_page(&self, after: Option<&[u8]>, limit: usize) -> CoreResult<Page<VcenterUser>> {
        Ok(self.state.users.page(after, limit)?)
    }

    pub fn user_count(&self) -> usize {
        self.state.users.len()
    }

    /// Every SSO user, in key order.
    pub fn users(&self) -> CoreResult<Vec<VcenterUser>> {
        Ok(self
            .state
            .users
            .all()?
            .into_iter()
            .map(|(_, u)| u)
            .collect())
    }

    /// `/api/session` user name: `VSPHERE.LOCAL\Administrator`.
    pub fn display_user(principal: &str) -> String {
        match principal.rsplit_once('@') {
            Some((name, domain)) => format!("{}\\{name}", domain.to_uppercase()),
            None => principal.to_string(),
        }
    }

    fn event(&self, event_type: &'static str, success: bool, user: Option<String>) -> NewEvent {
        NewEvent::audit(event_type, success, MODULE, Surface::Vcenter, user)
    }
}

/// `user@domain`, `DOMAIN\user` or a bare name (then the SSO domain).
pub(super) fn split_user<'a>(user: &'a str, default_domain: &'a str) -> (&'a str, &'a str) {
    if let Some((d, n)) = user.split_once('\\') {
        (n, d)
    } else if let Some((n, d)) = user.split_once('@') {
        (n, d)
    } else {
        (user, default_domain)
    }
}
