//! OAuth clients: an application with an OAuth configuration (client id = application id),
//! its redirect URIs, and client authentication at the token and introspection endpoints
//! under `clientAuthenticationPolicy` / `proofKeyForCodeExchangePolicy`, in FusionAuth's order.

use super::{ErrorCode, OAuthFailure};
use crate::core::fusionauth::{Application, Directory, FusionAuth, Tenant};
use crate::spec::fusionauth::{
    ClientAuthenticationPolicy, OAuthConfigSpec, OAuthGrant, PkcePolicy,
};

/// An OAuth client as resolved from the directory.
#[derive(Debug, Clone)]
pub struct Client {
    pub app: Application,
    pub config: OAuthConfigSpec,
    pub tenant: Tenant,
}

impl Client {
    pub fn id(&self) -> &str {
        &self.app.id
    }

    pub fn grant_enabled(&self, grant: OAuthGrant) -> bool {
        self.config.enabled_grants.contains(&grant)
    }

    /// Whether `uri` may receive codes (and logout redirects): one of the configured URLs
    /// exactly, or a loopback URI when the client allows those.
    pub fn allows_redirect(&self, uri: &str) -> bool {
        self.config
            .authorized_redirect_urls
            .iter()
            .any(|u| u == uri)
            || (self.config.allow_loopback_redirects && is_loopback_redirect(uri))
    }
}

/// RFC 8252 §7.3: `http://127.0.0.1:<port>/...`, `http://[::1]:<port>/...` or
/// `http://localhost:<port>/...` (port optional), with no user info and no fragment.
pub fn is_loopback_redirect(uri: &str) -> bool {
    let Some(rest) = uri.strip_prefix("http://") else {
        return false;
    };
    if uri.contains('#') {
        return false;
    }
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = rest.get(..end).unwrap_or_default();
    if authority.contains('@') {
        return false;
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        match v6.split_once(']') {
            Some((host, tail)) => (host, tail.strip_prefix(':')),
            None => return false,
        }
    } else {
        match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.parse::<u16>().is_ok());
    port_ok && (host == "127.0.0.1" || host == "::1" || host.eq_ignore_ascii_case("localhost"))
}

/// How a client identified itself: `client_id` / `client_secret` form fields, or
/// `Authorization: Basic` (`basic`).
#[derive(Debug, Clone, Default)]
pub struct ClientCredentials {
    pub client_id: Option<String>,
    pub secret: Option<String>,
    pub basic: bool,
}

fn invalid_client_id(id: &str) -> OAuthFailure {
    OAuthFailure::new(
        ErrorCode::InvalidClient,
        "invalid_client_id",
        format!("client_id: {id} is not valid."),
    )
}

fn authentication_missing() -> OAuthFailure {
    OAuthFailure::new(
        ErrorCode::InvalidClient,
        "client_authentication_missing",
        "Client authentication missing as Basic Authorization header or credentials in the body (or some combination of them).",
    )
}

/// Constant-time string comparison.
fn same_secret(a: &str, b: &str) -> bool {
    aws_lc_rs::constant_time::verify_slices_are_equal(a.as_bytes(), b.as_bytes()).is_ok()
}

impl FusionAuth<'_> {
    /// The OAuth client `client_id` (an application with an OAuth configuration).
    pub fn oauth_client(&self, client_id: &str) -> Option<Client> {
        let dir = self.directory();
        client_of(&dir, client_id)
    }

    /// The client the request names, authenticated as the policies demand for `grant`
    /// (`None`: introspection). `has_verifier`: a PKCE `code_verifier` came with it.
    pub fn authenticate_client(
        &self,
        creds: &ClientCredentials,
        grant: Option<OAuthGrant>,
        has_verifier: bool,
    ) -> Result<Client, OAuthFailure> {
        let id = creds
            .client_id
            .as_deref()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| OAuthFailure::missing("missing_client_id", "client_id"))?;
        let client = self.oauth_client(id).ok_or_else(|| invalid_client_id(id))?;
        let secret = creds.secret.as_deref().filter(|s| !s.is_empty());
        let policy = client.config.client_authentication_policy;
        let code_grant = grant == Some(OAuthGrant::AuthorizationCode);
        let required = match policy {
            ClientAuthenticationPolicy::Required => true,
            ClientAuthenticationPolicy::NotRequired => false,
            ClientAuthenticationPolicy::NotRequiredWhenUsingPkce => !code_grant,
        };
        // Introspection asks for the secret only when one is sent.
        let required = required && grant.is_some();
        match (secret, client.config.client_secret.as_deref()) {
            (None, _) if required => return Err(authentication_missing()),
            (Some(given), Some(known)) if same_secret(given, known) => {}
            (Some(_), _) => {
                return Err(OAuthFailure::new(
                    ErrorCode::InvalidClient,
                    "invalid_client_authentication",
                    "Invalid client authentication credentials.",
                ))
            }
            (None, _) => {}
        }
        if code_grant {
            if policy == ClientAuthenticationPolicy::NotRequiredWhenUsingPkce
                && secret.is_none()
                && !has_verifier
            {
                return Err(authentication_missing());
            }
            let pkce_required = match client.config.proof_key_for_code_exchange_policy {
                PkcePolicy::Required => true,
                PkcePolicy::NotRequired => false,
                PkcePolicy::NotRequiredWhenUsingClientAuthentication => secret.is_none(),
            };
            if pkce_required && !has_verifier {
                return Err(OAuthFailure::new(
                    ErrorCode::InvalidClient,
                    "missing_code_verifier",
                    "The request is missing a required parameter: code_verifier",
                ));
            }
        }
        if let Some(grant) = grant {
            if !client.grant_enabled(grant) {
                return Err(grant_disabled(grant));
            }
        }
        Ok(client)
    }
}

/// `unauthorized_client` / `grant_type_disabled`.
pub(super) fn grant_disabled(grant: OAuthGrant) -> OAuthFailure {
    let label = match grant {
        OAuthGrant::AuthorizationCode => "Authorization Code",
        OAuthGrant::RefreshToken => "Refresh Token",
        OAuthGrant::Password => "Password",
    };
    OAuthFailure::new(
        ErrorCode::UnauthorizedClient,
        "grant_type_disabled",
        format!(
            "The [{}] {label} grant has been disabled for this client.",
            grant.name()
        ),
    )
}

pub(super) fn client_of(dir: &Directory, client_id: &str) -> Option<Client> {
    let id = uuid::Uuid::parse_str(client_id.trim()).ok()?.to_string();
    let app = dir.application(&id)?;
    let config = app.oauth.clone()?;
    let tenant = dir.tenant(&app.tenant_id)?.clone();
    Some(Client {
        app: app.clone(),
        config,
        tenant,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_redirects() {
        for ok in [
            "http://127.0.0.1:1/x",
            "http://127.0.0.1/cb",
            "http://localhost:65000/a/b?c=d",
            "http://[::1]:4444/cb",
            "http://127.0.0.1:8080",
        ] {
            assert!(is_loopback_redirect(ok), "{ok}");
        }
        for bad in [
            "https://127.0.0.1:1/x",
            "http://127.0.0.1.evil.test/x",
            "http://evil@127.0.0.1/x",
            "http://127.0.0.1:99999/x",
            "http://127.0.0.1:/x",
            "http://localhost:1/x#f",
            "http://example.com/",
            "http://[::2]:1/",
        ] {
            assert!(!is_loopback_redirect(bad), "{bad}");
        }
    }
}
