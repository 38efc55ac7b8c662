//! keibi's plain data model: the normalized [`Event`] every parser produces and every
//! detector reads, and the [`Finding`] every detector produces. No I/O, no async, no
//! parsing: only types, their serialization and small pure helpers (dotted-path field
//! lookup, SQL statement classification, finding ids and aggregation).

pub mod event;
pub mod finding;
pub mod sql;

/// The type of short event fields (user, database, command ...): up to 24 bytes are
/// stored inline, so most events allocate only for their message and statement text.
pub use compact_str::{format_compact, CompactString, ToCompactString};
pub use event::{Action, Event, SourceKind, Statement};
pub use finding::{Actor, Evidence, Finding, FindingChange, Resource, Severity, SeverityLabel};
