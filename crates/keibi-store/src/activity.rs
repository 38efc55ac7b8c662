//! The timeline's data: what actors (addresses, database users, IAM principals)
//! did, across database logs and CloudTrail, kept in the store by `keibi run`, and
//! the query that reads it back with the findings of the same actors
//! ([`Store::timeline`]). `keibi timeline` and the dashboard both read it through
//! this module; `docs/timeline.md` is the user's view.
//!
//! # What is kept
//!
//! One [`Activity`] row per event of these kinds: logins (ok, failed), probes,
//! disconnects, statements, errors that name an actor, and CloudTrail API calls
//! (their principal ARN is the row's `principal`, not its `user`). Events without
//! an address or a user (a checkpoint, a server start) are not kept.
//!
//! Repeats are **folded**: events of the same kind, resource, address, user,
//! principal, statement fingerprint (literals and spacing left out) or API event
//! name and error code within the same clock minute are one row with a count and
//! the earliest and latest time. An application pool running the same query
//! 10,000 times a minute is one row a minute, not 10,000. The row keeps the first
//! event's texts. The fold key is a 64-bit hash (`fold`, unique in the table): the
//! same minute's rows of later commits are added to the stored one.
//!
//! # Bounds
//!
//! Every text is cut at a char boundary, a statement at [`STATEMENT_MAX`] bytes and
//! any other text at [`TEXT_MAX`], marked with `…` and [`Activity::truncated`]; a
//! statement is fingerprinted on its first [`FINGERPRINT_MAX`] bytes. A commit
//! keeps at most [`COMMIT_MAX_ROWS`] rows ([`ActivityBatch::with_cap`]): the events
//! that would have made more are counted per day in `activity_dropped`, and the
//! timeline of a window says how many were dropped there. Retention deletes rows
//! older than the setting by both event and storing time, and the oldest rows
//! beyond a total cap ([`Store::expire_activity`]).
//!
//! # Exactly once
//!
//! The rows go in the [`crate::Commit`] of the batch the events came from, with
//! its checkpoints: a replayed commit writes no activity (its rows were written
//! the first time), and a crash before the commit loses nothing the checkpoints
//! do not read again.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::net::IpAddr;

use crate::sql::{params, Conn as Connection};
use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use keibi_model::{Action, Event, Severity, SourceKind};
use serde::{Serialize, Serializer};

use crate::store::{from_millis, millis, read_finding_opt};
use crate::{Store, StoreError};

/// A statement's stored length, in bytes (then cut and marked).
pub const STATEMENT_MAX: usize = 512;
/// Any other text's stored length, in bytes.
pub const TEXT_MAX: usize = 256;
/// How much of a statement its fingerprint reads, in bytes.
pub const FINGERPRINT_MAX: usize = 4096;
/// Rows one commit keeps at most (after folding).
///
/// `keibi run --once` over a week of an estate's logs commits once at the end:
/// the demo's week makes about 40,000 rows. A row takes a few hundred bytes in
/// memory until the commit.
pub const COMMIT_MAX_ROWS: usize = 50_000;
/// The store's default total of rows ([`Store::expire_activity`]): a row takes
/// about 250 bytes on disk with its indexes, so about 500 MB.
pub const DEFAULT_MAX_ROWS: u64 = 2_000_000;
/// Addresses, users or principals one query may name, each.
pub const QUERY_MAX_ACTORS: usize = 64;
/// Entries one query returns at most.
pub const QUERY_MAX_LIMIT: usize = 100_000;
/// Findings of the query's actors read for their history, at most.
const QUERY_MAX_FINDINGS: usize = 2_000;
/// The longest span of a row (folding is per clock minute).
const FOLD_SPAN_MS: i64 = 60_000;
const DAY_MS: i64 = 86_400_000;

/// What an actor did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ActivityKind {
    LoginOk,
    LoginFailed,
    Probe,
    Disconnect,
    Statement,
    Error,
    ApiCall,
}

