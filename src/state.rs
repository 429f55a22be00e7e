//! What every handler shares.

use crate::config::Config;
use crate::control::Control;
use crate::core::{Core, WorldSource};
use std::time::Instant;

pub struct AppState {
    pub core: Core,
    pub config: Config,
    pub vlsi: crate::vlsi::Dispatcher,
    /// Journal, fault rules, latency.
    pub control: Control,
    /// The fixtures `POST /_vlsim/reset` goes back to.
    pub source: WorldSource,
    /// Monotonic start instant, for uptime (not a wall-clock reading).
    pub started: Instant,
}
