//! The AWS edge (`crates/keibi-aws`), compiled in with the `aws` feature (on by
//! default). Without it everything else builds and runs; what needs AWS says so.

use keibi_notify::channels::{Edge, MakeSns};

/// The hook `keibi_notify::channels::build` makes SNS channels with, or `None` when
/// keibi is built without the `aws` feature (an SNS channel is then a clear error).
pub fn sns() -> Option<MakeSns<'static>> {
    #[cfg(feature = "aws")]
    {
        Some(&keibi_aws::sns::build)
    }
    #[cfg(not(feature = "aws"))]
    {
        None
    }
}

/// The AWS edge's channel constructors (SNS, Security Hub) for
/// `keibi_notify::channels::build_with`; none without the `aws` feature (those
/// channels are then a clear error).
pub fn channels() -> Edge<'static> {
    #[cfg(feature = "aws")]
    {
        Edge {
            sns: Some(&keibi_aws::sns::build),
            securityhub: Some(&keibi_aws::securityhub::channel::build),
        }
    }
    #[cfg(not(feature = "aws"))]
    {
        Edge::default()
    }
}

/// Reads the AWS inventory live, or says that this keibi was built without AWS.
pub fn inventory(
    opts: &AwsInventory,
) -> anyhow::Result<(Vec<keibi_posture::aws::Inventory>, Vec<String>)> {
    #[cfg(feature = "aws")]
    {
        let o = keibi_aws::inventory::InventoryOptions {
            regions: opts.regions.clone(),
            endpoint_url: opts.endpoint_url.clone(),
            profile: opts.profile.clone(),
            timeout: opts.timeout,
            role_arn: opts.role_arn.clone(),
            external_id: opts.external_id.clone(),
            accounts: opts
                .accounts
                .iter()
                .map(|a| keibi_aws::inventory::Account {
                    role_arn: a.role_arn.clone(),
                    external_id: a.external_id.clone(),
                    regions: a.regions.clone(),
                })
                .collect(),
        };
        Ok(keibi_aws::inventory::collect(&o)?)
    }
    #[cfg(not(feature = "aws"))]
    {
        let _ = opts;
        anyhow::bail!("this keibi was built without AWS (the `aws` feature): use --aws-json with saved AWS CLI outputs")
    }
}

/// The AWS executors of automated response (`respond.aws`), or that this keibi was
/// built without AWS.
pub fn respond_executors(
    aws: &keibi_engine::settings::respond::RespondAws,
    trusted_accounts: &[String],
) -> Result<Vec<Box<dyn keibi_respond::Executor>>, String> {
    #[cfg(feature = "aws")]
    {
        let nacl_rules = keibi_engine::settings::respond::parse_range(&aws.nacl_rule_numbers)
            .ok_or_else(|| format!("respond.aws.nacl_rule_numbers: {:?}", aws.nacl_rule_numbers))?;
        let mut trusted = aws.trusted_accounts.clone();
        trusted.extend(trusted_accounts.iter().cloned());
        let cfg = keibi_aws::respond::RespondConfig {
            region: aws.region.clone(),
            profile: aws.profile.clone(),
            endpoint_url: aws.endpoint_url.clone(),
            role_arn: aws.role_arn.clone(),
            external_id: aws.external_id.clone(),
            nacl_rules,
            network_acls: aws.network_acls.clone(),
            trusted_accounts: trusted,
            ..Default::default()
        };
        keibi_aws::respond::executors(&cfg).map_err(|e| e.to_string())
    }
    #[cfg(not(feature = "aws"))]
    {
        let _ = (aws, trusted_accounts);
        Err(
            "this keibi was built without AWS (the `aws` feature): respond.aws cannot be enabled"
                .into(),
        )
    }
}

/// What remote inputs (`s3://…`) are read with.
#[derive(Debug, Clone, Default)]
pub struct AwsInputs {
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
    pub profile: Option<String>,
    /// A role to assume and read the inputs with (`--role-arn`).
    pub role_arn: Option<String>,
    pub external_id: Option<String>,
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    pub until: Option<chrono::DateTime<chrono::Utc>>,
}

/// Whether an input argument names a remote input (a URL with a scheme keibi reads
/// through AWS) rather than a path.
pub fn is_remote(arg: &str) -> bool {
    arg.starts_with("s3://")
        || arg.starts_with("cloudwatch://")
        || arg.starts_with("rds://")
        || arg.starts_with("cloudtrail-history://")
}

/// Remote inputs, and the URLs that could not be listed with why.
pub type RemoteInputs = (Vec<keibi_ingest::Input>, Vec<(String, String)>);

