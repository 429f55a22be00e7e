//! vlsim: an emulator of the identity and token endpoints management clients talk to
//! (Horizon VLSI SOAP, FusionAuth-style JWT REST, vCenter token exchange), over one core.
//!
//! [`Application::build`] is the one way to start it, used by `main` and by the tests.
//!
//! Layers point one way (checked by a test): surfaces (`vlsi`, `horizon_rest`,
//! `fusionauth`, `vcenter`, `admin`) → `state`, `soap`, `http`, `config` → `control` → `core` → `store`, with
//! `spec`, `surface`, `clock` and `xml` underneath everything.

#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::todo,
    clippy::unimplemented,
    clippy::await_holding_lock,
    clippy::manual_let_else,
    clippy::indexing_slicing
)]
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )
)]

pub mod admin;
pub mod clock;
pub mod config;
pub mod control;
pub mod core;
pub mod fixtures;
pub mod fusionauth;
pub mod healthcheck;
pub mod horizon_rest;
pub mod http;
pub mod soap;
pub mod spec;
pub mod state;
pub mod store;
pub mod surface;
pub mod testkit;
pub mod tls;
pub mod vcenter;
pub mod vlsi;
pub mod xml;

use crate::clock::SharedClock;
use crate::config::Config;
use crate::control::routes::SurfaceDef;
use crate::control::Control;
use crate::core::{Core, LoadReport, WorldSource};
use crate::state::AppState;
use actix_web::dev::{Server, ServerHandle};
use actix_web::{web, App, HttpServer};
use std::net::{SocketAddr, TcpListener};
use std::time::Instant;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error(transparent)]
    Fixtures(#[from] fixtures::FixtureError),
    #[error("cannot open the data dir: {0}. If the store is damaged, `vlsim reset-data --data-dir DIR --yes` empties it (snapshots and TLS files are kept)")]
    Store(#[from] store::StoreError),
    #[error("loading the world: {0}")]
    Core(#[from] core::CoreError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    #[error("cannot install signal handlers: {0}")]
    Signals(std::io::Error),
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
}

/// Every surface vlsim serves, admin first (its `/_vlsim` scope must not be shadowed).
pub static SURFACES: [&SurfaceDef; 5] = [
    &admin::SURFACE,
    &vlsi::SURFACE,
    &fusionauth::SURFACE,
    &vcenter::SURFACE,
    &horizon_rest::SURFACE,
];

/// A bound, ready-to-run vlsim.
pub struct Application {
    addr: SocketAddr,
    scheme: &'static str,
    server: Server,
    state: web::Data<AppState>,
    report: LoadReport,
}

impl Application {
    /// Opens the store (loading fixtures into an empty one), binds the listener and builds
    /// the HTTP server. Nothing is served until [`Application::run_until_stopped`].
    pub fn build(config: Config, clock: SharedClock) -> Result<Self, StartError> {
        std::fs::create_dir_all(&config.data_dir).map_err(|source| StartError::DataDir {
            path: config.data_dir.clone(),
            source,
        })?;
        let (world, keys) = match &config.fixtures {
            Some(path) => fixtures::from_file(path)?,
            None => fixtures::embedded()?,
        };
        let source = WorldSource {
            world,
            keys,
            origin: config
                .fixtures
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| "embedded fixtures/default.toml".into()),
            generate_keys: config.generate_keys,
        };
        let store = store::Store::open(&config.data_dir)?;
        let (core, report) = Core::open(store, clock.clone(), &source)?;

        let listener = TcpListener::bind(&config.listen).map_err(|source| StartError::Bind {
            addr: config.listen.clone(),
            source,
        })?;
        let addr = listener.local_addr().map_err(|source| StartError::Bind {
            addr: config.listen.clone(),
            source,
        })?;
        let workers = config.workers;
        let admin_enabled = !config.no_admin;
        let tls = if config.tls {
            Some(tls::server_config(&config)?)
        } else {
            None
        };
        let scheme = if tls.is_some() { "https" } else { "http" };
        let control = web::Data::new(Control::new(config.journal_size, clock, &SURFACES));
        let state = web::Data::new(AppState {
            core,
            control: control.clone(),
            config,
            source,
            started: Instant::now(),
        });
        let app_state = state.clone();
        let mut server = HttpServer::new(move || {
            App::new()
                .app_data(app_state.clone())
                .app_data(control.clone())
                .wrap(actix_web::middleware::from_fn(
                    control::middleware::control_layer,
                ))
                .configure(|cfg| admin::configure(cfg, admin_enabled))
                .configure(|cfg| control::routes::configure(cfg, &vlsi::SURFACE))
                .configure(|cfg| control::routes::configure(cfg, &fusionauth::SURFACE))
                .configure(|cfg| control::routes::configure(cfg, &vcenter::SURFACE))
                // After vCenter: it owns /rest/com/vmware/... and /rest/vcenter/...
                .configure(horizon_rest::configure)
        })
        .shutdown_timeout(10)
        // Signals are the binary's business (main installs its handlers before announcing
        // the URL, so a SIGTERM right after the line is never lost); tests stop via handle().
        .disable_signals();
        if let Some(n) = workers {
            server = server.workers(n);
        }
        let bind_error = |source| StartError::Bind {
            addr: addr.to_string(),
            source,
        };
        let server = match tls {
            Some(tls) => server
                .listen_rustls_0_23(listener, tls)
                .map_err(bind_error)?,
            None => server.listen(listener).map_err(bind_error)?,
        }
        .run();
        Ok(Self {
            addr,
            scheme,
            server,
            state,
            report,
        })
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://HOST:PORT` (or `https://`) of the bound listener.
    pub fn url(&self) -> String {
        match self.addr {
            SocketAddr::V4(a) => format!("{}://{}:{}", self.scheme, a.ip(), a.port()),
            SocketAddr::V6(a) => format!("{}://[{}]:{}", self.scheme, a.ip(), a.port()),
        }
    }

    pub fn report(&self) -> &LoadReport {
        &self.report
    }

    pub fn state(&self) -> web::Data<AppState> {
        self.state.clone()
    }

    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until stopped (SIGTERM/Ctrl-C or [`ServerHandle::stop`]), finishing in-flight
    /// requests, then flushes the store.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        // Buffered log records (events) reach sled within this interval (see store::Log).
        let store = self.state.core.store().clone();
        let drain = actix_web::rt::spawn(async move {
            let mut every = actix_web::rt::time::interval(std::time::Duration::from_millis(250));
            loop {
                every.tick().await;
                if let Err(e) = store.drain_logs() {
                    tracing::warn!(error = %e, "writing buffered events failed; will retry");
                }
            }
        });
        let result = self.server.await;
        drain.abort();
        if let Err(e) = self.state.core.store().flush().await {
            tracing::error!(error = %e, "final flush of the data dir failed");
            return Err(std::io::Error::other(e.to_string()));
        }
        result
    }
}