impl ActivityKind {
    pub const ALL: [ActivityKind; 7] = [
        ActivityKind::LoginOk,
        ActivityKind::LoginFailed,
        ActivityKind::Probe,
        ActivityKind::Disconnect,
        ActivityKind::Statement,
        ActivityKind::Error,
        ActivityKind::ApiCall,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ActivityKind::LoginOk => "login_ok",
            ActivityKind::LoginFailed => "login_failed",
            ActivityKind::Probe => "probe",
            ActivityKind::Disconnect => "disconnect",
            ActivityKind::Statement => "statement",
            ActivityKind::Error => "error",
            ActivityKind::ApiCall => "api_call",
        }
    }

    fn parse(s: &str) -> Option<ActivityKind> {
        ActivityKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The kind of row an event makes, if any.
    fn of(e: &Event) -> Option<ActivityKind> {
        Some(match e.action {
            Action::LoginSuccess => ActivityKind::LoginOk,
            Action::LoginFailure => ActivityKind::LoginFailed,
            Action::Probe => ActivityKind::Probe,
            Action::Disconnect => ActivityKind::Disconnect,
            Action::Statement => ActivityKind::Statement,
            Action::ApiCall => ActivityKind::ApiCall,
            Action::Other if is_error(e) => ActivityKind::Error,
            Action::Other | Action::ConnectionReceived => return None,
        })
    }
}

fn is_error(e: &Event) -> bool {
    e.error_code.is_some()
        || e.level.as_deref().is_some_and(|l| {
            ["ERROR", "FATAL", "PANIC"]
                .iter()
                .any(|w| l.eq_ignore_ascii_case(w))
        })
}

fn ser_time<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&t.to_rfc3339_opts(SecondsFormat::Millis, true))
}

/// One row of activity: one event, or several folded (see the module
/// documentation). Texts are exactly as the log wrote them (cut when long):
/// attacker-controlled, every output escapes them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Activity {
    /// The row's id in the store (0 for a row not stored: `keibi timeline FILES`).
    #[serde(skip_serializing_if = "is_zero")]
    pub id: i64,
    /// The earliest event folded into the row.
    #[serde(serialize_with = "ser_time")]
    pub first: DateTime<Utc>,
    /// The latest (less than a minute after `first`).
    #[serde(serialize_with = "ser_time")]
    pub last: DateTime<Utc>,
    /// How many events the row stands for.
    pub count: u64,
    pub kind: ActivityKind,
    /// The log format (`postgres_stderr`, `cloudtrail` ...).
    pub source: String,
    /// The database instance, or the AWS resource an API call was aimed at.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip: Option<IpAddr>,
    /// Database user.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// IAM principal ARN (CloudTrail).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub principal: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
    /// `application_name`, the MySQL program, or CloudTrail's user agent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub application: Option<String>,
    /// The statement (the first of the row), the API call (`eventSource:eventName`)
    /// or the message of a failed login or an error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub what: Option<String>,
    /// The statement's command (`SELECT`, `DROP TABLE` ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// SQLSTATE, MySQL error number or CloudTrail `errorCode`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// A text of the row was cut (it ends with `…`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

/// `s` cut to at most `max` bytes at a char boundary, with `…` when cut.
fn cut(s: &str, max: usize, truncated: &mut bool) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    *truncated = true;
    let mut out = String::with_capacity(end + 3);
    out.push_str(&s[..end]);
    out.push('…');
    out
}

fn cut_opt(s: Option<&str>, max: usize, truncated: &mut bool) -> Option<String> {
    s.filter(|s| !s.is_empty()).map(|s| cut(s, max, truncated))
}

/// Feeds a statement's shape to `h`: literals (quoted strings, numbers) as `?`,
/// runs of spacing as one space, ASCII letters lowercased, its first
/// [`FINGERPRINT_MAX`] bytes.
fn fingerprint(sql: &str, h: &mut impl Hasher) {
    let mut end = sql.len().min(FINGERPRINT_MAX);
    while !sql.is_char_boundary(end) {
        end -= 1;
    }
    let mut chars = sql[..end].trim().chars().peekable();
    let mut prev_word = false;
    let mut space = false;
    while let Some(c) = chars.next() {
        if c.is_whitespace() {
            space = true;
            continue;
        }
        if space {
            h.write_u8(b' ');
            space = false;
        }
        if c == '\'' {
            // A string literal ('' inside is a quote).
            loop {
                match chars.next() {
                    None => break,
                    Some('\'') if chars.peek() == Some(&'\'') => {
                        chars.next();
                    }
                    Some('\'') => break,
                    Some(_) => {}
                }
            }
            h.write_u8(b'?');
            prev_word = false;
        } else if c.is_ascii_digit() && !prev_word {
            while chars
                .peek()
                .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '.')
            {
                chars.next();
            }
            h.write_u8(b'?');
            prev_word = false;
        } else {
            let l = c.to_ascii_lowercase();
            h.write_u32(l as u32);
            prev_word = c.is_alphanumeric() || c == '_' || c == '$';
        }
    }
}

