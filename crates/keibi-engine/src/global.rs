//! The second stage: detections that need more than one partition, over the stream
//! of finding changes in the store (issue 20 §4; `docs/scaling.md`).
//!
//! A partition's detectors see one instance (database logs) or one account
//! (CloudTrail). What spans them is judged here, from the findings they committed:
//!
//! * [`SPREAD`]: one address with login-failure findings (brute force, spray,
//!   failures from a listed address...) on at least `min_instances` (3) instances
//!   whose activity falls within `window` (1 h) of each other;
//! * [`STUFFING`]: one address failing as at least `stuffing_users` (10) different
//!   users on at least `stuffing_instances` (2) instances within the window;
//! * [`PRINCIPAL`]: one principal (IAM ARN) with control-plane findings in at least
//!   `min_accounts` (2) accounts, or `min_regions` (3) regions, within
//!   `principal_window` (24 h).
//!
//! **How a round reads.** [`GlobalStage::round`] reads the history rows after its
//! checkpoint (`global:<name>`: `data` holds the last `seq` read, `position` counts
//! its commits so each round moves on), collects the addresses and principals of the
//! findings that changed, reads every stored finding of each such key (the store's
//! actor index) and judges each key afresh from them. So the stage keeps no state
//! between rounds: a new owner of the `_global` lease, or a restart, needs nothing
//! but the store.
//!
//! **Counting once.** A global finding's `count` is how many per-partition findings
//! (instances, or account and region pairs) make it up. A round gives the store the
//! difference between that and the stored count as `added`, and commits it with its
//! checkpoint in one [`Commit`]: a crash before the commit re-reads the same rows;
//! after it, the checkpoint has moved; a commit sent twice is a replay (the store's
//! aggregation rule). Either way nothing is counted twice.
//!
//! **Bounds.** At most `max_changes` (10,000) rows and `max_keys` (500) keys a round
//! (the rest the next round), at most `max_per_key` (500) findings read per key (the
//! most recently seen; judging one key compares each with each: 500,000 steps at
//! most), at most [`MAX_LISTED`] names in a finding's lists, [`MAX_EVIDENCE`]
//! references.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};
use keibi_model::finding::{Evidence, Resource, MAX_DISTINCT};
use keibi_model::{ChangeKind, Finding, FindingChange, FindingSpec, FindingText, Msg, Severity};
use keibi_store::{ActorKind, Checkpoint, Commit, FindingStore, Store, StoreError};

/// What the global findings carry as `detector`.
pub const DETECTOR: &str = "global";
/// One address, login failures on several instances.
pub const SPREAD: &str = "CredentialAccess:RDS/BruteForce.MultipleInstances";
/// One address, many user names, several instances.
pub const STUFFING: &str = "CredentialAccess:RDS/CredentialStuffing.MultipleInstances";
/// One principal, control-plane findings in several accounts or regions.
pub const PRINCIPAL: &str = "Behavior:IAMUser/MultipleAccounts";

/// The per-instance findings that are failed logins from an address.
pub const LOGIN_FAILURES: &[&str] = &[
    "CredentialAccess:RDS/BruteForce",
    "CredentialAccess:RDS/PasswordSpray",
    "CredentialAccess:RDS/CredentialStuffing",
    "CredentialAccess:RDS/AnomalousBehavior.FailedLogin",
    "CredentialAccess:RDS/AnomalousBehavior.SuccessfulBruteForce",
    "CredentialAccess:RDS/MaliciousIPCaller.FailedLogin",
    "CredentialAccess:RDS/TorIPCaller.FailedLogin",
];

/// Names listed in a global finding (instances, users, accounts).
pub const MAX_LISTED: usize = 20;
/// Evidence references of a global finding (the contract's bound).
pub const MAX_EVIDENCE: usize = 20;
/// Addresses taken from one changed finding (a /64 rotation lists many).
const IPS_PER_FINDING: usize = 16;

