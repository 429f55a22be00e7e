//! What a world is made of: the types a fixtures document describes (keys, the Horizon
//! Connection Server, FusionAuth tenants and applications, the vCenter SSO domain).
//! Plain data with serde; it depends on nothing else in vlsim, so the core, the fixtures
//! reader and the admin API can all speak it. Parsed strictly: an unknown key is an error
//! that names it.

pub mod fusionauth;
pub mod horizon;
pub mod vcenter;

use serde::{Deserialize, Serialize};

pub use fusionauth::FusionAuthSpec;
pub use horizon::{EventDatabaseSpec, HorizonSpec, HorizonUserSpec, JwtAuthenticatorSpec};
pub use vcenter::{VcenterSpec, VcenterUserSpec};

/// A whole fixtures document (`fixtures/default.toml`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct World {
    #[serde(default)]
    pub keys: Vec<KeySpec>,
    pub horizon: HorizonSpec,
    #[serde(default)]
    pub fusionauth: FusionAuthSpec,
    /// vCenter sessions and token exchange (`[vcenter]`); documented defaults when absent.
    #[serde(default)]
    pub vcenter: VcenterSpec,
}

/// A `[[keys]]` entry as written: key material inline or by file name.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct KeySpec {
    pub id: String,
    #[serde(default)]
    pub name: String,
    /// RS256, ES256 or HS256.
    pub algorithm: String,
    #[serde(default)]
    pub private_key_file: Option<String>,
    #[serde(default)]
    pub private_key_pem: Option<String>,
    #[serde(default)]
    pub secret_base64: Option<String>,
}

/// A key as resolved from the fixtures: PEM text or secret bytes, no file references left.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct KeyMaterial {
    pub id: String,
    pub name: String,
    pub algorithm: String,
    #[serde(default)]
    pub private_pem: Option<String>,
    #[serde(default)]
    pub secret_base64: Option<String>,
}
