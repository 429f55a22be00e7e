//! The surfaces vlsim serves, named once. Events, the journal, fault rules and the admin API
//! all speak of them by these names.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Surface {
    /// Horizon View API (VLSI) SOAP at `/view-vlsi/sdk`.
    Vlsi,
    /// FusionAuth-style REST at `/api/...` and `/.well-known/...`.
    #[serde(rename = "fusionauth")]
    FusionAuth,
    /// vCenter sessions and token exchange.
    Vcenter,
    /// Horizon Connection Server REST API under `/rest/`.
    #[serde(rename = "horizon-rest")]
    HorizonRest,
    /// The emulator's own control plane at `/_vlsim/...`.
    Admin,
    /// A path no surface serves.
    Other,
}

impl Surface {
    /// The surfaces that emulate a product (fault rules may target these).
    pub const EMULATED: [Surface; 4] = [
        Surface::Vlsi,
        Surface::FusionAuth,
        Surface::Vcenter,
        Surface::HorizonRest,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::Vlsi => "vlsi",
            Self::FusionAuth => "fusionauth",
            Self::Vcenter => "vcenter",
            Self::HorizonRest => "horizon-rest",
            Self::Admin => "admin",
            Self::Other => "other",
        }
    }

    /// The surface named `name` (as [`Surface::name`] spells it).
    pub fn parse(name: &str) -> Option<Self> {
        [
            Self::Vlsi,
            Self::FusionAuth,
            Self::Vcenter,
            Self::HorizonRest,
            Self::Admin,
            Self::Other,
        ]
        .into_iter()
        .find(|s| s.name() == name)
    }
}

impl std::fmt::Display for Surface {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_serde_and_parse() {
        for s in Surface::EMULATED {
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.name()));
            assert_eq!(serde_json::from_str::<Surface>(&json).unwrap(), s);
            assert_eq!(Surface::parse(s.name()), Some(s));
        }
        assert_eq!(Surface::parse("nope"), None);
    }
}