/// The inputs `urls` name, each object an input whose bytes are fetched when it is
/// opened; a URL that cannot be listed is an error beside the others.
pub fn remote_inputs(urls: &[String], opts: &AwsInputs) -> anyhow::Result<RemoteInputs> {
    if urls.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    #[cfg(feature = "aws")]
    {
        use keibi_aws::s3;
        use std::sync::Arc;
        let aws = s3::S3Options {
            region: opts.region.clone(),
            endpoint_url: opts.endpoint_url.clone(),
            profile: opts.profile.clone(),
            timeout: std::time::Duration::from_secs(60),
            role_arn: opts.role_arn.clone(),
            external_id: opts.external_id.clone(),
        };
        let mut inputs = Vec::new();
        let mut errors = Vec::new();
        let (histories, urls): (Vec<&String>, Vec<&String>) = urls
            .iter()
            .partition(|u| u.starts_with("cloudtrail-history://"));
        if !histories.is_empty() {
            history_inputs(&histories, &aws, opts, &mut inputs, &mut errors)?;
        }
        let (instances, urls): (Vec<&String>, Vec<&String>) =
            urls.into_iter().partition(|u| u.starts_with("rds://"));
        if !instances.is_empty() {
            rds_inputs(&instances, &aws, opts, &mut inputs, &mut errors)?;
        }
        let (groups, buckets): (Vec<&String>, Vec<&String>) = urls
            .into_iter()
            .partition(|u| u.starts_with("cloudwatch://"));
        if !groups.is_empty() {
            log_group_inputs(&groups, &aws, opts, &mut inputs, &mut errors)?;
        }
        if buckets.is_empty() {
            return Ok((inputs, errors));
        }
        use std::sync::atomic::{AtomicUsize, Ordering};
        /// Object bytes kept between an input's two openings, at most.
        const KEPT_BYTES: usize = 256 << 20;
        let budget = Arc::new(AtomicUsize::new(0));
        let reader = Arc::new(s3::S3Reader::new(&aws)?);
        for url in buckets {
            let parsed = match s3::parse_url(url) {
                Ok(u) => u,
                Err(e) => {
                    errors.push((url.clone(), e.to_string()));
                    continue;
                }
            };
            let objects = match keibi_aws::usage::in_source(url, || {
                reader.objects(&parsed, opts.since.map(|t| t.date_naive()))
            }) {
                Ok(o) => o,
                Err(e) => {
                    errors.push((url.clone(), e.to_string()));
                    continue;
                }
            };
            let source: Arc<str> = Arc::from(url.as_str());
            for o in objects {
                let reader = reader.clone();
                let source = source.clone();
                let bucket = parsed.bucket.clone();
                let key = o.key.clone();
                let kept: std::sync::Mutex<Option<Arc<Vec<u8>>>> = std::sync::Mutex::new(None);
                let budget = budget.clone();
                inputs.push(keibi_ingest::Input::Remote(Arc::new(
                    keibi_ingest::Remote {
                        display: Arc::from(format!("s3://{}/{}", parsed.bucket, o.key).as_str()),
                        instance: None,
                        size: Some(o.size),
                        open: Box::new(move || {
                            // The merge opens an input for its first timestamp and,
                            // with many inputs, again when it reaches it: the bytes
                            // are kept between the two (within KEPT_BYTES in all),
                            // so each object is fetched once.
                            let held = kept.lock().ok().and_then(|mut k| k.take());
                            let bytes = match held {
                                Some(b) => {
                                    budget.fetch_sub(b.len(), Ordering::Relaxed);
                                    b
                                }
                                None => {
                                    let b = Arc::new(
                                        keibi_aws::usage::in_source(&source, || {
                                            reader.get(&bucket, &key)
                                        })
                                        .map_err(|e| std::io::Error::other(e.to_string()))?,
                                    );
                                    let n = b.len();
                                    if budget.fetch_add(n, Ordering::Relaxed) + n <= KEPT_BYTES {
                                        if let Ok(mut k) = kept.lock() {
                                            *k = Some(b.clone());
                                        }
                                    } else {
                                        budget.fetch_sub(n, Ordering::Relaxed);
                                    }
                                    b
                                }
                            };
                            Ok(Box::new(std::io::Cursor::new(Shared(bytes)))
                                as Box<dyn std::io::Read + Send>)
                        }),
                    },
                )));
            }
        }
        Ok((inputs, errors))
    }
    #[cfg(not(feature = "aws"))]
    {
        let _ = opts;
        anyhow::bail!(
            "this keibi was built without AWS (the `aws` feature): it cannot read s3://, cloudwatch://, rds:// or cloudtrail-history:// inputs"
        )
    }
}

/// Each log stream of each `cloudwatch://<log-group>` an input of its messages,
/// read once (between --since and --until) and kept for the merge's openings.
#[cfg(feature = "aws")]
fn log_group_inputs(
    groups: &[&String],
    aws: &keibi_aws::s3::S3Options,
    opts: &AwsInputs,
    inputs: &mut Vec<keibi_ingest::Input>,
    errors: &mut Vec<(String, String)>,
) -> anyhow::Result<()> {
    use keibi_aws::logs;
    use std::sync::Arc;
    let reader = logs::LogsReader::new(aws)?;
    for url in groups {
        let group = match logs::parse_url(url) {
            Ok(g) => g,
            Err(e) => {
                errors.push((url.to_string(), e.to_string()));
                continue;
            }
        };
        let streams = match keibi_aws::usage::in_source(url, || {
            reader.read(
                &group,
                opts.since.map(|t| t.timestamp_millis()),
                opts.until.map(|t| t.timestamp_millis()),
            )
        }) {
            Ok(s) => s,
            Err(e) => {
                errors.push((url.to_string(), e.to_string()));
                continue;
            }
        };
        let instance = logs::instance_of(&group);
        for s in streams {
            let text = Arc::new(s.text);
            let size = text.len() as u64;
            inputs.push(keibi_ingest::Input::Remote(Arc::new(
                keibi_ingest::Remote {
                    display: Arc::from(format!("cloudwatch://{group}:{}", s.name).as_str()),
                    instance: instance.clone(),
                    size: Some(size),
                    open: Box::new(move || {
                        Ok(Box::new(std::io::Cursor::new(Shared(text.clone())))
                            as Box<dyn std::io::Read + Send>)
                    }),
                },
            )));
        }
    }
    Ok(())
}

/// Each log file of each `rds://<instance>[/<prefix>]` written since --since an
/// input of its text, downloaded once (portion after portion) and kept for the
/// merge's openings, named `rds://<instance>/<LogFileName>`.
#[cfg(feature = "aws")]
fn rds_inputs(
    urls: &[&String],
    aws: &keibi_aws::s3::S3Options,
    opts: &AwsInputs,
    inputs: &mut Vec<keibi_ingest::Input>,
    errors: &mut Vec<(String, String)>,
) -> anyhow::Result<()> {
    use keibi_aws::rdslogs;
    use std::sync::Arc;
    let mut reader = rdslogs::RdsLogsReader::new(aws)?;
    let mut left = rdslogs::MAX_BYTES;
    for url in urls {
        let parsed = match rdslogs::parse_url(url) {
            Ok(u) => u,
            Err(e) => {
                errors.push((url.to_string(), e.to_string()));
                continue;
            }
        };
        let files = match keibi_aws::usage::in_source(url, || {
            reader.files(&parsed, opts.since.map(|t| t.timestamp_millis()))
        }) {
            Ok(f) => f,
            Err(e) => {
                errors.push((url.to_string(), e.to_string()));
                continue;
            }
        };
        for f in files {
            let display = format!("rds://{}/{}", parsed.instance, f.name);
            let text = match keibi_aws::usage::in_source(url, || {
                reader.read_file(&parsed.instance, &f.name, left)
            }) {
                Ok(t) => Arc::new(t),
                Err(e) => {
                    errors.push((display, e.to_string()));
                    continue;
                }
            };
            left = left.saturating_sub(text.len());
            let size = text.len() as u64;
            inputs.push(keibi_ingest::Input::Remote(Arc::new(
                keibi_ingest::Remote {
                    display: Arc::from(display.as_str()),
                    instance: Some(parsed.instance.clone()),
                    size: Some(size),
                    open: Box::new(move || {
                        Ok(Box::new(std::io::Cursor::new(Shared(text.clone())))
                            as Box<dyn std::io::Read + Send>)
                    }),
                },
            )));
        }
    }
    Ok(())
}

