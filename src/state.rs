//! What every handler shares.

use crate::config::Config;
use crate::control::Control;
use crate::core::{Core, WorldSource};
use actix_web::web;
use std::time::Instant;

pub struct AppState {
    pub core: Core,
    pub config: Config,
    /// Journal, fault rules, latency, route tables (also registered on its own, for the
    /// control layer that wraps every request).
    pub control: web::Data<Control>,
    /// The fixtures `POST /_vlsim/reset` goes back to.
    pub source: WorldSource,
    /// Monotonic start instant, for uptime (not a wall-clock reading).
    pub started: Instant,
}
