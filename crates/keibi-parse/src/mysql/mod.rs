//! MySQL and MariaDB: audit logs (server_audit, RDS, Aurora, Enterprise Audit JSON,
//! Percona's audit log plugin),
//! error logs, the general query log and the slow query log.

pub mod audit;
pub mod enterprise;
pub mod error;
pub mod general;
pub mod percona;
pub mod slow;
mod text;