/// The types the second stage raises, for the catalog.
pub fn specs() -> Vec<FindingSpec> {
    use keibi_model::ActionKind;
    vec![
        FindingSpec::new(
            SPREAD,
            6.0,
            &["T1110.001", "T1110.003"],
            "One address attacking logins on several instances",
            "Block the address where all the instances are reachable (shared security groups, a network ACL) and keep the instances off the internet.",
            &[ActionKind::BlockAddress],
        ),
        FindingSpec::new(
            STUFFING,
            7.0,
            &["T1110.004"],
            "Credential stuffing across instances",
            "Block the address, change the passwords of the users it tried that exist, and keep the instances off the internet.",
            &[ActionKind::BlockAddress],
        ),
        FindingSpec::new(
            PRINCIPAL,
            7.0,
            &["T1078.004"],
            "One principal raising findings in several accounts or regions",
            "If this is not planned work, deactivate the principal's access keys or revoke its role sessions, then handle each account's findings.",
            &[],
        ),
    ]
}

/// Thresholds and bounds.
#[derive(Debug, Clone, PartialEq)]
pub struct GlobalConfig {
    /// The checkpoint is `global:<name>`.
    pub name: String,
    pub window: Duration,
    pub min_instances: usize,
    pub stuffing_users: usize,
    pub stuffing_instances: usize,
    pub principal_window: Duration,
    pub min_accounts: usize,
    pub min_regions: usize,
    pub max_changes: u32,
    pub max_keys: usize,
    pub max_per_key: u32,
}

impl Default for GlobalConfig {
    fn default() -> GlobalConfig {
        GlobalConfig {
            name: "default".into(),
            window: Duration::hours(1),
            min_instances: 3,
            stuffing_users: 10,
            stuffing_instances: 2,
            principal_window: Duration::hours(24),
            min_accounts: 2,
            min_regions: 3,
            max_changes: 10_000,
            max_keys: 500,
            max_per_key: 500,
        }
    }
}

/// What a round did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Round {
    /// History rows read.
    pub read: usize,
    /// Addresses and principals judged.
    pub keys: usize,
    /// Global findings committed (new or grown).
    pub findings: Vec<String>,
    /// More rows are waiting (the round stopped at `max_changes` or `max_keys`).
    pub more: bool,
    /// The store took the commit as a replay (another holder committed it first).
    pub replayed: bool,
}

/// Changes a round's commit before it is sent (a worker puts its `_global` lease's
/// fence on it).
pub type Prepare = Box<dyn Fn(&mut Commit) + Send>;

/// The second stage. Holds its thresholds only: everything else is in the store.
pub struct GlobalStage {
    cfg: GlobalConfig,
    prepare: Option<Prepare>,
}

impl std::fmt::Debug for GlobalStage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GlobalStage")
            .field("cfg", &self.cfg)
            .finish()
    }
}

/// Where a round starts: the last `seq` read and how many commits the stage made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Cursor {
    seq: i64,
    commits: u64,
}

impl GlobalStage {
    pub fn new(cfg: GlobalConfig) -> GlobalStage {
        GlobalStage { cfg, prepare: None }
    }

    /// Runs `f` on every commit before it is sent: in worker mode, to carry the
    /// `_global` lease's fence (every worker commit does). Counting once does not
    /// depend on it: two holders committing from one checkpoint make a replay.
    pub fn with_prepare(mut self, f: Prepare) -> GlobalStage {
        self.prepare = Some(f);
        self
    }

    /// The checkpoint's source name.
    pub fn source(&self) -> String {
        format!("global:{}", self.cfg.name)
    }

    fn cursor(&self, store: &Store) -> Result<Cursor, StoreError> {
        let Some(c) = store.checkpoint(&self.source())? else {
            return Ok(Cursor::default());
        };
        let seq = std::str::from_utf8(&c.data)
            .ok()
            .and_then(|s| s.trim().parse::<i64>().ok())
            .unwrap_or(0);
        Ok(Cursor {
            seq,
            commits: c.position,
        })
    }

