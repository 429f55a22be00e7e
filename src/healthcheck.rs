//! `vlsim healthcheck`: asks a running vlsim (found from the same configuration as
//! `serve`) for `GET /_vlsim/health`; exit 0 when it answers 200 with status ok. Meant for
//! container HEALTHCHECKs, so it needs no curl and honours `--listen` and `--tls`.

use crate::config::Config;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

/// Written by `vlsim serve` into the data dir: the URL it listens on.
pub const URL_FILE: &str = "vlsim.url";

/// Uses the URL a running server recorded in the data dir, when there is one.
pub fn with_recorded_url(mut config: Config) -> Config {
    if let Ok(url) = std::fs::read_to_string(config.data_dir.join(URL_FILE)) {
        let url = url.trim();
        if let Some(rest) = url.strip_prefix("https://") {
            config.tls = true;
            config.listen = rest.to_string();
        } else if let Some(rest) = url.strip_prefix("http://") {
            config.tls = false;
            config.listen = rest.to_string();
        }
    }
    config
}

/// The address to probe: the listen address, with a wildcard host replaced by loopback.
pub fn probe_addr(listen: &str) -> Result<SocketAddr, String> {
    let addr = listen
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {listen}: {e}"))?
        .next()
        .ok_or_else(|| format!("{listen} resolves to no address"))?;
    if addr.port() == 0 {
        return Err("the server listens on port 0 (a random port); give --listen HOST:PORT".into());
    }
    let ip = match addr.ip() {
        std::net::IpAddr::V4(v4) if v4.is_unspecified() => std::net::Ipv4Addr::LOCALHOST.into(),
        std::net::IpAddr::V6(v6) if v6.is_unspecified() => std::net::Ipv6Addr::LOCALHOST.into(),
        ip => ip,
    };
    Ok(SocketAddr::new(ip, addr.port()))
}

/// A liveness probe of our own server: any certificate is accepted (the probe checks that
/// vlsim answers, not who it is).
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

fn exchange(stream: &mut dyn ReadWrite, host: &str) -> Result<String, String> {
    let request =
        format!("GET /_vlsim/health HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .map_err(|e| format!("sending the request: {e}"))?;
    let mut response = Vec::new();
    // A TLS peer may close without close_notify; what was read is still the answer.
    let _ = stream.take(64 * 1024).read_to_end(&mut response);
    if response.is_empty() {
        return Err("no response".into());
    }
    Ok(String::from_utf8_lossy(&response).into_owned())
}

trait ReadWrite: Read + Write {}
impl<T: Read + Write> ReadWrite for T {}

/// Probes the server; `Ok` carries the health body.
pub fn check(config: &Config, timeout: Duration) -> Result<String, String> {
    let addr = probe_addr(&config.listen)?;
    let tcp = TcpStream::connect_timeout(&addr, timeout)
        .map_err(|e| format!("cannot connect to {addr}: {e}"))?;
    tcp.set_read_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    tcp.set_write_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    let host = addr.to_string();
    let text = if config.tls {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider)))
            .with_no_client_auth();
        let name = ServerName::from(addr.ip());
        let conn = rustls::ClientConnection::new(Arc::new(tls), name).map_err(|e| e.to_string())?;
        let mut stream = rustls::StreamOwned::new(conn, tcp);
        exchange(&mut stream, &host)?
    } else {
        let mut tcp = tcp;
        exchange(&mut tcp, &host)?
    };
    let status_ok = text
        .lines()
        .next()
        .is_some_and(|l| l.split_whitespace().nth(1) == Some("200"));
    let body = text.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
    if status_ok && body.contains("\"status\":\"ok\"") {
        Ok(body)
    } else {
        Err(format!(
            "unhealthy answer: {} {}",
            text.lines().next().unwrap_or("(empty)"),
            body.trim()
        ))
    }
}