/// Each `cloudtrail-history://<region>` an input of its event history's records
/// (between --since and --until, oldest first, one JSON record a line), read once.
#[cfg(feature = "aws")]
fn history_inputs(
    urls: &[&String],
    aws: &keibi_aws::s3::S3Options,
    opts: &AwsInputs,
    inputs: &mut Vec<keibi_ingest::Input>,
    errors: &mut Vec<(String, String)>,
) -> anyhow::Result<()> {
    use keibi_aws::lookup;
    use std::sync::Arc;
    let mut reader = lookup::HistoryReader::new(aws)?;
    for url in urls {
        let parsed = match lookup::parse_url(url) {
            Ok(u) => u,
            Err(e) => {
                errors.push((url.to_string(), e.to_string()));
                continue;
            }
        };
        let events = match keibi_aws::usage::in_source(url, || {
            reader.events(
                &parsed,
                opts.since.map(|t| t.timestamp_millis()),
                opts.until.map(|t| t.timestamp_millis()),
            )
        }) {
            Ok(s) => s,
            Err(e) => {
                errors.push((url.to_string(), e.to_string()));
                continue;
            }
        };
        let mut text = Vec::new();
        for e in events {
            text.extend_from_slice(e.record.as_bytes());
            text.push(b'\n');
        }
        let text = Arc::new(text);
        let size = text.len() as u64;
        inputs.push(keibi_ingest::Input::Remote(Arc::new(
            keibi_ingest::Remote {
                display: Arc::from(parsed.to_string().as_str()),
                instance: None,
                size: Some(size),
                open: Box::new(move || {
                    Ok(Box::new(std::io::Cursor::new(Shared(text.clone())))
                        as Box<dyn std::io::Read + Send>)
                }),
            },
        )));
    }
    Ok(())
}

/// Bytes read once, opened as often as the merge needs.
#[cfg(feature = "aws")]
struct Shared(std::sync::Arc<Vec<u8>>);

#[cfg(feature = "aws")]
impl AsRef<[u8]> for Shared {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// The hook `keibi run` makes its `url` sources with (`s3://bucket/prefix`): an
/// object source polling the bucket every `list_interval` (60 s by default), each
/// CloudTrail region folder resumed after the last object of its stored checkpoint.
///
/// Every AWS call the source makes (its polls, the commits that acknowledge SQS
/// messages, the SQS thread's long polls) is counted under its URL in
/// [`keibi_aws::usage`] as well, for `/metrics`' `source` label.
pub fn remote_source(
    s: &keibi_engine::settings::Source,
    ingest: keibi_ingest::IngestOptions,
    resume: &[keibi_ingest::Checkpoint],
) -> Result<Box<dyn keibi_ingest::LiveSource>, String> {
    #[cfg(feature = "aws")]
    {
        let name = s.url.clone().unwrap_or_default();
        let inner = keibi_aws::usage::in_source(&name, || remote_source_of(s, ingest, resume))?;
        Ok(Box::new(Sourced { inner, name }))
    }
    #[cfg(not(feature = "aws"))]
    {
        remote_source_of(s, ingest, resume)
    }
}

/// A live source whose AWS calls are counted under its name.
#[cfg(feature = "aws")]
struct Sourced {
    inner: Box<dyn keibi_ingest::LiveSource>,
    name: String,
}

#[cfg(feature = "aws")]
impl keibi_ingest::LiveSource for Sourced {
    fn poll(&mut self, now: std::time::Instant) -> keibi_ingest::Poll {
        let inner = &mut self.inner;
        keibi_aws::usage::in_source(&self.name, || inner.poll(now))
    }