    /// Reads the changes after the checkpoint, judges the keys they touch and
    /// commits the global findings with the moved checkpoint in one transaction.
    /// Commits nothing when nothing changed.
    pub fn round(&mut self, store: &mut Store, now: DateTime<Utc>) -> Result<Round, StoreError> {
        let (mut out, commit) = self.plan(store, now)?;
        let Some(mut commit) = commit else {
            return Ok(out);
        };
        if let Some(p) = &self.prepare {
            p(&mut commit);
        }
        let done = store.commit(&commit)?;
        out.replayed = done.replayed;
        out.findings = done
            .findings
            .iter()
            .filter(|a| a.outcome != keibi_store::Outcome::Unchanged)
            .map(|a| a.id.clone())
            .collect();
        Ok(out)
    }

    /// What [`GlobalStage::round`] would commit, without committing it (`None` when
    /// nothing changed after the checkpoint). Committing it twice, or committing two
    /// plans made from the same checkpoint, counts once (the second is a replay).
    pub fn plan(
        &self,
        store: &Store,
        now: DateTime<Utc>,
    ) -> Result<(Round, Option<Commit>), StoreError> {
        let mut cursor = self.cursor(store)?;
        // History numbers of deleted rows (retention) can come back: a position past
        // the newest row would hide the next ones.
        let last = store.last_change()?;
        if cursor.seq > last {
            cursor.seq = last;
        }
        let rows = store.changes_after(cursor.seq, self.cfg.max_changes, &|t| wanted(t))?;
        let mut out = Round {
            read: rows.len(),
            more: rows.len() >= self.cfg.max_changes as usize,
            ..Round::default()
        };
        if rows.is_empty() {
            return Ok((out, None));
        }
        let mut keys: BTreeSet<Key> = BTreeSet::new();
        let mut read_to = cursor.seq;
        for row in &rows {
            let new: Vec<Key> = row
                .finding
                .iter()
                .flat_map(|sf| keys_of(&sf.finding))
                .filter(|k| !keys.contains(k))
                .collect();
            if !keys.is_empty() && keys.len() + new.len() > self.cfg.max_keys {
                // Full: this row and the next wait for the next round.
                out.more = true;
                break;
            }
            keys.extend(new);
            read_to = row.seq;
        }
        out.keys = keys.len();
        let mut commit = Commit::new(now);
        for key in &keys {
            let found = match key {
                Key::Ip(ip) => {
                    let fs = store.findings_of_actor(
                        ActorKind::Ip,
                        &ip.to_string(),
                        self.cfg.max_per_key,
                    )?;
                    let mut g = Vec::new();
                    g.extend(spread(&self.cfg, *ip, &fs));
                    g.extend(stuffing(&self.cfg, *ip, &fs));
                    g
                }
                Key::Principal(p) => {
                    let fs = store.findings_of_actor(ActorKind::User, p, self.cfg.max_per_key)?;
                    principal(&self.cfg, p, &fs).into_iter().collect()
                }
            };
            for f in found {
                if let Some(change) = change_for(store, f)? {
                    commit.finding_changes.push(change);
                }
            }
        }
        commit.checkpoints.push(Checkpoint {
            source: self.source(),
            position: cursor.commits.saturating_add(1),
            data: read_to.to_string().into_bytes(),
        });
        Ok((out, Some(commit)))
    }
}

/// The change to give the store for a global finding as judged now: `added` is what
/// its count grew by since the stored one (nothing when it did not grow).
fn change_for(store: &Store, f: Finding) -> Result<Option<FindingChange>, StoreError> {
    let stored = match store.finding_by_id(&f.id) {
        Ok(s) => Some(s.finding),
        Err(StoreError::NotFound(_)) => None,
        Err(e) => return Err(e),
    };
    let Some(old) = stored else {
        let added = f.count;
        return Ok(Some(FindingChange {
            kind: ChangeKind::New,
            finding: f,
            added,
        }));
    };
    let added = f.count.saturating_sub(old.count);
    let raised = f.severity.value() > old.severity.value();
    if added == 0 && !raised && f.last_seen <= old.last_seen && f.first_seen >= old.first_seen {
        return Ok(None);
    }
    Ok(Some(FindingChange {
        kind: if raised {
            ChangeKind::SeverityRaised
        } else {
            ChangeKind::Grew
        },
        finding: f,
        added,
    }))
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    Ip(IpAddr),
    Principal(String),
}