/// The AWS resource a CloudTrail call was aimed at: its first `resources` ARN, or
/// a well-known identifier of its request.
fn target(e: &Event) -> Option<&str> {
    let r = e.record.as_deref()?;
    if let Some(arn) = r
        .get("resources")
        .and_then(|v| v.get(0))
        .and_then(|v| v.get("ARN"))
        .and_then(|v| v.as_str())
    {
        return Some(arn);
    }
    let req = r.get("requestParameters")?;
    [
        "dBInstanceIdentifier",
        "dBClusterIdentifier",
        "dBSnapshotIdentifier",
        "dBClusterSnapshotIdentifier",
        "bucketName",
        "roleName",
        "userName",
        "policyArn",
        "secretId",
        "keyId",
        "groupId",
        "trailName",
        "name",
    ]
    .iter()
    .find_map(|k| req.get(*k).and_then(|v| v.as_str()))
}

/// The row an event makes: its kind and fold key, without building the row.
fn fold_key(e: &Event, kind: ActivityKind) -> i64 {
    let mut h = std::hash::DefaultHasher::new();
    e.time
        .timestamp_millis()
        .div_euclid(FOLD_SPAN_MS)
        .hash(&mut h);
    kind.as_str().hash(&mut h);
    let cloudtrail = e.source == SourceKind::Cloudtrail;
    if cloudtrail {
        target(e).or(e.instance.as_deref()).hash(&mut h);
    } else {
        e.instance.as_deref().hash(&mut h);
    }
    e.client_ip.hash(&mut h);
    cloudtrail.hash(&mut h);
    e.user.as_deref().hash(&mut h);
    e.error_code.as_deref().hash(&mut h);
    match kind {
        ActivityKind::Statement => {
            if let Some(st) = e.statement.as_deref() {
                h.write_u8(1);
                fingerprint(&st.text, &mut h);
            }
        }
        ActivityKind::ApiCall => e.message.as_deref().hash(&mut h),
        _ => {}
    }
    // SQLite's INTEGER is signed: the same 64 bits.
    h.finish() as i64
}

impl Activity {
    /// The row an event makes, if it is one the timeline keeps (see the module
    /// documentation); its count is 1.
    pub fn from_event(e: &Event) -> Option<Activity> {
        let kind = ActivityKind::of(e)?;
        if e.client_ip.is_none() && e.user.as_deref().is_none_or(str::is_empty) {
            return None;
        }
        Some(Activity::build(e, kind))
    }

    fn build(e: &Event, kind: ActivityKind) -> Activity {
        let mut truncated = false;
        let t = &mut truncated;
        let cloudtrail = e.source == SourceKind::Cloudtrail;
        let resource = if cloudtrail {
            target(e).or(e.instance.as_deref())
        } else {
            e.instance.as_deref()
        };
        let (user, principal) = if cloudtrail {
            (None, cut_opt(e.user.as_deref(), TEXT_MAX, t))
        } else {
            (cut_opt(e.user.as_deref(), TEXT_MAX, t), None)
        };
        let (what, command) = match kind {
            ActivityKind::Statement => match e.statement.as_deref() {
                Some(st) => (
                    cut_opt(Some(&st.text), STATEMENT_MAX, t),
                    cut_opt(st.command.as_deref(), TEXT_MAX, t),
                ),
                None => (cut_opt(e.message.as_deref(), STATEMENT_MAX, t), None),
            },
            ActivityKind::ApiCall | ActivityKind::LoginFailed | ActivityKind::Error => {
                (cut_opt(e.message.as_deref(), TEXT_MAX, t), None)
            }
            _ => (None, None),
        };
        Activity {
            id: 0,
            first: e.time,
            last: e.time,
            count: 1,
            kind,
            source: e.source.as_str().to_string(),
            resource: cut_opt(resource, TEXT_MAX, t),
            ip: e.client_ip,
            user,
            principal,
            database: cut_opt(e.database.as_deref(), TEXT_MAX, t),
            application: cut_opt(e.application.as_deref(), TEXT_MAX, t),
            what,
            command,
            error: cut_opt(e.error_code.as_deref(), TEXT_MAX, t),
            truncated,
        }
    }
}

