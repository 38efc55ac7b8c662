//! What detectors use beside their settings: the address lists, the behavioural
//! profiles and the ASN/country lookups. Unlike [`crate::Config`] (plain data), these
//! are shared handles the binary fills (`--threat-list`, `--state`, `--asn-db`) and
//! a daemon may swap between batches ([`crate::Scanner::set_services`], on a reload).
//! Detectors reach them through [`crate::Context::services`].

use std::sync::Arc;

use crate::detectors::baseline::{BaselineStore, NetInfoHandle};
use crate::iplist::ThreatLists;

/// The services of one scanner. Cloning shares them.
#[derive(Debug, Clone, Default)]
pub struct Services {
    /// Threat, Tor exit and trusted address lists.
    pub lists: Arc<ThreatLists>,
    /// Behavioural profiles, loaded from and saved to the state file by the binary.
    pub baselines: BaselineStore,
    /// ASN and country lookups, when given.
    pub net_info: NetInfoHandle,
}

impl From<ThreatLists> for Services {
    fn from(lists: ThreatLists) -> Services {
        Services {
            lists: Arc::new(lists),
            ..Services::default()
        }
    }
}
