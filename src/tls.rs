//! `--tls`: rustls (aws-lc-rs provider) with the given PEM files, or a self-signed
//! certificate generated on first start and kept in `<data-dir>/tls/` so clients can trust
//! it once.

use crate::config::Config;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("TLS certificate {path}: {message}")]
    Pem { path: PathBuf, message: String },
    #[error("generating the self-signed certificate: {0}")]
    Generate(String),
    #[error("writing {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
}

/// Where the generated certificate lives (clients add it as a trusted root).
pub fn generated_cert_path(data_dir: &Path) -> PathBuf {
    data_dir.join("tls").join("cert.pem")
}

fn pem_error(path: &Path, e: impl std::fmt::Display) -> TlsError {
    TlsError::Pem {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

fn write_private(path: &Path, contents: &str, private: bool) -> Result<(), TlsError> {
    let write_err = |source| TlsError::Write {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(write_err)?;
    }
    std::fs::write(path, contents).map_err(write_err)?;
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .map_err(write_err)?;
    }
    Ok(())
}

/// The certificate and key files to serve: the configured ones, or generated ones.
fn files(config: &Config) -> Result<(PathBuf, PathBuf), TlsError> {
    if let (Some(cert), Some(key)) = (&config.tls_cert, &config.tls_key) {
        return Ok((cert.clone(), key.clone()));
    }
    let cert = generated_cert_path(&config.data_dir);
    let key = config.data_dir.join("tls").join("key.pem");
    if !(cert.exists() && key.exists()) {
        let mut names = vec!["localhost".to_string(), "127.0.0.1".into(), "::1".into()];
        if let Some(host) = config
            .listen
            .rsplit_once(':')
            .map(|(h, _)| h.trim_matches(['[', ']']))
        {
            if !host.is_empty()
                && !names.iter().any(|n| n == host)
                && host != "0.0.0.0"
                && host != "::"
            {
                names.push(host.to_string());
            }
        }
        let generated = rcgen::generate_simple_self_signed(names)
            .map_err(|e| TlsError::Generate(e.to_string()))?;
        write_private(&key, &generated.signing_key.serialize_pem(), true)?;
        write_private(&cert, &generated.cert.pem(), false)?;
    }
    Ok((cert, key))
}

pub fn server_config(config: &Config) -> Result<rustls::ServerConfig, TlsError> {
    let (cert_path, key_path) = files(config)?;
    let chain = CertificateDer::pem_file_iter(&cert_path)
        .map_err(|e| pem_error(&cert_path, e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem_error(&cert_path, e))?;
    if chain.is_empty() {
        return Err(pem_error(&cert_path, "no certificate in the file"));
    }
    let key = PrivateKeyDer::from_pem_file(&key_path).map_err(|e| pem_error(&key_path, e))?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut tls = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(tls)
}
