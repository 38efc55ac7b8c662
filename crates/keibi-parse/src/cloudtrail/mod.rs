//! AWS CloudTrail in every envelope it is delivered in, CloudWatch Logs subscription
//! payloads (which may carry database log lines), and CloudWatch Logs exported as
//! text (database log lines behind the export's time).

pub mod cloudwatch;
pub mod export;
pub(crate) mod keys;
mod record;
pub mod records;
