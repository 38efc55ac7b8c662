//! keibi's plain data model: the normalized [`Event`] every parser produces and every
//! detector reads. No I/O, no async, no parsing: only types, their serialization and
//! small pure helpers (dotted-path field lookup, SQL statement classification).

pub mod event;
pub mod sql;

pub use event::{Action, Event, SourceKind, Statement};