/// The activity of one batch of events, folded, for one [`crate::Commit`]: at most
/// its cap of rows; the events that would have made more are counted per day.
#[derive(Debug, Clone)]
pub struct ActivityBatch {
    rows: Vec<(i64, Activity)>,
    index: HashMap<i64, usize>,
    cap: usize,
    dropped: BTreeMap<i64, u64>,
}

impl Default for ActivityBatch {
    fn default() -> Self {
        ActivityBatch::with_cap(COMMIT_MAX_ROWS)
    }
}

impl ActivityBatch {
    /// A batch of at most [`COMMIT_MAX_ROWS`] rows.
    pub fn new() -> Self {
        ActivityBatch::default()
    }

    /// A batch of at most `cap` rows.
    pub fn with_cap(cap: usize) -> Self {
        ActivityBatch {
            rows: Vec::new(),
            index: HashMap::new(),
            cap,
            dropped: BTreeMap::new(),
        }
    }

    /// Adds an event: folded into its row, a new row, or counted as dropped when
    /// the batch is full. False when the event is not one the timeline keeps or was
    /// dropped.
    pub fn add(&mut self, e: &Event) -> bool {
        let Some(kind) = ActivityKind::of(e) else {
            return false;
        };
        if e.client_ip.is_none() && e.user.as_deref().is_none_or(str::is_empty) {
            return false;
        }
        let key = fold_key(e, kind);
        if let Some(&i) = self.index.get(&key) {
            if let Some((_, row)) = self.rows.get_mut(i) {
                row.count = row.count.saturating_add(1);
                row.first = row.first.min(e.time);
                row.last = row.last.max(e.time);
                return true;
            }
        }
        if self.rows.len() >= self.cap {
            let day = e.time.timestamp_millis().div_euclid(DAY_MS);
            *self.dropped.entry(day).or_default() += 1;
            return false;
        }
        self.index.insert(key, self.rows.len());
        self.rows.push((key, Activity::build(e, kind)));
        true
    }

    /// The rows, in the order their first event came.
    pub fn rows(&self) -> impl Iterator<Item = &Activity> {
        self.rows.iter().map(|(_, r)| r)
    }

    /// The rows, in the order their first event came.
    pub fn into_rows(self) -> Vec<Activity> {
        self.rows.into_iter().map(|(_, r)| r).collect()
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// No row and nothing dropped.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty() && self.dropped.is_empty()
    }

    /// Events not kept for the cap.
    pub fn dropped(&self) -> u64 {
        self.dropped.values().sum()
    }
}

/// Writes a batch's rows (added to the same minute's stored rows) and its dropped
/// counts, inside the commit's transaction.
pub(crate) fn write_activity(
    tx: &Connection,
    path: &std::path::Path,
    batch: &ActivityBatch,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let err = |e| StoreError::sql(path, e);
    if !batch.rows.is_empty() {
        let mut stmt = tx
            .prepare_cached(
                "INSERT INTO activity (fold, first, last, count, kind, source, resource, ip, user,
                     principal, database, application, what, command, error, truncated, stored)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)
                 ON CONFLICT (fold) DO UPDATE SET count = activity.count + excluded.count,
                     first = CASE WHEN excluded.first < activity.first
                         THEN excluded.first ELSE activity.first END,
                     last = CASE WHEN excluded.last > activity.last
                         THEN excluded.last ELSE activity.last END",
            )
            .map_err(err)?;
        for (fold, r) in &batch.rows {
            stmt.execute(params![
                fold,
                millis(r.first),
                millis(r.last),
                i64::try_from(r.count).unwrap_or(i64::MAX),
                r.kind.as_str(),
                r.source,
                r.resource,
                r.ip.map(|ip| ip.to_string()),
                r.user,
                r.principal,
                r.database,
                r.application,
                r.what,
                r.command,
                r.error,
                r.truncated,
                millis(at),
            ])
            .map_err(err)?;
        }
    }
    for (day, n) in &batch.dropped {
        tx.prepare_cached(
            "INSERT INTO activity_dropped (day, count) VALUES (?1, ?2)
             ON CONFLICT (day) DO UPDATE SET count = activity_dropped.count + excluded.count",
        )
        .and_then(|mut s| s.execute(params![day, i64::try_from(*n).unwrap_or(i64::MAX)]))
        .map_err(err)?;
    }
    Ok(())
}