    fn committed(&mut self, checkpoints: &[keibi_ingest::Checkpoint]) {
        let inner = &mut self.inner;
        keibi_aws::usage::in_source(&self.name, || inner.committed(checkpoints))
    }
}

fn remote_source_of(
    s: &keibi_engine::settings::Source,
    ingest: keibi_ingest::IngestOptions,
    resume: &[keibi_ingest::Checkpoint],
) -> Result<Box<dyn keibi_ingest::LiveSource>, String> {
    #[cfg(feature = "aws")]
    {
        use keibi_aws::s3;
        let url = s.url.as_deref().ok_or("no url")?;
        let aws = s3::S3Options {
            region: s.region.clone(),
            endpoint_url: s.endpoint_url.clone(),
            profile: s.profile.clone(),
            timeout: std::time::Duration::from_secs(60),
            role_arn: s.role_arn.clone(),
            external_id: s.external_id.clone(),
        };
        let every = s
            .list_interval
            .map(|d| d.std())
            .unwrap_or(std::time::Duration::from_secs(60));
        if url.starts_with("cloudtrail-history://") {
            let parsed = keibi_aws::lookup::parse_url(url).map_err(|e| e.to_string())?;
            let reader = keibi_aws::lookup::HistoryReader::new(&aws).map_err(|e| e.to_string())?;
            // Event history lags the calls by minutes: every 5 minutes by default.
            let every = s
                .list_interval
                .map(|d| d.std())
                .unwrap_or(std::time::Duration::from_secs(300));
            return Ok(Box::new(keibi_ingest::StreamSource::new(
                url,
                Box::new(History {
                    reader,
                    url: parsed,
                    cursor: None,
                    window: HISTORY_FIRST_WINDOW,
                    more: false,
                }),
                ingest,
                every,
                resume,
            )));
        }
        if url.starts_with("rds://") {
            let parsed = keibi_aws::rdslogs::parse_url(url).map_err(|e| e.to_string())?;
            let reader = keibi_aws::rdslogs::RdsLogsReader::new(&aws).map_err(|e| e.to_string())?;
            return Ok(Box::new(keibi_ingest::LogFileSource::new(
                url,
                Box::new(RdsFiles {
                    reader,
                    url: parsed,
                }),
                ingest,
                every,
                resume,
            )));
        }
        if url.starts_with("cloudwatch://") {
            let group = keibi_aws::logs::parse_url(url).map_err(|e| e.to_string())?;
            let reader = keibi_aws::logs::LogsReader::new(&aws).map_err(|e| e.to_string())?;
            return Ok(Box::new(keibi_ingest::StreamSource::new(
                url,
                Box::new(LogGroup { reader, group }),
                ingest,
                every,
                resume,
            )));
        }
        if s.sqs.is_some() && !url.starts_with("s3://") {
            return Err("sqs is for s3:// urls only (their bucket's event notifications)".into());
        }
        let parsed = s3::parse_url(url).map_err(|e| e.to_string())?;
        let reader = s3::S3Reader::new(&aws).map_err(|e| e.to_string())?;
        // With a queue, the listing is only the safety net: every 10 minutes.
        let every = match (&s.sqs, s.list_interval) {
            (Some(_), None) => std::time::Duration::from_secs(600),
            _ => every,
        };
        let notes = match &s.sqs {
            Some(q) => Some(SqsNotes::start(&aws, q, &parsed, url)?),
            None => None,
        };
        let source = keibi_ingest::ObjectSource::new(
            url,
            Box::new(S3Objects {
                reader,
                url: parsed,
            }),
            ingest,
            every,
            resume,
        );
        Ok(Box::new(match notes {
            Some(n) => source.with_notifications(Box::new(n)),
            None => source,
        }))
    }
    #[cfg(not(feature = "aws"))]
    {
        let _ = (s, ingest, resume);
        Err(
            "this keibi was built without AWS (the `aws` feature): it cannot read s3://, cloudwatch://, rds:// or cloudtrail-history:// sources"
                .into(),
        )
    }
}

#[cfg(feature = "aws")]
struct LogGroup {
    reader: keibi_aws::logs::LogsReader,
    group: String,
}

#[cfg(feature = "aws")]
impl keibi_ingest::LogEvents for LogGroup {
    fn fetch(&mut self, start: Option<i64>) -> Result<Vec<keibi_ingest::LogEvent>, String> {
        self.reader
            .events(&self.group, start, None)
            .map(|v| {
                v.into_iter()
                    .map(|e| keibi_ingest::LogEvent {
                        stream: e.stream,
                        timestamp: e.timestamp,
                        id: e.id,
                        message: e.message,
                    })
                    .collect()
            })
            .map_err(|e| e.to_string())
    }

    fn display(&self, stream: &str) -> String {
        if stream.is_empty() {
            format!("cloudwatch://{}", self.group)
        } else {
            format!("cloudwatch://{}:{stream}", self.group)
        }
    }

    fn instance(&self) -> Option<String> {
        keibi_aws::logs::instance_of(&self.group)
    }
}

#[cfg(feature = "aws")]
struct RdsFiles {
    reader: keibi_aws::rdslogs::RdsLogsReader,
    url: keibi_aws::rdslogs::RdsUrl,
}

#[cfg(feature = "aws")]
impl keibi_ingest::LogFiles for RdsFiles {
    fn list(&mut self) -> Result<Vec<keibi_ingest::ListedFile>, String> {
        self.reader
            .files(&self.url, None)
            .map(|v| {
                v.into_iter()
                    .map(|f| keibi_ingest::ListedFile {
                        name: f.name,
                        last_written: f.last_written,
                        size: f.size,
                    })
                    .collect()
            })
            .map_err(|e| e.to_string())
    }

    fn portion(&mut self, file: &str, marker: &str) -> Result<keibi_ingest::FilePortion, String> {
        self.reader
            .portion(&self.url.instance, file, marker)
            .map(|p| keibi_ingest::FilePortion {
                data: p.data,
                marker: p.marker,
                pending: p.pending,
            })
            .map_err(|e| e.to_string())
    }

    fn display(&self, file: &str) -> String {
        if file.is_empty() {
            self.url.to_string()
        } else {
            format!("rds://{}/{file}", self.url.instance)
        }
    }

    fn instance(&self) -> Option<String> {
        Some(self.url.instance.clone())
    }
}

/// A region's event history as one stream (named after the region) of CloudTrail
/// records, for [`keibi_ingest::StreamSource`]: its checkpoint is the last event's
/// time with the event ids handed out at that time.
///
/// The history answers newest first, so a read must page through all of its time
/// range before it has the oldest event: it is read in time windows (each whole),
/// sized to hold a few thousand events (doubled when one holds few, halved when
/// one holds many), at most [`HISTORY_CALLS`] calls a fetch, so memory and the
/// time one poll blocks the daemon stay bounded; the source is polled again at
/// once until it reaches the present.
#[cfg(feature = "aws")]
struct History {
    reader: keibi_aws::lookup::HistoryReader,
    url: keibi_aws::lookup::HistoryUrl,
    /// While catching up, where the windows read so far end (ms): every event
    /// before it was handed out. Cleared once a fetch reaches the present.
    cursor: Option<i64>,
    /// The next window's length (ms).
    window: i64,
    /// The last fetch stopped before the settled present.
    more: bool,
}

/// How far behind the present a followed event history is read: events reach the
/// history 5 to 15 minutes after their call, not in their time order, so an event
/// is handed out only once the history has had this long to hold everything before
/// it (a later-delivered earlier event would otherwise fall behind the checkpoint).
#[cfg(feature = "aws")]
pub const HISTORY_SETTLE: std::time::Duration = std::time::Duration::from_secs(15 * 60);
/// How far back the event history goes (a first run reads from there).
#[cfg(feature = "aws")]
const HISTORY_DAYS: i64 = 90;
/// The first window of a fetch (ms): an hour.
#[cfg(feature = "aws")]
const HISTORY_FIRST_WINDOW: i64 = 3_600_000;
/// Calls one fetch starts windows within (each 50 events; 2 a second).
#[cfg(feature = "aws")]
const HISTORY_CALLS: usize = 40;

#[cfg(feature = "aws")]
impl keibi_ingest::LogEvents for History {
    fn fetch(&mut self, start: Option<i64>) -> Result<Vec<keibi_ingest::LogEvent>, String> {
        let now = chrono::Utc::now().timestamp_millis();
        let end = (now - HISTORY_SETTLE.as_millis() as i64).div_euclid(1000) * 1000;
        let oldest = now - HISTORY_DAYS * 86_400_000;
        // From the checkpoint's second (the stream source drops what its ids
        // cover), or past what this process already read.
        let mut lo = start
            .map(|s| s.div_euclid(1000) * 1000)
            .max(self.cursor)
            .unwrap_or(oldest)
            .max(oldest.div_euclid(1000) * 1000);
        let calls = self.reader.calls;
        let mut out = Vec::new();
        self.more = false;
        while lo < end {
            if self.reader.calls - calls >= HISTORY_CALLS {
                self.more = true;
                break;
            }
            let hi = (lo + self.window).min(end);
            // LookupEvents' times are whole seconds, both ends included: the
            // window is [lo, hi), the event at hi is the next window's.
            let got = match self.reader.events(&self.url, Some(lo), Some(hi)) {
                Ok(v) => v,
                // What was read is handed out; the next poll tries again.
                Err(e) if !out.is_empty() => {
                    let _ = e;
                    self.more = true;
                    break;
                }
                Err(e) => return Err(e.to_string()),
            };
            let n = got.len();
            out.extend(
                got.into_iter()
                    .filter(|e| e.timestamp >= lo && e.timestamp < hi)
                    .map(|e| keibi_ingest::LogEvent {
                        stream: self.url.region.clone(),
                        timestamp: e.timestamp,
                        id: e.id,
                        message: e.record,
                    }),
            );
            self.cursor = Some(hi);
            lo = hi;
            self.window = if n < 1_000 {
                (self.window * 2).min(30 * 86_400_000)
            } else if n > 5_000 {
                (self.window / 2).max(60_000)
            } else {
                self.window
            };
        }
        if !self.more {
            // Caught up: the next poll reads again from the checkpoint's second, so
            // an event that reached the history later than HISTORY_SETTLE, with a
            // time after the last one handed out, is still read.
            self.cursor = None;
        }
        Ok(out)
    }

