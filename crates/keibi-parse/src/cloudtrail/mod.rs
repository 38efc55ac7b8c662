//! AWS CloudTrail in every envelope it is delivered in, and CloudWatch Logs
//! subscription payloads (which may carry database log lines).

pub mod cloudwatch;
mod keys;
mod record;
pub mod records;