/// Keeps a finding's addresses and users in `finding_actors` (its row is being
/// written).
pub(crate) fn index_actors(
    tx: &Connection,
    path: &std::path::Path,
    f: &keibi_model::Finding,
) -> Result<(), StoreError> {
    let err = |e| StoreError::sql(path, e);
    tx.prepare_cached("DELETE FROM finding_actors WHERE finding_id = ?1")
        .and_then(|mut s| s.execute([&f.id]))
        .map_err(err)?;
    let mut ins = tx
        .prepare_cached(
            "INSERT INTO finding_actors (kind, value, finding_id) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
        )
        .map_err(err)?;
    for ip in f.actor.ip.iter().chain(&f.actor.ips) {
        ins.execute(params!["ip", ip.to_string(), f.id])
            .map_err(err)?;
    }
    for u in f.actor.user.iter().chain(&f.actor.users) {
        ins.execute(params!["user", u, f.id]).map_err(err)?;
    }
    Ok(())
}

/// What to read: the activity and findings of any of these addresses, database
/// users or principals (at least one) in `[since, until]`.
#[derive(Debug, Clone, PartialEq)]
pub struct TimelineQuery {
    pub ips: Vec<IpAddr>,
    pub users: Vec<String>,
    pub principals: Vec<String>,
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
    /// Entries at most (activity rows and finding marks together), at most
    /// [`QUERY_MAX_LIMIT`].
    pub limit: usize,
}

impl TimelineQuery {
    /// Refuses a query that names no actor, too many, a window that ends before it
    /// begins, or a limit of 0.
    pub fn check(&self) -> Result<(), StoreError> {
        if self.ips.is_empty() && self.users.is_empty() && self.principals.is_empty() {
            return Err(StoreError::Invalid(
                "a timeline needs an address, a user or a principal".into(),
            ));
        }
        if self.ips.len() > QUERY_MAX_ACTORS
            || self.users.len() > QUERY_MAX_ACTORS
            || self.principals.len() > QUERY_MAX_ACTORS
        {
            return Err(StoreError::Invalid(format!(
                "a timeline names at most {QUERY_MAX_ACTORS} addresses, users and principals each"
            )));
        }
        if self.until < self.since {
            return Err(StoreError::Invalid(
                "the timeline's window ends before it begins".into(),
            ));
        }
        if self.limit == 0 {
            return Err(StoreError::Invalid(
                "a timeline's limit is at least 1".into(),
            ));
        }
        Ok(())
    }

    /// Whether an event is one of the query's (actor and window): read from files
    /// (`keibi timeline FILES`), the same rule as the stored rows'. A CloudTrail
    /// event's user is its principal.
    pub fn matches_event(&self, e: &Event) -> bool {
        if e.time < self.since || e.time > self.until {
            return false;
        }
        if e.client_ip.is_some_and(|ip| self.ips.contains(&ip)) {
            return true;
        }
        let Some(u) = e.user.as_deref() else {
            return false;
        };
        let names = if e.source == SourceKind::Cloudtrail {
            &self.principals
        } else {
            &self.users
        };
        // As stored: cut to TEXT_MAX.
        let mut t = false;
        names.iter().any(|n| *n == cut(u, TEXT_MAX, &mut t))
    }

    /// Whether a row is one of the query's (actor and window).
    pub fn matches(&self, a: &Activity) -> bool {
        a.first <= self.until
            && a.last >= self.since
            && (a.ip.is_some_and(|ip| self.ips.contains(&ip))
                || a.user.as_ref().is_some_and(|u| self.users.contains(u))
                || a.principal
                    .as_ref()
                    .is_some_and(|p| self.principals.contains(p)))
    }
}

