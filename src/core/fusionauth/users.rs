//! FusionAuth users and their registrations, found by id or by login id (email or
//! username) within a tenant.

use super::{in_scope, FusionAuth, TenantScope};
use crate::core::error::{CoreError, CoreResult};
use crate::store::RecentDecodes;
use serde::{Deserialize, Serialize};
use std::cell::RefCell;

thread_local! {
    static RECENT_USERS: RefCell<RecentDecodes<User>> = const { RefCell::new(RecentDecodes::new()) };
}

/// A user (FusionAuth `User`) with its registrations.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct User {
    pub id: String,
    pub tenant_id: String,
    pub email: String,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password_hash: Option<String>,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    pub active: bool,
    pub verified: bool,
    pub insert_instant: i64,
    /// Milliseconds; the last successful login (Login API, reconcile).
    #[serde(default)]
    pub last_login_instant: Option<i64>,
    /// Milliseconds; the last change to the user (absent in old records: the insert).
    #[serde(default)]
    pub last_update_instant: Option<i64>,
    #[serde(default)]
    pub registrations: Vec<Registration>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Registration {
    pub id: String,
    pub application_id: String,
    pub roles: Vec<String>,
    pub insert_instant: i64,
    /// Milliseconds; the last login to this application.
    #[serde(default)]
    pub last_login_instant: Option<i64>,
}

impl User {
    pub fn registration(&self, application_id: &str) -> Option<&Registration> {
        self.registrations
            .iter()
            .find(|r| r.application_id == application_id)
    }

    /// Records a login at `now_ms`, to `application_id` when given.
    pub fn logged_in(&mut self, application_id: Option<&str>, now_ms: i64) {
        self.last_login_instant = Some(now_ms);
        if let Some(reg) = self
            .registrations
            .iter_mut()
            .find(|r| Some(r.application_id.as_str()) == application_id)
        {
            reg.last_login_instant = Some(now_ms);
        }
    }
}

/// The store key of the login-id index: tenant and lower-cased login id.
fn login_key(tenant_id: &str, login_id: &str) -> String {
    format!("{tenant_id}\n{}", login_id.trim().to_lowercase())
}

impl FusionAuth<'_> {
    pub(super) fn put_user(&self, user: &User) -> CoreResult<()> {
        self.state.users.put(&user.id, user)?;
        self.state
            .user_logins
            .put(login_key(&user.tenant_id, &user.email), &user.id)?;
        if let Some(name) = &user.username {
            self.state
                .user_logins
                .put(login_key(&user.tenant_id, name), &user.id)?;
        }
        Ok(())
    }

    /// A user by id. Every refresh and token check reads its user: one not written since
    /// this thread last read it is not decoded again (see `Table::get_recent`).
    pub fn user(&self, id: &str) -> CoreResult<Option<User>> {
        Ok(self.state.users.get_recent(id, &RECENT_USERS)?)
    }

    /// A user by email or username within a tenant.
    pub fn user_by_login(&self, tenant_id: &str, login_id: &str) -> CoreResult<Option<User>> {
        match self.state.user_logins.get(login_key(tenant_id, login_id))? {
            Some(id) => self.user(&id),
            None => Ok(None),
        }
    }

    /// A user the caller may see, or not found (a user of another tenant is as missing).
    pub fn scoped_user(&self, user_id: &str, scope: TenantScope<'_>) -> CoreResult<User> {
        self.user(user_id)?
            .filter(|u| in_scope(scope, &u.tenant_id))
            .ok_or_else(|| CoreError::NotFound {
                entity: "user",
                id: user_id.to_string(),
                message: format!("No user with id [{user_id}]"),
            })
    }
}
