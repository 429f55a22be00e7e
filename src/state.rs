//! What every handler shares.

use crate::config::Config;
use crate::core::Core;
use std::time::Instant;

pub struct AppState {
    pub core: Core,
    pub config: Config,
    pub vlsi: crate::vlsi::Dispatcher,
    /// Monotonic start instant, for uptime (not a wall-clock reading).
    pub started: Instant,
}
