//! What went wrong, in domain terms. Each surface maps this, in one exhaustive function,
//! to its own wire format (SOAP fault, FusionAuth Errors JSON, OAuth2 error...).

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// No session, or it expired or was logged out.
    #[error("{0}")]
    NotAuthenticated(String),
    /// Wrong user name, password or domain; or a token that cannot log anyone in.
    #[error("{0}")]
    InvalidCredentials(String),
    /// Authenticated, but lacking a privilege.
    #[error("{message}")]
    PermissionDenied {
        message: String,
        privileges: Vec<String>,
    },
    /// A named input field is invalid.
    #[error("{message}")]
    InvalidArgument { field: String, message: String },
    /// A referenced entity does not exist.
    #[error("{message}")]
    NotFound {
        entity: &'static str,
        id: String,
        message: String,
    },
    /// A token that is malformed, forged, expired or not yet valid.
    #[error("{0}")]
    InvalidToken(String),
    /// Something already exists or was already used (e.g. a one-time refresh token).
    #[error("{0}")]
    Conflict(String),
    #[error("storage failure: {0}")]
    Store(#[from] StoreError),
    #[error("internal error: {0}")]
    Internal(String),
}

impl CoreError {
    pub fn invalid_argument(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::InvalidArgument {
            field: field.into(),
            message: message.into(),
        }
    }
}

pub type CoreResult<T> = Result<T, CoreError>;
