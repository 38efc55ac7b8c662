//! Managed platforms' envelopes around the database's own log lines (Google Cloud SQL,
//! Azure Database, Heroku): each unwraps the envelope (time, instance) and hands the
//! line to the parser of the engine's own format, so its events are read as those are.

pub mod azure;
pub mod cloudsql;
pub mod heroku;
mod streams;