fn wanted(t: &str) -> bool {
    LOGIN_FAILURES.contains(&t) || control_plane_type(t)
}

/// Findings of CloudTrail detectors: not the database's, not posture's, not ours.
fn control_plane_type(t: &str) -> bool {
    !LOGIN_FAILURES.contains(&t)
        && !t.starts_with("Posture:")
        && !t.starts_with("Sigma:")
        && t != SPREAD
        && t != STUFFING
        && t != PRINCIPAL
}

fn on_database(f: &Finding) -> bool {
    matches!(f.resource.kind.as_str(), "db_instance" | "db_cluster") && !f.resource.id.is_empty()
}

fn is_login_failure(f: &Finding) -> bool {
    LOGIN_FAILURES.contains(&f.finding_type.as_str()) && on_database(f)
}

/// A CloudTrail finding with a principal and the account it was raised in.
fn is_control_plane(f: &Finding) -> bool {
    control_plane_type(&f.finding_type)
        && f.resource.account.as_deref().is_some_and(|a| !a.is_empty())
        && f.actor
            .user
            .as_deref()
            .is_some_and(|u| u.starts_with("arn:"))
}

fn ips_of(f: &Finding) -> Vec<IpAddr> {
    let mut v: Vec<IpAddr> = f.actor.ip.into_iter().collect();
    for ip in &f.actor.ips {
        if v.len() >= IPS_PER_FINDING {
            break;
        }
        if !v.contains(ip) {
            v.push(*ip);
        }
    }
    v
}

fn keys_of(f: &Finding) -> Vec<Key> {
    if is_login_failure(f) {
        ips_of(f).into_iter().map(Key::Ip).collect()
    } else if is_control_plane(f) {
        f.actor
            .user
            .iter()
            .map(|u| Key::Principal(u.clone()))
            .collect()
    } else {
        Vec::new()
    }
}

/// The largest groups of `items` (each a time span and a label) whose spans all
/// meet one window of length `w`: for every span, the windows starting at its
/// first and ending at its last event. Returns the indexes of the items of every
/// window holding at least `min` distinct labels (their union), or nothing.
fn in_windows(
    items: &[(DateTime<Utc>, DateTime<Utc>, &str)],
    w: Duration,
    min: usize,
) -> Vec<usize> {
    // Labels as small numbers, so each window counts its distinct labels with a
    // stamp per label instead of a set: 2 n windows of n items, no allocation.
    let mut ids: BTreeMap<&str, usize> = BTreeMap::new();
    let label: Vec<usize> = items
        .iter()
        .map(|(_, _, l)| {
            let next = ids.len();
            *ids.entry(l).or_insert(next)
        })
        .collect();
    if ids.len() < min {
        return Vec::new();
    }
    let mut stamp = vec![0usize; ids.len()];
    let mut chosen = vec![false; items.len()];
    let mut window = 0usize;
    for (first, last, _) in items {
        for (from, to) in [(*first, *first + w), (*last - w, *last)] {
            window += 1;
            let mut distinct = 0;
            for (i, (f, l, _)) in items.iter().enumerate() {
                if *f <= to && *l >= from && stamp[label[i]] != window {
                    stamp[label[i]] = window;
                    distinct += 1;
                }
            }
            if distinct >= min {
                for (i, (f, l, _)) in items.iter().enumerate() {
                    if *f <= to && *l >= from {
                        chosen[i] = true;
                    }
                }
            }
        }
    }
    (0..items.len()).filter(|i| chosen[*i]).collect()
}

fn users_of(f: &Finding) -> Vec<String> {
    let mut v: Vec<String> = f.actor.user.iter().cloned().collect();
    for u in &f.actor.users {
        if !v.contains(u) {
            v.push(u.clone());
        }
    }
    v
}

/// Bounded, sorted, distinct list.
fn bounded(set: &BTreeSet<String>, max: usize) -> Vec<String> {
    set.iter().take(max).cloned().collect()
}

fn names(items: &BTreeSet<String>) -> keibi_model::text::Arg {
    keibi_model::text::Arg::Names {
        items: bounded(items, MAX_LISTED),
        total: items.len() as u64,
        max: MAX_LISTED as u64,
    }
}

