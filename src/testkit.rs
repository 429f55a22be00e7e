//! Start a real vlsim in-process for tests, like wiremock-rs's `MockServer::start()`:
//!
//! ```no_run
//! # async fn demo() {
//! let server = vlsim::testkit::Vlsim::start().await;
//! let health = format!("{}/_vlsim/health", server.url());
//! server.clock().advance(3600); // expire things without sleeping
//! # }
//! ```
//!
//! Each server gets its own temporary data dir (removed on drop), listens on
//! `127.0.0.1:0`, and runs on the current actix/tokio runtime.

use crate::clock::{Clock, SharedClock};
use crate::config::Config;
use crate::core::Core;
use crate::state::AppState;
use crate::Application;
use actix_web::dev::ServerHandle;
use actix_web::web;
use std::path::{Path, PathBuf};

pub struct Vlsim {
    url: String,
    state: web::Data<AppState>,
    handle: ServerHandle,
    task: actix_web::rt::task::JoinHandle<Result<(), crate::RunError>>,
    data_dir: PathBuf,
    _temp: Option<tempfile::TempDir>,
}

impl Vlsim {
    /// A fresh server with the embedded default fixtures.
    #[allow(clippy::expect_used)] // test helper: failing loudly is the point
    pub async fn start() -> Self {
        let temp = tempfile::tempdir().expect("temporary data dir");
        let config = Config::for_tests(temp.path());
        let mut server = Self::start_with(config).await;
        server._temp = Some(temp);
        server
    }

    /// A fresh server in a temporary data dir, with the test configuration adjusted by
    /// `adjust` (e.g. `|c| c.journal_size = 10`).
    #[allow(clippy::expect_used)]
    pub async fn start_configured(adjust: impl FnOnce(&mut Config)) -> Self {
        let temp = tempfile::tempdir().expect("temporary data dir");
        let mut config = Config::for_tests(temp.path());
        adjust(&mut config);
        let mut server = Self::start_with(config).await;
        server._temp = Some(temp);
        server
    }

    /// A server with this configuration (its `data_dir` is kept).
    #[allow(clippy::expect_used)]
    pub async fn start_with(config: Config) -> Self {
        let data_dir = config.data_dir.clone();
        // A server stopped just before on the same data dir may still be releasing sled's
        // lock (its worker threads drop their state after the stop completes): retry briefly.
        let mut tries = 0;
        let app = loop {
            match Application::build(config.clone(), Clock::new()) {
                Err(crate::StartError::Store(crate::store::StoreError::Locked { .. }))
                    if tries < 100 =>
                {
                    tries += 1;
                    actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
                }
                other => break other.expect("vlsim starts"),
            }
        };
        let url = app.url();
        let state = app.state();
        let handle = app.handle();
        let task = actix_web::rt::spawn(app.run_until_stopped());
        Self {
            url,
            state,
            handle,
            task,
            data_dir,
            _temp: None,
        }
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn core(&self) -> &Core {
        &self.state.core
    }

    pub fn clock(&self) -> &SharedClock {
        self.state.core.clock()
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Stops gracefully and waits until the server task has finished and the store is
    /// released, so another server can open the same data dir. Returns the temporary data
    /// dir (if this server made one) so a restart test can reuse it.
    pub async fn stop(self) -> Option<tempfile::TempDir> {
        self.handle.stop(true).await;
        let Self {
            state, task, _temp, ..
        } = self;
        // Ok or Err, the server has stopped; the result was logged by the task.
        let _ = task.await;
        // Worker threads may still be dropping their copies of the app state (and with
        // it the store's lock on the data dir); wait, bounded, until ours is the last.
        let state = state.into_inner();
        for _ in 0..1000 {
            if std::sync::Arc::strong_count(&state) == 1 {
                break;
            }
            actix_web::rt::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        drop(state);
        _temp
    }
}