/// A moment in the life of a finding of the query's actors (a line of its
/// history).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FindingMark {
    /// When it happened, for the timeline's order: for `new`, the finding's first
    /// event; for what a detector did (`grew`, `severity_raised`, `closed`,
    /// `reopened`, `suppressed` by a rule ...), when the store recorded it but not
    /// after the finding's last event (a log read late is recorded late); for what a
    /// person did (`acknowledged`, `resolved` ...), when they did it.
    #[serde(serialize_with = "ser_time")]
    pub time: DateTime<Utc>,
    /// When the store recorded it.
    #[serde(serialize_with = "ser_time")]
    pub recorded: DateTime<Utc>,
    pub finding_id: String,
    pub finding_type: String,
    /// The finding's severity after this line.
    pub severity: Severity,
    /// The finding's English title (the finding's `text` renders it in the reader's
    /// language).
    pub title: String,
    /// `new`, `grew`, `severity_raised`, `closed`, `reopened`, `acknowledged`,
    /// `resolved`, `suppressed`, `unsuppressed`.
    pub what: String,
    /// Who did it (a person, `rule N`), when not a detector.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    /// The finding's count after it.
    pub count: u64,
    /// The finding's texts as messages, to show its title in the reader's language
    /// (not in the JSON: `title` is the contract's English).
    #[serde(skip)]
    pub text: Option<Box<keibi_model::FindingText>>,
}

/// One line of a timeline.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "entry", rename_all = "snake_case")]
pub enum TimelineEntry {
    Activity(Activity),
    Finding(FindingMark),
}

impl TimelineEntry {
    /// The time the timeline orders by.
    pub fn time(&self) -> DateTime<Utc> {
        match self {
            TimelineEntry::Activity(a) => a.first,
            TimelineEntry::Finding(m) => m.time,
        }
    }
}

/// A query's answer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Timeline {
    /// In time order (activity before a finding mark of the same time).
    pub entries: Vec<TimelineEntry>,
    /// More entries matched than the limit: the latest were left out.
    pub cut: bool,
    /// Events of the window's days that commits did not keep (over their cap).
    pub dropped: u64,
}

impl Timeline {
    /// Activity rows and finding marks as one timeline in time order (a mark after
    /// the rows of its time), cut at `limit` entries.
    pub fn merge(mut rows: Vec<Activity>, mut marks: Vec<FindingMark>, limit: usize) -> Timeline {
        rows.sort_by_key(|a| (a.first, a.id));
        marks.sort_by(|a, b| {
            (a.time, &a.finding_id, a.recorded).cmp(&(b.time, &b.finding_id, b.recorded))
        });
        let mut entries: Vec<TimelineEntry> = Vec::with_capacity(rows.len() + marks.len());
        let mut marks = marks.into_iter().peekable();
        for a in rows {
            while let Some(m) = marks.next_if(|m| m.time < a.first) {
                entries.push(TimelineEntry::Finding(m));
            }
            entries.push(TimelineEntry::Activity(a));
        }
        entries.extend(marks.map(TimelineEntry::Finding));
        let cut = entries.len() > limit;
        entries.truncate(limit);
        Timeline {
            entries,
            cut,
            dropped: 0,
        }
    }
}

const ACTIVITY_COLUMNS: &str = "id, first, last, count, kind, source, resource, ip, user, \
     principal, database, application, what, command, error, truncated";

fn activity_from_row(r: &crate::sql::Row<'_>) -> crate::sql::Result<Activity> {
    let kind: String = r.get(4)?;
    let ip: Option<String> = r.get(7)?;
    Ok(Activity {
        id: r.get(0)?,
        first: from_millis(r.get(1)?),
        last: from_millis(r.get(2)?),
        count: u64::try_from(r.get::<_, i64>(3)?).unwrap_or(0),
        // Written by this crate: an unknown kind is a newer keibi's, shown as an error.
        kind: ActivityKind::parse(&kind).unwrap_or(ActivityKind::Error),
        source: r.get(5)?,
        resource: r.get(6)?,
        ip: ip.and_then(|s| s.parse().ok()),
        user: r.get(8)?,
        principal: r.get(9)?,
        database: r.get(10)?,
        application: r.get(11)?,
        what: r.get(12)?,
        command: r.get(13)?,
        error: r.get(14)?,
        truncated: r.get(15)?,
    })
}

/// Whether a history line is a person's doing (not a detector's or a rule's).
fn by_person(by: Option<&str>) -> bool {
    by.is_some_and(|b| !b.starts_with("rule "))
}

