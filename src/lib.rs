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
pub mod json;
pub mod recent;
pub mod soap;
pub mod spec;
pub mod state;
pub mod store;
pub mod surface;
pub mod testkit;
pub mod tls;
pub mod upkeep;
pub mod vcenter;
pub mod vlsi;
pub mod xml;

use crate::clock::SharedClock;
use crate::config::Config;
use crate::control::routes::SurfaceDef;
use crate::control::Control;
use crate::core::{Core, Damaged, LoadReport, WorldSource};
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
    #[error("the store in {path} is damaged: sled cannot read it ({message}). `vlsim reset-data --data-dir {path} --yes` empties it (snapshots and TLS files are kept; the fixtures load again)", path = .path.display())]
    Damaged {
        path: std::path::PathBuf,
        message: String,
    },
    #[error("the data dir {path} lost data since its last checkpoint: {message}. Start with --accept-damaged-store to serve what is left, or run `vlsim reset-data --data-dir {path} --yes` to start over from the fixtures (snapshots and TLS files are kept)", path = .path.display())]
    LostData {
        path: std::path::PathBuf,
        message: String,
    },
    #[error(transparent)]
    Run(#[from] RunError),
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

/// How serving ended badly.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("the server failed: {0}")]
    Server(std::io::Error),
    /// Stopped, but what was accepted could not all be written to the data dir.
    #[error("stopped, but the data dir could not be written at shutdown ({message}); {pending} buffered event(s) were not saved")]
    Flush { message: String, pending: usize },
}

impl StartError {
    fn from_store(e: store::StoreError) -> Self {
        match e {
            store::StoreError::Damaged { path, message } => Self::Damaged { path, message },
            store::StoreError::LostData { path, message } => Self::LostData { path, message },
            other => Self::Store(other),
        }
    }

    fn from_core(e: core::CoreError) -> Self {
        match e {
            core::CoreError::Store(e) => Self::from_store(e),
            other => Self::Core(other),
        }
    }
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
        let store = store::Store::open(&config.data_dir).map_err(StartError::from_store)?;
        let damaged = if config.accept_damaged_store {
            Damaged::Accept
        } else {
            Damaged::Refuse
        };
        // sled reads pages lazily: a damaged file can make it panic here too.
        let (core, report) = store::quietly(|| Core::open(store, clock.clone(), &source, damaged))
            .map_err(|message| StartError::Damaged {
                path: config.data_dir.clone(),
                message,
            })?
            .map_err(StartError::from_core)?;
        core.events().set_retention(core::events::Retention {
            per_surface: config.event_retention,
            failures_per_surface: config.failure_retention(),
            max_age_seconds: config.event_max_age,
        });
        // What the store holds now, so that losing it is noticed at the next start.
        if let Err(e) = core.checkpoint(false) {
            tracing::warn!(error = %e, "the start-up checkpoint failed");
        }

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
        let (tls, served_certificate) = if config.tls {
            let (tls, served) = tls::server_config(&config)?;
            (Some(tls), served)
        } else {
            (None, None)
        };
        // What the Horizon REST monitor reports of the certificate served.
        let served_certificate = web::Data::new(served_certificate);
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
                .app_data(served_certificate.clone())
                .wrap(control::middleware::ControlLayer)
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
    /// requests, then makes the store durable and records a clean checkpoint. A disk that
    /// refuses that last write is reported as such, with the events it cost.
    pub async fn run_until_stopped(self) -> Result<(), RunError> {
        let upkeep = upkeep::Upkeep::start(self.state.clone());
        let result = self.server.await;
        upkeep.stop();
        let state = self.state.clone();
        let finished = tokio::task::spawn_blocking(move || {
            let store = state.core.store();
            store.close();
            // The disk may take writes again by now.
            store.try_recover();
            state.core.checkpoint(true).map_err(|e| {
                let (pending, _) = store.pending_log_records();
                RunError::Flush {
                    message: e.to_string(),
                    pending,
                }
            })
        })
        .await
        .map_err(|e| RunError::Flush {
            message: format!("the final flush did not finish: {e}"),
            pending: 0,
        })?;
        if let Err(e) = finished {
            tracing::error!(error = %e, "final flush of the data dir failed");
            return Err(e);
        }
        result.map_err(RunError::Server)
    }
}