fn evidence(f: &Finding) -> Evidence {
    Evidence::Observed {
        source: format!("finding {}", f.id).into(),
        observed: format!(
            "{} on {} ({} events, {} - {})",
            f.finding_type,
            f.resource.id,
            f.count,
            f.first_seen
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            f.last_seen
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        ),
    }
}

/// A resource naming many: its kind and the bounded list as its id.
fn many(kind: &str, ids: &BTreeSet<String>) -> Resource {
    let mut id = bounded(ids, MAX_LISTED).join(",");
    if ids.len() > MAX_LISTED {
        id.push_str(&format!(",+{}", ids.len() - MAX_LISTED));
    }
    Resource {
        kind: kind.to_string(),
        id,
        engine: None,
        account: None,
        region: None,
    }
}

/// A global finding from the per-partition findings `parts` it stands on.
fn build(
    ty: &str,
    key: &str,
    severity: f64,
    resource: Resource,
    parts: &[&Finding],
    count: u64,
) -> Finding {
    let first = parts.iter().map(|f| f.first_seen).min().unwrap_or_default();
    let last = parts.iter().map(|f| f.last_seen).max().unwrap_or_default();
    let mut f = Finding::new(
        DETECTOR,
        ty,
        &[key],
        Severity::new(severity),
        resource,
        first,
    );
    f.last_seen = last;
    f.count = count;
    f.mitre = specs()
        .into_iter()
        .find(|s| s.finding_type == ty)
        .map(|s| s.mitre)
        .unwrap_or_default();
    let mut ev: Vec<&&Finding> = parts.iter().collect();
    ev.sort_by_key(|f| (f.first_seen, f.id.clone()));
    f.evidence = ev
        .into_iter()
        .take(MAX_EVIDENCE)
        .map(|p| evidence(p))
        .collect();
    f
}

fn set_users(f: &mut Finding, users: &BTreeSet<String>) {
    if users.len() == 1 {
        f.actor.user = users.iter().next().cloned();
    } else {
        f.actor.users = users.iter().take(MAX_DISTINCT).cloned().collect();
        f.actor.users_truncated = users.len() > MAX_DISTINCT;
    }
}

/// [`SPREAD`] for one address.
fn spread(cfg: &GlobalConfig, ip: IpAddr, fs: &[Finding]) -> Option<Finding> {
    let logins: Vec<&Finding> = fs
        .iter()
        .filter(|f| is_login_failure(f) && ips_of(f).contains(&ip))
        .collect();
    let items: Vec<_> = logins
        .iter()
        .map(|f| (f.first_seen, f.last_seen, f.resource.id.as_str()))
        .collect();
    let idx = in_windows(&items, cfg.window, cfg.min_instances.max(2));
    if idx.is_empty() {
        return None;
    }
    let parts: Vec<&Finding> = idx.iter().map(|i| logins[*i]).collect();
    let instances: BTreeSet<String> = parts.iter().map(|f| f.resource.id.clone()).collect();
    let users: BTreeSet<String> = parts.iter().flat_map(|f| users_of(f)).collect();
    let failures: u64 = parts.iter().map(|f| f.count).fold(0, u64::saturating_add);
    let key = ip.to_string();
    let mut f = build(
        SPREAD,
        &key,
        6.0,
        many("db_instances", &instances),
        &parts,
        instances.len() as u64,
    );
    f.actor.ip = Some(ip);
    set_users(&mut f, &users);
    let (first, last) = (f.first_seen, f.last_seen);
    let text = FindingText {
        title: Some(
            Msg::new("global-spread-title")
                .arg("ip", key.as_str())
                .arg("n", instances.len()),
        ),
        description: vec![
            Msg::new("global-spread-what")
                .arg("ip", key.as_str())
                .arg("n", instances.len())
                .arg("instances", names(&instances))
                .arg("window", window_arg(cfg.window))
                .arg("failures", failures)
                .arg("first", first)
                .arg("last", last),
            Msg::new("global-spread-why"),
        ],
        remediation: vec![
            Msg::new("global-block").arg("ip", key.as_str()),
            Msg::new("global-private"),
            Msg::new("global-each"),
        ],
    };
    keibi_detect::text::set(&mut f, text);
    Some(f)
}