impl Store {
    /// The activity and finding marks of `q`'s actors in its window, in time order,
    /// cut at `q.limit` (see [`Timeline`]). Each address, user and principal is read
    /// through its own index from the window's start, so the cost follows the
    /// entries returned, not the table's size.
    pub fn timeline(&self, q: &TimelineQuery) -> Result<Timeline, StoreError> {
        q.check()?;
        let limit = q.limit.min(QUERY_MAX_LIMIT);
        let err = |e| StoreError::sql(&self.path, e);
        let since = millis(q.since);
        let until = millis(q.until);
        let keep = limit.saturating_add(1);
        let fetch = i64::try_from(keep).unwrap_or(i64::MAX);
        let mut rows: Vec<Activity> = Vec::new();
        let mut seen: HashSet<i64> = HashSet::new();
        let by = |column: &str,
                  values: Vec<String>,
                  rows: &mut Vec<Activity>,
                  seen: &mut HashSet<i64>|
         -> Result<(), StoreError> {
            let mut stmt = self
                .conn
                .prepare_cached(&format!(
                    "SELECT {ACTIVITY_COLUMNS} FROM activity
                     WHERE {column} = ?1 AND first >= ?2 AND first <= ?3 AND last >= ?4
                     ORDER BY first, id LIMIT ?5"
                ))
                .map_err(err)?;
            for v in values {
                let found = stmt
                    .query_map(
                        params![v, since.saturating_sub(FOLD_SPAN_MS), until, since, fetch],
                        activity_from_row,
                    )
                    .and_then(|r| r.collect::<Result<Vec<_>, _>>())
                    .map_err(err)?;
                for a in found {
                    if seen.insert(a.id) {
                        rows.push(a);
                    }
                }
                // Memory stays within two answers whatever the number of actors: the
                // earliest `limit + 1` of the union are among each one's earliest.
                if rows.len() > keep {
                    rows.sort_by_key(|a| (a.first, a.id));
                    rows.truncate(keep);
                }
            }
            Ok(())
        };
        by(
            "ip",
            q.ips.iter().map(|ip| ip.to_string()).collect(),
            &mut rows,
            &mut seen,
        )?;
        by("user", q.users.clone(), &mut rows, &mut seen)?;
        by("principal", q.principals.clone(), &mut rows, &mut seen)?;
        let marks = self.timeline_marks(q)?;
        let mut tl = Timeline::merge(rows, marks, limit);

        let dropped: i64 = self
            .conn
            .query_row(
                "SELECT CAST(coalesce(sum(count), 0) AS BIGINT) FROM activity_dropped WHERE day BETWEEN ?1 AND ?2",
                params![since.div_euclid(DAY_MS), until.div_euclid(DAY_MS)],
                |r| r.get(0),
            )
            .map_err(err)?;
        tl.dropped = u64::try_from(dropped).unwrap_or(0);
        Ok(tl)
    }

