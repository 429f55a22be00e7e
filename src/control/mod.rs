//! Emulator controls that sit around every surface: the request journal, fault injection
//! and latency. State is in memory (it describes a test run, not the emulated world).

pub mod faults;
pub mod journal;
pub mod latency;
pub mod middleware;
pub mod redact;

/// The operation a request was for, set by the surface that handled it (e.g.
/// `JwtToken_Generate`); the journal and latency rules key on it.
#[derive(Debug, Clone)]
pub struct OperationName(pub String);

/// The surface a path belongs to (`vlsi`, `fusionauth`, `vcenter`, `admin`).
pub fn surface_of(method: &str, path: &str) -> &'static str {
    if path.starts_with("/view-vlsi") {
        "vlsi"
    } else if path.starts_with("/_vlsim") {
        "admin"
    } else if path.starts_with("/api/session")
        || path.starts_with("/api/vcenter")
        || (path == "/api" && method == "POST")
        || path.starts_with("/rest")
        || path.starts_with("/openidconnect")
    {
        "vcenter"
    } else if path.starts_with("/api")
        || path.starts_with("/.well-known")
        || path.starts_with("/oauth2")
    {
        "fusionauth"
    } else {
        "other"
    }
}

pub struct Control {
    pub journal: journal::Journal,
    pub faults: faults::FaultInjector,
    pub latency: latency::Latency,
}

impl Control {
    pub fn new(journal_size: usize) -> Self {
        Self {
            journal: journal::Journal::new(journal_size),
            faults: faults::FaultInjector::default(),
            latency: latency::Latency::default(),
        }
    }
}
