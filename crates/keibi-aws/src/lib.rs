//! keibi's AWS edge: every call keibi makes to AWS lives here, and only here.
//!
//! The AWS SDK is large (it adds minutes to a clean build), so the rest of the
//! workspace never depends on it: the binary pulls this crate in through its `aws`
//! feature, and the pure crates talk to it through small hooks (the notifier's
//! [`keibi_notify::channels::MakeSns`]). One module per AWS service; each owns its
//! client construction, its error mapping and its tests against moto server.
//!
//! * [`sns`]: Amazon SNS publish, a notification channel.
//! * [`s3`]: CloudTrail (or any log files) read from an S3 bucket in key order.
//! * [`sqs`]: S3 event notifications received from an SQS queue, so the daemon
//!   reads a new trail object within seconds.
//! * [`logs`]: RDS logs exported to CloudWatch Logs, read with FilterLogEvents.
//! * [`rdslogs`]: RDS log files where RDS keeps them (DescribeDBLogFiles,
//!   DownloadDBLogFilePortion), for instances that do not export to CloudWatch.
//! * [`lookup`]: CloudTrail's event history (LookupEvents), for accounts with no
//!   trail.
//! * [`inventory`]: the describe calls of a posture audit (RDS, EC2, CloudTrail,
//!   GuardDuty, STS) into `keibi-posture`'s inventory, sent by [`signed`] (SigV4 over
//!   reqwest, no SDK crate per service) with the XML answers read by [`xml`].
//! * [`securityhub`]: Security Hub's BatchImportFindings (findings already in ASFF),
//!   over [`signed`] too; [`securityhub::channel`] is the notifier's `securityhub`
//!   channel (each finding change imported as `keibi run` commits it), built
//!   through the `MakeSecurityHub` hook of [`keibi_notify::channels::Edge`].
//! * [`sts`]: STS AssumeRole as a credentials provider (one role per account),
//!   cached and refreshed five minutes before expiry, over [`signed`].
//! * [`guardduty`]: GuardDuty's RDS and IAM findings read in (ListDetectors,
//!   ListFindings, GetFindings) and mapped to keibi's findings, over [`signed`] too.
//! * [`kinesis`]: Amazon Kinesis Data Streams: the shards as keibi-ingest's
//!   partitioned stream (issue 20's workers), and PutRecords for a producer.
//! * [`usage`]: every request [`signed`] sends, counted by service and API (retries
//!   included) with the bytes of its answer, and by the source it was made for
//!   ([`usage::in_source`]), and the list prices that turn the counts into an
//!   estimate in USD.
//! * [`respond`]: the executors of automated response (network ACL deny entries,
//!   public access closed, security-group rules and network ACL allow entries
//!   revoked, IAM principals contained, trail logging restarted), over [`signed`]
//!   too.
//!
//! Later issues add their calls as sibling modules: RDS (describe instances,
//! download log files), EC2 (security groups for responses), CloudTrail and S3
//! (reading trails). Shared pieces go in [`config`]: credentials come from the
//! standard chain (environment, profile with `credential_process`, web identity, ECS
//! and EC2 roles; SSO profiles are not built in, since their client needs ring), and
//! every call is bounded by a time-out.
//!
//! Each client is driven by a small current-thread tokio runtime that the caller's
//! thread blocks on: keibi's edges are plain threads, and one publish at a time is
//! what a notifier needs.

pub mod config;
pub mod guardduty;
pub mod inventory;
pub mod kinesis;
pub mod logs;
pub mod lookup;
pub mod rdslogs;
pub mod respond;
pub mod s3;
pub mod securityhub;
pub mod signed;
pub mod sns;
pub mod sqs;
pub mod sts;
pub mod usage;
pub mod xml;