    /// The history lines of the findings naming one of `q`'s actors, in `q`'s
    /// window, in time order (the marks of [`Store::timeline`], for a timeline of
    /// activity read elsewhere: `keibi timeline FILES --store`).
    pub fn timeline_marks(&self, q: &TimelineQuery) -> Result<Vec<FindingMark>, StoreError> {
        let err = |e| StoreError::sql(&self.path, e);
        let mut ids: Vec<String> = Vec::new();
        let mut seen: HashSet<String> = HashSet::new();
        {
            // Only findings that can have a mark in the window: their events
            // overlap it (a `new` line is at first_seen, a detector's or a rule's
            // at most at last_seen), or a person wrote one of their history lines
            // in it. (A detector's line written before the events it names, which
            // only a clock running behind the logs makes, is left out.) Decided on the columns and the history index before any
            // finding's JSON is read: a user named by thousands of findings
            // otherwise cost a read of 2,000 of them for each page (the dashboard's
            // finding and user pages took 220 ms at 100,000 findings), and could
            // leave out the window's own.
            let mut stmt = self
                .conn
                .prepare_cached(
                    "SELECT fa.finding_id FROM finding_actors fa
                     JOIN findings f ON f.id = fa.finding_id
                     WHERE fa.kind = ?1 AND fa.value = ?2
                       AND ((f.first_seen <= ?5 AND f.last_seen >= ?4)
                            OR EXISTS (SELECT 1 FROM history h WHERE h.finding_id = f.id
                                       AND h.at >= ?4 AND h.at <= ?5 AND h.by IS NOT NULL
                                       AND substr(h.by, 1, 5) <> 'rule '))
                     LIMIT ?3",
                )
                .map_err(err)?;
            let wanted = q
                .ips
                .iter()
                .map(|ip| ("ip", ip.to_string()))
                .chain(q.users.iter().map(|u| ("user", u.clone())))
                .chain(q.principals.iter().map(|p| ("user", p.clone())));
            for (kind, value) in wanted {
                let found: Vec<String> = stmt
                    .query_map(
                        params![
                            kind,
                            value,
                            QUERY_MAX_FINDINGS as i64,
                            millis(q.since),
                            millis(q.until)
                        ],
                        |r| r.get(0),
                    )
                    .and_then(|r| r.collect())
                    .map_err(err)?;
                for id in found {
                    if ids.len() < QUERY_MAX_FINDINGS && seen.insert(id.clone()) {
                        ids.push(id);
                    }
                }
            }
        }
        let mut marks = Vec::new();
        let mut hist = self
            .conn
            .prepare_cached(
                "SELECT at, what, count, by, severity FROM history WHERE finding_id = ?1 ORDER BY seq",
            )
            .map_err(err)?;
        for id in ids {
            let Some(stored) = read_finding_opt(&self.conn, &self.path, &id)? else {
                continue;
            };
            let f = &stored.finding;
            let lines: Vec<(i64, String, i64, Option<String>, f64)> = hist
                .query_map([&id], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                })
                .and_then(|r| r.collect())
                .map_err(err)?;
            for (at, what, count, by, severity) in lines {
                let recorded = from_millis(at);
                let time = if what == "new" {
                    f.first_seen
                } else if by_person(by.as_deref()) {
                    recorded
                } else {
                    recorded.min(f.last_seen)
                };
                if time < q.since || time > q.until {
                    continue;
                }
                marks.push(FindingMark {
                    time,
                    recorded,
                    finding_id: f.id.clone(),
                    finding_type: f.finding_type.clone(),
                    severity: Severity::new(severity),
                    title: f.title.clone(),
                    what,
                    by,
                    count: u64::try_from(count).unwrap_or(0),
                    text: f.text.clone(),
                });
            }
        }
        marks.sort_by(|a, b| {
            (a.time, &a.finding_id, a.recorded).cmp(&(b.time, &b.finding_id, b.recorded))
        });
        marks.truncate(q.limit.min(QUERY_MAX_LIMIT).saturating_add(1));
        Ok(marks)
    }

    /// Retention of the activity: deletes the rows whose events and storing are
    /// both before `older_than`, then the oldest stored rows beyond `max_rows`, and
    /// the dropped counts of days before `older_than`; returns how many rows went.
    pub fn expire_activity(
        &mut self,
        older_than: DateTime<Utc>,
        max_rows: u64,
    ) -> Result<u64, StoreError> {
        let path = self.path.clone();
        let err = |e| StoreError::sql(&path, e);
        let cutoff = millis(older_than);
        let tx = self.write_tx()?;
        let mut n = tx
            .execute(
                "DELETE FROM activity WHERE first < ?1 AND last < ?1 AND stored < ?1",
                [cutoff],
            )
            .map_err(err)? as u64;
        // Rows are numbered as they are first stored: the cap keeps the latest.
        let max = i64::try_from(max_rows).unwrap_or(i64::MAX);
        let count: i64 = tx
            .query_row("SELECT count(*) FROM activity", [], |r| r.get(0))
            .map_err(err)?;
        if count > max {
            n += tx
                .execute(
                    "DELETE FROM activity WHERE id IN (SELECT id FROM activity ORDER BY id LIMIT ?1)",
                    [count - max],
                )
                .map_err(err)? as u64;
        }
        tx.execute(
            "DELETE FROM activity_dropped WHERE day < ?1",
            [cutoff.div_euclid(DAY_MS)],
        )
        .map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(n)
    }

    /// How many activity rows the store keeps.
    pub fn activity_rows(&self) -> Result<u64, StoreError> {
        let n: i64 = self
            .conn
            .query_row("SELECT count(*) FROM activity", [], |r| r.get(0))
            .map_err(|e| StoreError::sql(&self.path, e))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}

/// A window of `hours` either side of `[first, last]` (`keibi timeline --around`).
pub fn around(
    first: DateTime<Utc>,
    last: DateTime<Utc>,
    hours: i64,
) -> (DateTime<Utc>, DateTime<Utc>) {
    let d = TimeDelta::hours(hours);
    (
        first.checked_sub_signed(d).unwrap_or(first),
        last.checked_add_signed(d).unwrap_or(last),
    )
}