/// [`STUFFING`] for one address.
fn stuffing(cfg: &GlobalConfig, ip: IpAddr, fs: &[Finding]) -> Option<Finding> {
    let logins: Vec<&Finding> = fs
        .iter()
        .filter(|f| is_login_failure(f) && ips_of(f).contains(&ip))
        .collect();
    let items: Vec<_> = logins
        .iter()
        .map(|f| (f.first_seen, f.last_seen, f.resource.id.as_str()))
        .collect();
    let idx = in_windows(&items, cfg.window, cfg.stuffing_instances.max(2));
    let parts: Vec<&Finding> = idx.iter().map(|i| logins[*i]).collect();
    let instances: BTreeSet<String> = parts.iter().map(|f| f.resource.id.clone()).collect();
    let users: BTreeSet<String> = parts.iter().flat_map(|f| users_of(f)).collect();
    if instances.len() < cfg.stuffing_instances.max(2) || users.len() < cfg.stuffing_users.max(2) {
        return None;
    }
    let key = ip.to_string();
    let mut f = build(
        STUFFING,
        &key,
        7.0,
        many("db_instances", &instances),
        &parts,
        users.len() as u64,
    );
    f.actor.ip = Some(ip);
    set_users(&mut f, &users);
    let text = FindingText {
        title: Some(
            Msg::new("global-stuffing-title")
                .arg("ip", key.as_str())
                .arg("users", users.len())
                .arg("n", instances.len()),
        ),
        description: vec![
            Msg::new("global-stuffing-what")
                .arg("ip", key.as_str())
                .arg("users", users.len())
                .arg("n", instances.len())
                .arg("instances", names(&instances))
                .arg("window", window_arg(cfg.window))
                .arg("names", names(&users)),
            Msg::new("global-stuffing-why"),
        ],
        remediation: vec![
            Msg::new("global-block").arg("ip", key.as_str()),
            Msg::new("global-stuffing-passwords"),
            Msg::new("global-each"),
        ],
    };
    keibi_detect::text::set(&mut f, text);
    Some(f)
}

/// [`PRINCIPAL`] for one principal.
fn principal(cfg: &GlobalConfig, arn: &str, fs: &[Finding]) -> Option<Finding> {
    let cp: Vec<&Finding> = fs
        .iter()
        .filter(|f| is_control_plane(f) && f.actor.user.as_deref() == Some(arn))
        .collect();
    let place = |f: &Finding| {
        format!(
            "{}/{}",
            f.resource.account.as_deref().unwrap_or(""),
            f.resource.region.as_deref().unwrap_or("")
        )
    };
    let places: Vec<String> = cp.iter().map(|f| place(f)).collect();
    let accounts_of = |f: &Finding| f.resource.account.clone().unwrap_or_default();
    let by_account: Vec<String> = cp.iter().map(|f| accounts_of(f)).collect();
    let items_a: Vec<_> = cp
        .iter()
        .zip(&by_account)
        .map(|(f, a)| (f.first_seen, f.last_seen, a.as_str()))
        .collect();
    let mut idx: BTreeSet<usize> =
        in_windows(&items_a, cfg.principal_window, cfg.min_accounts.max(2))
            .into_iter()
            .collect();
    let with_region: Vec<(usize, &str)> = cp
        .iter()
        .enumerate()
        .filter_map(|(i, f)| f.resource.region.as_deref().map(|r| (i, r)))
        .collect();
    let items_r: Vec<_> = with_region
        .iter()
        .map(|(i, r)| (cp[*i].first_seen, cp[*i].last_seen, *r))
        .collect();
    for j in in_windows(&items_r, cfg.principal_window, cfg.min_regions.max(2)) {
        idx.insert(with_region[j].0);
    }
    if idx.is_empty() {
        return None;
    }
    let parts: Vec<&Finding> = idx.iter().map(|i| cp[*i]).collect();
    let accounts: BTreeSet<String> = idx.iter().map(|i| by_account[*i].clone()).collect();
    let regions: BTreeSet<String> = parts
        .iter()
        .filter_map(|f| f.resource.region.clone())
        .collect();
    let pairs: BTreeSet<&String> = idx.iter().map(|i| &places[*i]).collect();
    let types: BTreeSet<String> = parts.iter().map(|f| f.finding_type.clone()).collect();
    let ips: BTreeSet<IpAddr> = parts.iter().flat_map(|f| ips_of(f)).collect();
    let mut f = build(
        PRINCIPAL,
        arn,
        7.0,
        many("aws_accounts", &accounts),
        &parts,
        pairs.len() as u64,
    );
    f.actor.user = Some(arn.to_string());
    if ips.len() == 1 {
        f.actor.ip = ips.iter().next().copied();
    } else {
        f.actor.ips = ips.iter().take(MAX_DISTINCT).copied().collect();
        f.actor.ips_truncated = ips.len() > MAX_DISTINCT;
    }
    let text = FindingText {
        title: Some(
            Msg::new("global-principal-title")
                .arg("principal", arn)
                .arg("accounts", accounts.len())
                .arg("regions", regions.len()),
        ),
        description: vec![
            Msg::new("global-principal-what")
                .arg("principal", arn)
                .arg("accounts", accounts.len())
                .arg("account_list", names(&accounts))
                .arg("regions", regions.len())
                .arg("region_list", names(&regions))
                .arg("window", window_arg(cfg.principal_window))
                .arg("types", names(&types)),
            Msg::new("global-principal-why"),
        ],
        remediation: vec![
            Msg::new("global-principal-revoke").arg("principal", arn),
            Msg::new("global-principal-review"),
        ],
    };
    keibi_detect::text::set(&mut f, text);
    Some(f)
}

