//! Emulator controls that sit around every surface: the request journal, fault injection,
//! latency, and the route tables every surface declares. State is in memory (it describes
//! a test run, not the emulated world).

pub mod faults;
pub mod journal;
pub mod latency;
pub mod middleware;
pub mod redact;
pub mod routes;

use crate::clock::SharedClock;
use routes::{Registry, SurfaceDef};

/// The operation a request was for, set by a surface that dispatches inside a route (e.g.
/// `JwtToken_Generate`); the journal and latency rules key on it.
#[derive(Debug, Clone)]
pub struct OperationName(pub &'static str);

/// Set by a surface when a fault rule fired for the call (recorded in the journal).
#[derive(Debug, Clone)]
pub struct InjectedFault(pub String);

pub struct Control {
    pub journal: journal::Journal,
    pub faults: faults::FaultInjector,
    pub latency: latency::Latency,
    /// Every surface's route table.
    pub registry: Registry,
    /// For the journal's timestamps (the emulated clock).
    clock: SharedClock,
}

impl Control {
    pub fn new(journal_size: usize, clock: SharedClock, surfaces: &[&'static SurfaceDef]) -> Self {
        Self {
            journal: journal::Journal::new(journal_size),
            faults: faults::FaultInjector::default(),
            latency: latency::Latency::default(),
            registry: Registry::new(surfaces),
            clock,
        }
    }
}
