//! Detection: everything that turns keibi events into findings lives here, pure like
//! the parsers (no I/O, no threads, no clock), so `keibi scan` and a daemon share it
//! unchanged. Today it holds the address lists that findings consult (threat, Tor exit
//! and trusted lists, `iplist`); the Sigma rule engine and the stateful detectors
//! come next.

pub mod iplist;

pub use iplist::{IpList, IpSet, ListError, ListProblem, Reputation, ThreatLists};
