//! Horizon administrators: stored with hashed passwords, found by any of the ways clients
//! write a name (`DOMAIN\user`, `user@domain`, a bare name plus a domain argument).

use super::Horizon;
use crate::core::error::CoreResult;
use serde::{Deserialize, Serialize};

/// A Horizon (VLSI) administrator account.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HorizonUser {
    pub domain: String,
    pub name: String,
    pub password_hash: String,
    pub privileges: Vec<String>,
}

impl HorizonUser {
    /// `DOMAIN\name`, the form Horizon shows users in.
    pub fn principal(&self) -> String {
        format!("{}\\{}", self.domain, self.name)
    }

    /// The store key: case-insensitive `domain\name`.
    pub fn key(domain: &str, name: &str) -> String {
        format!("{}\\{}", domain.to_lowercase(), name.to_lowercase())
    }
}

impl Horizon<'_> {
    /// Splits `DOMAIN\user`, `user@domain` or a bare name plus the `domain` argument.
    pub fn find_user(&self, username: &str, domain: &str) -> CoreResult<Option<HorizonUser>> {
        let settings = self.settings();
        let (name, domain) = if let Some((d, n)) = username.split_once('\\') {
            (n, d)
        } else if let Some((n, d)) = username.split_once('@') {
            (n, d)
        } else if domain.trim().is_empty() {
            (username, settings.domain.as_str())
        } else {
            (username, domain)
        };
        // Horizon accepts the NetBIOS name or a DNS-style name starting with it.
        let domain = domain.split('.').next().unwrap_or(domain);
        Ok(self
            .state
            .users
            .get(HorizonUser::key(domain.trim(), name.trim()))?)
    }
}
