//! Inside the database: what AWS Config cannot see. Snapshots of a PostgreSQL or
//! MySQL/MariaDB server's settings, authentication rules, roles and accounts (read
//! by `keibi-dbprobe` over a read-only connection), and the `KB.PG.*` and
//! `KB.MySQL.*` controls over them.

use crate::control::Control;
use crate::outcome::Outcome;

/// What was read from one PostgreSQL server.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PgSnapshot {
    /// The server as the user named it: the URL without its password, or a name.
    pub target: String,
}

/// What was read from one MySQL or MariaDB server.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MySqlSnapshot {
    /// The server as the user named it: the URL without its password, or a name.
    pub target: String,
}

/// Every database control, in catalog order.
pub static CONTROLS: &[Control] = &[];

/// Runs every PostgreSQL control over one server's snapshot.
pub fn check_postgres(_pg: &PgSnapshot, _out: &mut Vec<Outcome>) {}

/// Runs every MySQL/MariaDB control over one server's snapshot.
pub fn check_mysql(_my: &MySqlSnapshot, _out: &mut Vec<Outcome>) {}