fn window_arg(w: Duration) -> keibi_model::text::Arg {
    let from = DateTime::<Utc>::UNIX_EPOCH;
    keibi_model::text::Arg::Span { from, to: from + w }
}

/// The stage on a thread of its own with its own store connection, as a single
/// `keibi run` runs it: a round every `every`, each round followed at once by the
/// next while more is waiting. (In worker mode the holder of the `_global` lease
/// calls [`GlobalStage::round`] instead.)
/// In `keibi run --worker`, the holder of the `_global` lease runs the stage; it
/// stops when the lease is lost. Two holders for a moment (a handover) count
/// nothing twice: each commit carries the stage's checkpoint.
impl crate::worker::Role for Running {
    fn stop(self: Box<Self>) {
        (*self).stop()
    }
}

pub struct Running {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: std::thread::JoinHandle<()>,
}

impl Running {
    pub fn start(
        mut store: Store,
        mut stage: GlobalStage,
        every: std::time::Duration,
        mut note: Box<dyn FnMut(Result<Round, StoreError>) + Send>,
    ) -> std::io::Result<Running> {
        use std::sync::atomic::{AtomicBool, Ordering};
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("keibi-global".into())
            .spawn(move || {
                let mut next = std::time::Instant::now() + every;
                while !flag.load(Ordering::Relaxed) {
                    if std::time::Instant::now() < next {
                        std::thread::sleep(std::time::Duration::from_millis(100).min(every));
                        continue;
                    }
                    let r = stage.round(&mut store, Utc::now());
                    let more = matches!(&r, Ok(r) if r.more);
                    note(r);
                    if !more {
                        next = std::time::Instant::now() + every;
                    }
                }
            })?;
        Ok(Running { stop, thread })
    }

    /// Stops after the round under way (if any).
    pub fn stop(self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let _ = self.thread.join();
    }
}

/// Rounds until nothing is waiting (`keibi run --once`, after the pass), at most
/// `max_rounds`; each round's outcome goes to `note`.
pub fn drain(
    store: &mut Store,
    stage: &mut GlobalStage,
    max_rounds: usize,
    note: &mut dyn FnMut(&Round),
) -> Result<(), StoreError> {
    for _ in 0..max_rounds {
        let r = stage.round(store, Utc::now())?;
        note(&r);
        if !r.more {
            break;
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "global_tests.rs"]
mod tests;
