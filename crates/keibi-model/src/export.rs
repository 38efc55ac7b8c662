//! keibi's findings in the formats other tools read: OCSF 1.x events for Security
//! Lake and SIEMs ([`ocsf`]) and ASFF for Security Hub ([`asff`]). Pure mappings
//! (no I/O): the binary writes them (`--format ocsf|asff`, `keibi findings export`),
//! the notifier's export channels deliver them.

pub mod asff;
pub mod ocsf;
