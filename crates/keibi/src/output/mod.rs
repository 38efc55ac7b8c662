//! Output formats. Every string that came from a log is attacker-controlled: the
//! terminal writer escapes control characters (no escape-sequence injection), JSON is
//! escaped by serde.

pub mod asff;
pub mod findings;
pub mod ocsf;
pub mod posture;
pub mod sanitize;
pub mod sarif;
pub mod table;