    fn more(&self) -> bool {
        self.more
    }

    fn display(&self, _stream: &str) -> String {
        self.url.to_string()
    }

    fn instance(&self) -> Option<String> {
        None
    }
}

#[cfg(feature = "aws")]
struct S3Objects {
    reader: keibi_aws::s3::S3Reader,
    url: keibi_aws::s3::S3Url,
}

#[cfg(feature = "aws")]
impl keibi_ingest::Objects for S3Objects {
    /// CloudTrail's region folders (one per account and region), each with its own
    /// checkpoint; the whole prefix when it has none.
    fn roots(&mut self) -> Result<Vec<String>, String> {
        match self.reader.year_roots(&self.url) {
            Ok(Some(roots)) => Ok(roots),
            Ok(None) => Ok(vec![self.url.prefix.clone()]),
            Err(e) => Err(e.to_string()),
        }
    }

    fn list(&mut self, root: &str, after: Option<&str>, max: usize) -> Result<Vec<String>, String> {
        self.reader
            .list_first(&self.url.bucket, root, after, max)
            .map(|v| v.into_iter().map(|o| o.key).collect())
            .map_err(|e| e.to_string())
    }

    fn get(&mut self, key: &str) -> Result<Vec<u8>, String> {
        self.reader
            .get(&self.url.bucket, key)
            .map_err(|e| e.to_string())
    }

    fn display(&self, key: &str) -> String {
        if key.is_empty() {
            self.url.to_string()
        } else {
            format!("s3://{}/{key}", self.url.bucket)
        }
    }
}

/// An SQS queue of the bucket's S3 event notifications, long-polled on a thread of
/// its own (the daemon's polls never wait on it): each message is read as
/// [`keibi_aws::sqs::parse_body`] says and handed over through a bounded channel;
/// deletions are made by the daemon's thread once the objects are stored.
#[cfg(feature = "aws")]
struct SqsNotes {
    rx: std::sync::mpsc::Receiver<Result<keibi_ingest::Notified, String>>,
    /// A second client: the receiving thread holds its own through each long poll.
    deleter: keibi_aws::sqs::SqsQueue,
    queue: String,
    /// Set when the source is dropped: the thread ends after its long poll.
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

#[cfg(feature = "aws")]
impl Drop for SqsNotes {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

#[cfg(feature = "aws")]
impl SqsNotes {
    fn start(
        aws: &keibi_aws::s3::S3Options,
        queue: &str,
        url: &keibi_aws::s3::S3Url,
        source: &str,
    ) -> Result<SqsNotes, String> {
        let source = source.to_string();
        use keibi_aws::sqs::SqsQueue;
        let receiver = SqsQueue::new(aws, queue).map_err(|e| e.to_string())?;
        let deleter = SqsQueue::new(aws, queue).map_err(|e| e.to_string())?;
        // Two batches of 10 in flight at most: the queue keeps the rest.
        let (tx, rx) = std::sync::mpsc::sync_channel(20);
        let (bucket, prefix) = (url.bucket.clone(), url.prefix.clone());
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopped = stop.clone();
        std::thread::Builder::new()
            .name("keibi-sqs".into())
            .spawn(move || loop {
                if stopped.load(std::sync::atomic::Ordering::Relaxed) {
                    return;
                }
                match keibi_aws::usage::in_source(&source, || {
                    receiver.receive(keibi_aws::sqs::MAX_WAIT)
                }) {
                    Ok(messages) => {
                        for m in messages {
                            let n = keibi_aws::sqs::parse_body(&m.body, &bucket, &prefix);
                            let mut problems = n.problems;
                            if problems.is_empty() && n.keys.is_empty() && n.ignored == 0 {
                                problems.push("an S3 notification with no records".into());
                            }
                            let out = keibi_ingest::Notified {
                                receipt: m.receipt,
                                keys: n.keys,
                                problems,
                            };
                            if tx.send(Ok(out)).is_err() {
                                return;
                            }
                        }
                    }
                    Err(e) => {
                        if tx.send(Err(e.to_string())).is_err() {
                            return;
                        }
                        // The queue is gone or refused: not hammered.
                        std::thread::sleep(std::time::Duration::from_secs(10));
                    }
                }
            })
            .map_err(|e| format!("cannot start the SQS reader: {e}"))?;
        Ok(SqsNotes {
            rx,
            deleter,
            queue: queue.to_string(),
            stop,
        })
    }
}

#[cfg(feature = "aws")]
impl keibi_ingest::Notifications for SqsNotes {
    fn take(&mut self, max: usize) -> Vec<keibi_ingest::Notified> {
        let mut out = Vec::new();
        while out.len() < max {
            match self.rx.try_recv() {
                Ok(Ok(n)) => out.push(n),
                // A failed receive: a warning with nothing to read or acknowledge.
                Ok(Err(e)) => out.push(keibi_ingest::Notified {
                    receipt: String::new(),
                    keys: Vec::new(),
                    problems: vec![format!("{e}; tried again in 10 s")],
                }),
                Err(_) => break,
            }
        }
        out
    }

