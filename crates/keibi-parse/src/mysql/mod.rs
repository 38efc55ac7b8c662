//! MySQL and MariaDB: audit logs (server_audit, RDS, Aurora, Enterprise Audit JSON),
//! error logs and the general query log.

pub mod audit;
pub mod enterprise;
pub mod error;
pub mod general;
mod text;
