//! keibi's plain data model: the normalized [`Event`] every parser produces and every
//! detector reads, and the [`Finding`] every detector produces. No I/O, no async, no
//! parsing: only types, their serialization and small pure helpers (dotted-path field
//! lookup, SQL statement classification, finding ids and aggregation).

pub mod change;
pub mod chars;
pub mod cut;
pub mod event;
pub mod export;
pub mod finding;
pub mod spec;
pub mod sql;
pub mod text;

pub use change::{ChangeKind, FindingChange};
/// The type of short event fields (user, database, command ...): up to 24 bytes are
/// stored inline, so most events allocate only for their message and statement text.
pub use compact_str::{format_compact, CompactString, ToCompactString};
pub use event::{Action, Engine, Event, Injection, SourceKind, Statement};
pub use finding::{Actor, Evidence, Finding, Resource, Severity, SeverityLabel};
pub use spec::{ActionKind, FindingSpec, SuggestedAction};
pub use text::{Arg, FindingText, Msg};