    fn delete(&mut self, receipts: &[String]) -> Result<(), String> {
        let receipts: Vec<String> = receipts.iter().filter(|r| !r.is_empty()).cloned().collect();
        if receipts.is_empty() {
            return Ok(());
        }
        let failed = self.deleter.delete(&receipts).map_err(|e| e.to_string())?;
        // A refused receipt is not tried again: the message comes back after its
        // visibility timeout, and its object is then known as read.
        let _ = failed;
        Ok(())
    }

    fn display(&self) -> String {
        self.queue.clone()
    }
}

/// What `inventory` reads: the binary's own copy of the options, so callers need
/// not know whether the AWS edge is compiled in.
#[derive(Debug, Clone, Default)]
pub struct AwsInventory {
    pub regions: Vec<String>,
    pub endpoint_url: Option<String>,
    pub profile: Option<String>,
    pub timeout: std::time::Duration,
    /// A role to assume and read with (one account).
    pub role_arn: Option<String>,
    pub external_id: Option<String>,
    /// Several accounts, each by its own role.
    pub accounts: Vec<AwsAccount>,
}

/// One account of an audit of several (`audit.aws.accounts`).
#[derive(Debug, Clone, Default)]
pub struct AwsAccount {
    pub role_arn: String,
    pub external_id: Option<String>,
    pub regions: Vec<String>,
}

/// Where and how `keibi findings export --to securityhub` sends.
#[derive(Debug, Clone, Default)]
pub struct HubTarget {
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
    pub profile: Option<String>,
    pub timeout: std::time::Duration,
    /// Also set each finding's workflow status (BatchUpdateFindings).
    pub set_workflow: bool,
}

/// What an import into Security Hub did: the account and region, how many findings
/// were taken, each refused one (id, error code, message) and the calls made.
#[derive(Debug, Clone, Default)]
pub struct HubReport {
    pub account: String,
    pub region: String,
    pub imported: usize,
    pub refused: Vec<(String, String, String)>,
    pub calls: usize,
    pub workflow_set: usize,
    pub workflow_refused: Vec<(String, String, String)>,
    pub workflow_calls: usize,
}

/// Imports the ASFF findings `make(account, region)` writes into Security Hub, or
/// says that this keibi was built without AWS.
pub fn securityhub_import(
    target: &HubTarget,
    make: impl FnOnce(&str, &str) -> Vec<serde_json::Value>,
) -> anyhow::Result<HubReport> {
    #[cfg(feature = "aws")]
    {
        let o = keibi_aws::securityhub::ImportOptions {
            region: target.region.clone(),
            endpoint_url: target.endpoint_url.clone(),
            profile: target.profile.clone(),
            timeout: target.timeout,
            set_workflow: target.set_workflow,
        };
        let r = keibi_aws::securityhub::import(&o, make)?;
        let triple = |x: keibi_aws::securityhub::Refused| (x.id, x.code, x.message);
        Ok(HubReport {
            account: r.account,
            region: r.region,
            imported: r.imported,
            refused: r.refused.into_iter().map(triple).collect(),
            calls: r.calls,
            workflow_set: r.workflow_set,
            workflow_refused: r.workflow_refused.into_iter().map(triple).collect(),
            workflow_calls: r.workflow_calls,
        })
    }
    #[cfg(not(feature = "aws"))]
    {
        let _ = (target, make);
        anyhow::bail!("this keibi was built without AWS (the `aws` feature): use --format asff and import the file with the AWS CLI")
    }
}

/// The region whose list prices estimate a run: `region` when given, else
/// `AWS_REGION` / `AWS_DEFAULT_REGION`, else us-east-1.
pub fn pricing_region(region: Option<&str>) -> String {
    region
        .map(str::to_string)
        .or_else(|| std::env::var("AWS_REGION").ok())
        .or_else(|| std::env::var("AWS_DEFAULT_REGION").ok())
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| "us-east-1".to_string())
}

/// `n` bytes as people read them: `512 B`, `3.4 KiB`, `38.2 MiB`, `1.2 GiB`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1024.0;
    let mut unit = UNITS[0];
    for u in &UNITS[1..] {
        if v < 1024.0 {
            break;
        }
        v /= 1024.0;
        unit = u;
    }
    format!("{v:.1} {unit}")
}

/// US dollars with the digits that matter: `0`, `0.0051`, `0.000012`, `3.42`.
pub fn usd(v: f64) -> String {
    if !v.is_finite() || v <= 0.0 {
        "0".to_string()
    } else if v >= 1.0 {
        format!("{v:.2}")
    } else {
        // Two significant digits, at most eight decimals.
        let decimals = (1 - v.log10().floor() as i32).clamp(2, 8) as usize;
        format!("{v:.decimals$}")
    }
}

/// The closing line of a run that called AWS: requests sent (retries included),
/// bytes of the answers, the estimate at `region`'s list prices (see
/// [`pricing_region`]) and the APIs called most; `None` when the run made no call
/// (or this keibi was built without AWS).
pub fn usage_line(region: Option<&str>) -> Option<String> {
    #[cfg(feature = "aws")]
    {
        let lines = keibi_aws::usage::global().snapshot();
        usage_text(&crate::locale::current(), &lines, &pricing_region(region))
    }
    #[cfg(not(feature = "aws"))]
    {
        let _ = region;
        None
    }
}

/// [`usage_line`] of `lines` in `locale`, priced at `region` (us-east-1's prices
/// for a region the table does not have, and the line says so).
#[cfg(feature = "aws")]
pub fn usage_text(
    locale: &keibi_i18n::Locale,
    lines: &[keibi_aws::usage::Line],
    region: &str,
) -> Option<String> {
    use keibi_aws::usage;
    use keibi_i18n::Msg;
    if lines.is_empty() {
        return None;
    }
    let region = if usage::PRICED_REGIONS.contains(&region) {
        region
    } else {
        "us-east-1"
    };
    let estimate = usage::estimate(lines, region);
    let mut by_calls: Vec<&usage::Cost> = estimate.costs.iter().collect();
    by_calls.sort_by_key(|c| std::cmp::Reverse(c.counts.requests));
    let mut apis: Vec<String> = by_calls
        .iter()
        .take(4)
        .map(|c| {
            locale.render(
                &Msg::new("aws-usage-api")
                    .arg("service", c.service.as_str())
                    .arg("api", c.api.as_str())
                    .arg("n", c.counts.requests),
            )
        })
        .collect();
    if by_calls.len() > 4 {
        apis.push(locale.render(&Msg::new("aws-usage-more").arg("n", by_calls.len() - 4)));
    }
    let errors: u64 = estimate.costs.iter().map(|c| c.counts.errors).sum();
    Some(
        locale.render(
            &Msg::new("aws-usage")
                .arg("requests", estimate.requests())
                .arg("size", human_bytes(estimate.bytes()))
                .arg("usd", usd(estimate.total_usd()))
                .arg("region", region)
                .arg("errors", errors)
                .arg("apis", apis.join(&locale.text("list-sep"))),
        ),
    )
}

/// The hook `/metrics` reads the process's AWS calls through (`None` without the
/// `aws` feature): every client counts into [`keibi_aws::usage::global`], priced
/// at the region of `AWS_REGION` / `AWS_DEFAULT_REGION` (us-east-1's prices when
/// the table does not have it).
pub fn metrics_hook() -> Option<keibi_engine::metrics::AwsUsage> {
    #[cfg(feature = "aws")]
    {
        use keibi_aws::usage;
        use keibi_engine::metrics::{AwsCalls, AwsUsage};
        let region = pricing_region(None);
        let region = if usage::PRICED_REGIONS.contains(&region.as_str()) {
            region
        } else {
            "us-east-1".to_string()
        };
        Some(AwsUsage(std::sync::Arc::new(move || {
            let mut out = Vec::new();
            for (source, lines) in usage::global().per_source() {
                out.extend(
                    usage::estimate(&lines, &region)
                        .costs
                        .into_iter()
                        .map(|c| AwsCalls {
                            source: source.clone(),
                            estimated_usd: c.usd(),
                            service: c.service,
                            api: c.api,
                            requests: c.counts.requests,
                            bytes: c.counts.bytes,
                            errors: c.counts.errors,
                        }),
                );
            }
            out
        })))
    }
    #[cfg(not(feature = "aws"))]
    {
        None
    }
}

/// Prints [`usage_line`] on stderr, then [`source_lines`] when the run read a
/// source, unless the run made no AWS call or `--quiet`.
pub fn say_usage(region: Option<&str>, quiet: bool) {
    if quiet {
        return;
    }
    if let Some(line) = usage_line(region) {
        eprintln!("{line}");
        #[cfg(feature = "aws")]
        for line in source_lines(
            &crate::locale::current(),
            &keibi_aws::usage::global().per_source(),
            &pricing_region(region),
        ) {
            eprintln!("{line}");
        }
    }
}

/// One line per source of the run (`keibi: AWS s3://bucket/: 12 requests, …`),
/// the calls made outside any source last, priced as [`usage_text`] prices them;
/// their requests, bytes and dollars add up to its line. None when no call was
/// made for a source (an audit, an export).
#[cfg(feature = "aws")]
pub fn source_lines(
    locale: &keibi_i18n::Locale,
    per_source: &[(String, Vec<keibi_aws::usage::Line>)],
    region: &str,
) -> Vec<String> {
    use keibi_aws::usage;
    use keibi_i18n::Msg;
    if per_source.iter().all(|(s, _)| s == usage::NO_SOURCE) {
        return Vec::new();
    }
    let region = if usage::PRICED_REGIONS.contains(&region) {
        region
    } else {
        "us-east-1"
    };
    let mut ordered: Vec<&(String, Vec<usage::Line>)> = per_source
        .iter()
        .filter(|(s, _)| s != usage::NO_SOURCE)
        .collect();
    ordered.extend(per_source.iter().filter(|(s, _)| s == usage::NO_SOURCE));
    ordered
        .into_iter()
        .map(|(source, lines)| {
            let e = usage::estimate(lines, region);
            let errors: u64 = e.costs.iter().map(|c| c.counts.errors).sum();
            let name = if source == usage::NO_SOURCE {
                locale.text("aws-usage-no-source")
            } else {
                crate::output::sanitize::terminal(source).into_owned()
            };
            locale.render(
                &Msg::new("aws-usage-source")
                    .arg("source", name)
                    .arg("requests", e.requests())
                    .arg("size", human_bytes(e.bytes()))
                    .arg("usd", usd(e.total_usd()))
                    .arg("errors", errors),
            )
        })
        .collect()
}

/// Where and what `keibi findings import --from guardduty` reads.
#[derive(Debug, Clone)]
pub struct GuardDutySource {
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
    pub profile: Option<String>,
    pub timeout: std::time::Duration,
    pub since: chrono::DateTime<chrono::Utc>,
}

/// GuardDuty's findings read and mapped: each with the detector it came from.
#[derive(Debug, Clone, Default)]
pub struct GuardDutyRead {
    pub region: String,
    pub detectors: usize,
    pub findings: Vec<(String, keibi_model::Finding)>,
    /// Answered but not RDS or IAM findings, or unreadable.
    pub skipped: usize,
    /// More matched than keibi reads at once.
    pub truncated: bool,
    pub calls: usize,
}

/// Reads the region's GuardDuty RDS and IAM findings as keibi findings, or says that
/// this keibi was built without AWS.
pub fn guardduty_read(src: &GuardDutySource) -> anyhow::Result<GuardDutyRead> {
    #[cfg(feature = "aws")]
    {
        use keibi_aws::guardduty;
        let r = guardduty::read(&guardduty::ReadOptions {
            region: src.region.clone(),
            endpoint_url: src.endpoint_url.clone(),
            profile: src.profile.clone(),
            timeout: src.timeout,
            since: src.since,
        })?;
        let mut out = GuardDutyRead {
            region: r.region,
            detectors: r.detectors.len(),
            skipped: r.skipped,
            truncated: r.truncated,
            calls: r.calls,
            findings: Vec::new(),
        };
        for (detector, v) in &r.findings {
            match guardduty::to_finding(detector, v) {
                Some(f) => out.findings.push((detector.clone(), f)),
                None => out.skipped += 1,
            }
        }
        Ok(out)
    }
    #[cfg(not(feature = "aws"))]
    {
        let _ = src;
        anyhow::bail!("this keibi was built without AWS (the `aws` feature)")
    }
}

/// Links GuardDuty's findings and keibi's that saw the same activity (see
/// `keibi_aws::guardduty::join`): the indices linked.
pub fn guardduty_join(
    gd: &mut [(String, keibi_model::Finding)],
    keibi: &mut [keibi_model::Finding],
) -> Vec<(usize, usize)> {
    #[cfg(feature = "aws")]
    {
        keibi_aws::guardduty::join(gd, keibi)
    }
    #[cfg(not(feature = "aws"))]
    {
        let _ = (gd, keibi);
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use keibi_notify::channels::{build, ChannelKind, ChannelSpec, SnsSpec};
    use keibi_notify::text::Style;

    #[test]
    fn sizes_and_dollars_read_well() {
        assert_eq!(super::human_bytes(512), "512 B");
        assert_eq!(super::human_bytes(40_055_603), "38.2 MiB");
        assert_eq!(super::human_bytes(3 << 30), "3.0 GiB");
        assert_eq!(super::usd(0.0), "0");
        assert_eq!(super::usd(0.00512), "0.0051");
        assert_eq!(super::usd(0.000012), "0.000012");
        assert_eq!(super::usd(0.5), "0.50");
        assert_eq!(super::usd(3.417), "3.42");
        assert_eq!(super::usd(f64::NAN), "0");
        assert_eq!(
            super::pricing_region(Some("ap-northeast-1")),
            "ap-northeast-1"
        );
    }

    #[cfg(feature = "aws")]
    #[test]
    fn one_line_per_source_adding_up_to_the_total() {
        use keibi_aws::usage::{in_source, Usage};
        use keibi_i18n::{Lang, Locale};
        let u = Usage::default();
        in_source("s3://a/\u{1b}[2J", || {
            u.record("s3", "GetObject", 1_000_000, false, 0);
            u.record("s3", "ListObjectsV2", 2_000, true, 0);
        });
        in_source("cloudwatch:///aws/rds/instance/db/postgresql", || {
            u.record("logs", "FilterLogEvents", 30_000, false, 0)
        });
        u.record("sts", "AssumeRole", 500, false, 0);
        let en = super::source_lines(&Locale::english_utc(), &u.per_source(), "us-east-1");
        assert_eq!(en.len(), 3, "{en:?}");
        assert!(
            en[0].starts_with("keibi: AWS cloudwatch:///aws/rds/instance/db/postgresql: 1 request"),
            "{en:?}"
        );
        assert!(en[1].starts_with("keibi: AWS s3://a/"), "{en:?}");
        assert!(
            en[1].contains("2 requests") && en[1].contains("1 failed"),
            "{en:?}"
        );
        assert!(!en[1].contains('\u{1b}'), "{en:?}");
        assert!(
            en[2].starts_with("keibi: AWS other calls: 1 request"),
            "{en:?}"
        );
        let ja = Locale::new(Lang::Ja, keibi_i18n::DisplayZone::utc());
        let ja = super::source_lines(&ja, &u.per_source(), "us-east-1");
        assert!(
            ja[1].contains("リクエスト 2件") && ja[1].contains("失敗 1件"),
            "{ja:?}"
        );
        // Calls made outside any source (an export): no per-source lines.
        let v = Usage::default();
        v.record("sts", "GetCallerIdentity", 10, false, 0);
        assert!(
            super::source_lines(&Locale::english_utc(), &v.per_source(), "us-east-1").is_empty()
        );
    }

    #[test]
    fn the_usage_line_in_both_languages() {
        use keibi_aws::usage::Usage;
        use keibi_i18n::{DisplayZone, Lang, Locale};
        let u = Usage::default();
        for _ in 0..1180 {
            u.record("s3", "GetObject", 33_000, false, 0);
        }
        for _ in 0..24 {
            u.record("s3", "ListObjectsV2", 2_000, false, 0);
        }
        u.record("logs", "FilterLogEvents", 10, true, 0);
        let lines = u.snapshot();
        let en = super::usage_text(&Locale::english_utc(), &lines, "us-east-1").unwrap();
        assert_eq!(
            en,
            "keibi: AWS: 1,205 requests, 37.2 MiB, ≈ $0.0041 at us-east-1 list prices, 1 failed \
             (s3 GetObject 1,180, s3 ListObjectsV2 24, logs FilterLogEvents 1)"
        );
        let ja = Locale::new(Lang::Ja, DisplayZone::utc());
        let text = super::usage_text(&ja, &lines, "eu-west-1").unwrap();
        assert_eq!(
            text,
            "keibi: AWS: リクエスト 1,205件、37.2 MiB、us-east-1 の料金表で約 $0.0041、うち失敗 1件\
             （s3 GetObject 1,180件、s3 ListObjectsV2 24件、logs FilterLogEvents 1件）"
        );
        assert_eq!(super::usage_text(&ja, &[], "us-east-1"), None);
    }

    #[test]
    fn sns_channels_build_only_with_the_aws_feature() {
        let spec = ChannelSpec {
            name: "ops-sns".into(),
            lang: None,
            rate_limit: 30,
            kind: ChannelKind::Sns(SnsSpec {
                topic_arn: "arn:aws:sns:ap-northeast-1:123456789012:keibi".into(),
                region: None,
                endpoint_url: Some("http://127.0.0.1:9".into()),
            }),
        };
        let built = build(&spec, &Style::default(), super::sns());
        if cfg!(feature = "aws") {
            assert!(built.is_ok());
        } else {
            let e = built.err().expect("refused").to_string();
            assert!(e.contains("`aws` feature"), "{e}");
        }
    }
}
