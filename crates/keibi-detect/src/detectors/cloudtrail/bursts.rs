//! Bursts counted per principal: AccessDeniedBurst (many APIs, or one sensitive API
//! many times) and snapshots deleted in bulk, in bounded memory.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use super::*;

/// Longest window a setting may ask for (ten years): a larger one means "forever"
/// and keeps time arithmetic in range.
const MAX_WINDOW_SECS: u64 = 315_576_000;

/// A window from a setting in seconds.
fn window_secs(s: u64) -> Duration {
    Duration::seconds(s.min(MAX_WINDOW_SECS) as i64)
}

/// `t + d`, saturating at the end of time (log timestamps are attacker-written and
/// chrono panics on overflow).
fn later(t: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    t.checked_add_signed(d).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Principals whose bursts are tracked at once; the least recently active are
/// forgotten first (an attacker cycling through principals cannot grow memory).
const MAX_PRINCIPALS: usize = 4096;
/// Entries kept per principal never exceed this, whatever the thresholds say.
const MAX_ENTRIES: usize = 1024;
/// A sensitive API refused many times is a burst on its own only when it was asked
/// for this many different things (instances, secrets, parameters): an application
/// missing one permission asks for the same one again and again.
const ONE_API_TARGETS: usize = 5;

/// Error codes that mean "you may not", across AWS services' spellings.
pub(super) fn is_denied(code: &str) -> bool {
    let c = code.strip_prefix("Client.").unwrap_or(code);
    matches!(
        c,
        "AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation" | "UnauthorizedAccess"
    )
}

/// APIs whose refusal, repeated, is a burst on its own: they hand out secrets (an
/// instance's Windows password, a secret, a SecureString, a console's output) or power
/// over IAM. An application lacking one of them fails a few times; a stolen key tried
/// against every instance or secret fails dozens of times.
fn is_sensitive(source: &str, name: &str) -> bool {
    match source {
        "ec2.amazonaws.com" => matches!(
            name,
            "GetPasswordData" | "GetConsoleOutput" | "GetConsoleScreenshot"
        ),
        "secretsmanager.amazonaws.com" => {
            matches!(name, "GetSecretValue" | "BatchGetSecretValue")
        }
        "ssm.amazonaws.com" => matches!(
            name,
            "GetParameter" | "GetParameters" | "GetParametersByPath"
        ),
        "iam.amazonaws.com" => matches!(
            name,
            "CreateAccessKey"
                | "CreateLoginProfile"
                | "UpdateLoginProfile"
                | "CreateUser"
                | "AttachUserPolicy"
                | "AttachRolePolicy"
                | "PutUserPolicy"
                | "PutRolePolicy"
                | "UpdateAssumeRolePolicy"
        ),
        "sts.amazonaws.com" => matches!(name, "GetFederationToken"),
        "rds.amazonaws.com" => matches!(
            name,
            "DownloadDBLogFilePortion" | "ModifyDBInstance" | "ModifyDBCluster"
        ),
        _ => false,
    }
}

/// One call remembered by a burst: enough to count it and to absorb it into the
/// finding later (time, address, evidence), without keeping the record.
pub(super) struct Entry {
    pub(super) time: DateTime<Utc>,
    api: Box<str>,
    pub(super) ip: Option<IpAddr>,
    file: Arc<str>,
    line: u64,
    event_id: Option<Box<str>>,
    app: Option<Box<str>>,
    /// What the call asked for (a hash of its request parameters), when counted.
    target: u64,
}

impl Entry {
    pub(super) fn of(ev: &Event, api: String) -> Entry {
        Entry {
            time: ev.time,
            api: api.into_boxed_str(),
            ip: ev.client_ip,
            file: ev.file.clone(),
            line: ev.line,
            event_id: ev
                .record
                .as_deref()
                .and_then(|r| str_at(r, &["eventID"]))
                .map(|s| Box::from(truncate(s.to_string(), 128))),
            // A user agent is the caller's to choose: bounded like every kept name.
            app: ev
                .application
                .as_deref()
                .map(|a| Box::from(truncate(a.to_string(), 256))),
            target: 0,
        }
    }

    /// This entry, remembering what the call asked for: its request parameters.
    fn asking(mut self, req: Option<&Value>) -> Entry {
        use std::hash::{Hash, Hasher};
        let mut h = std::hash::DefaultHasher::new();
        req.map(Value::to_string).unwrap_or_default().hash(&mut h);
        self.target = h.finish();
        self
    }

    /// A stand-in event carrying what [`Finding::absorb`] reads.
    pub(super) fn event(&self, user: &str) -> Event {
        let mut e = Event::new(
            self.time,
            SourceKind::Cloudtrail,
            self.file.clone(),
            self.line,
            Action::ApiCall,
        );
        e.client_ip = self.ip;
        e.user = Some(user.into());
        e.application = self.app.as_deref().map(Into::into);
        if let Some(id) = &self.event_id {
            e.record = Some(Box::new(serde_json::json!({ "eventID": id.as_ref() })));
        }
        e
    }
}

/// One principal's recent calls of one kind, and whether its finding is live.
#[derive(Default)]
struct Burst {
    entries: VecDeque<Entry>,
    /// Until when further calls join the raised finding without a new burst.
    live_until: Option<DateTime<Utc>>,
    touched: u64,
}

/// Bursts by principal, at most [`MAX_PRINCIPALS`].
#[derive(Default)]
pub(super) struct Bursts {
    map: HashMap<String, Burst>,
    tick: u64,
}

/// What [`Bursts::push`] decided.
enum Verdict {
    Nothing,
    /// The threshold was crossed: these calls make up the finding.
    Raise(Vec<Entry>),
    /// The finding is live: this call joins it.
    Join,
}

impl Bursts {
    /// Records one call by `who` and tells whether a finding starts or grows: at
    /// least `calls` calls over `apis` distinct APIs, or (`one_api`) that many calls
    /// of this call's API alone.
    fn push(
        &mut self,
        who: &str,
        entry: Entry,
        calls: u32,
        apis: u32,
        one_api: Option<u32>,
        window: Duration,
    ) -> Verdict {
        self.tick += 1;
        if !self.map.contains_key(who) && self.map.len() >= MAX_PRINCIPALS {
            self.evict();
        }
        let tick = self.tick;
        let b = self.map.entry(who.to_string()).or_default();
        b.touched = tick;
        let now = entry.time;
        if b.live_until.is_some_and(|t| now <= t) {
            b.live_until = Some(later(now, window));
            return Verdict::Join;
        }
        b.live_until = None;
        b.entries.push_back(entry);
        while b.entries.front().is_some_and(|e| now - e.time > window) {
            b.entries.pop_front();
        }
        let cap = (calls.max(apis).max(one_api.unwrap_or(0)) as usize)
            .saturating_mul(2)
            .clamp(16, MAX_ENTRIES);
        while b.entries.len() > cap {
            b.entries.pop_front();
        }
        let one = one_api.is_some_and(|n| {
            let api = b.entries.back().map(|e| &*e.api).unwrap_or_default();
            let same: Vec<&Entry> = b.entries.iter().filter(|e| &*e.api == api).collect();
            let targets: HashSet<u64> = same.iter().map(|e| e.target).collect();
            same.len() >= n.max(1) as usize && targets.len() >= ONE_API_TARGETS
        });
        if !one {
            if b.entries.len() < calls.max(1) as usize {
                return Verdict::Nothing;
            }
            let distinct: HashSet<&str> = b.entries.iter().map(|e| &*e.api).collect();
            if distinct.len() < apis.max(1) as usize {
                return Verdict::Nothing;
            }
        }
        b.live_until = Some(later(now, window));
        Verdict::Raise(b.entries.drain(..).collect())
    }

    /// Forgets the least recently active half.
    fn evict(&mut self) {
        let mut ticks: Vec<u64> = self.map.values().map(|b| b.touched).collect();
        ticks.sort_unstable();
        let cut = ticks[ticks.len() / 2];
        self.map.retain(|_, b| b.touched > cut);
    }
}

impl CloudTrail {
    /// Discovery:IAMUser/AccessDeniedBurst.
    pub(super) fn access_denied(&mut self, c: &Call<'_>, cx: &mut Context<'_>) {
        let cfg = &cx.config.cloudtrail;
        let window = window_secs(cfg.access_denied_window_secs);
        let api = format!("{}:{}", c.source.trim_end_matches(".amazonaws.com"), c.name);
        let entry = Entry::of(c.ev, truncate(api, 96)).asking(c.req(&[]));
        let one_api = is_sensitive(c.source, c.name).then_some(cfg.access_denied_one_api_calls);
        let verdict = self.denied.push(
            &c.who,
            entry,
            cfg.access_denied_calls,
            cfg.access_denied_apis,
            one_api,
            window,
        );
        let entries = match verdict {
            Verdict::Nothing => return,
            Verdict::Join => Vec::new(),
            Verdict::Raise(e) => e,
        };
        let mut names: Vec<String> = Vec::new();
        for e in &entries {
            if !names.iter().any(|n| **n == *e.api) {
                names.push(e.api.to_string());
            }
        }
        let (said, why) = if names.len() == 1 {
            ("ct-denied-one", "ct-denied-one-why")
        } else {
            ("ct-denied", "ct-denied-why")
        };
        let found = Found {
            finding_type: ACCESS_DENIED_BURST,
            severity: 5.0,
            resource_kind: "aws_account",
            resource_id: &c.account,
            mitre: &["T1580", "T1087"],
            title: Msg::new("ct-denied-title").arg("who", c.who.as_str()),
            description: vec![
                {
                    let m = Msg::new(said)
                        .arg("who", c.who.as_str())
                        .arg("calls", entries.len().max(1));
                    if names.len() == 1 {
                        m
                    } else {
                        m.arg("apis", names.len().max(1))
                    }
                }
                .arg("shown", text::values_arg(&names, false))
                .arg(
                    "secs",
                    cx.config.cloudtrail.access_denied_window_secs.to_string(),
                )
                .arg("origin", c.origin()),
                Msg::new(why),
            ],
            remediation: vec![Msg::new("ct-denied-ask"), Msg::new("ct-denied-stolen")],
        };
        self.raise_entries(cx, c, found, &entries);
    }

    /// ProtectionWeakened: snapshots deleted in bulk by one principal.
    pub(super) fn snapshot_deleted(&mut self, c: &Call<'_>, cx: &mut Context<'_>) {
        let cfg = &cx.config.cloudtrail;
        let window = window_secs(cfg.snapshot_delete_window_secs);
        let snap = c
            .req_str(&["dBSnapshotIdentifier"])
            .or_else(|| c.req_str(&["dBClusterSnapshotIdentifier"]))
            .unwrap_or("-");
        let entry = Entry::of(c.ev, truncate(snap.to_string(), 96));
        let verdict = self
            .deletes
            .push(&c.who, entry, cfg.snapshot_deletes, 1, None, window);
        let entries = match verdict {
            Verdict::Nothing => return,
            Verdict::Join => Vec::new(),
            Verdict::Raise(e) => e,
        };
        let names: Vec<String> = entries.iter().map(|e| e.api.to_string()).collect();
        let found = Found {
            finding_type: PROTECTION_WEAKENED,
            severity: 6.0,
            resource_kind: "aws_account",
            resource_id: &c.account,
            mitre: &["T1562", "T1490"],
            title: Msg::new("ct-deleted-title").arg("who", c.who.as_str()),
            description: vec![
                Msg::new("ct-deleted")
                    .arg("who", c.who.as_str())
                    .arg("n", names.len().max(1))
                    .arg("secs", cfg.snapshot_delete_window_secs.to_string())
                    .arg("shown", text::values_arg(&names, false))
                    .arg("origin", c.origin()),
                Msg::new("ct-deleted-why"),
            ],
            remediation: vec![Msg::new("ct-deleted-ask"), Msg::new("ct-deleted-protect")],
        };
        self.raise_entries(cx, c, found, &entries);
    }

    /// Raises a burst finding from its remembered calls, or adds the current call to
    /// the live one.
    fn raise_entries(
        &mut self,
        cx: &mut Context<'_>,
        c: &Call<'_>,
        found: Found<'_>,
        entries: &[Entry],
    ) {
        if entries.is_empty() {
            self.raise(cx, &c.who, found, &[c.ev]);
            return;
        }
        let evs: Vec<Event> = entries.iter().map(|e| e.event(&c.who)).collect();
        let refs: Vec<&Event> = evs.iter().collect();
        self.raise(cx, &c.who, found, &refs);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev() -> Event {
        let mut e = Event::new(
            DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default(),
            SourceKind::Cloudtrail,
            Arc::from("ct.json"),
            1,
            Action::ApiCall,
        );
        e.record = Some(Box::new(serde_json::json!({"eventID": "e-1"})));
        e
    }

    #[test]
    fn burst_memory_is_bounded() {
        let mut b = Bursts::default();
        let ev = ev();
        let window = Duration::seconds(600);
        for i in 0..(MAX_PRINCIPALS * 3) {
            let who = format!("arn:aws:sts::123456789012:assumed-role/r/session-{i}");
            let _ = b.push(
                &who,
                Entry::of(&ev, "iam:ListUsers".into()),
                20,
                5,
                None,
                window,
            );
            assert!(b.map.len() <= MAX_PRINCIPALS);
        }
        for _ in 0..5000 {
            let _ = b.push(
                "one",
                Entry::of(&ev, "iam:ListUsers".into()),
                20,
                5,
                Some(30),
                window,
            );
        }
        assert!(b.map["one"].entries.len() <= 60);
    }

    #[test]
    fn denied_codes_across_services() {
        for yes in [
            "AccessDenied",
            "AccessDeniedException",
            "Client.UnauthorizedOperation",
            "UnauthorizedOperation",
        ] {
            assert!(is_denied(yes), "{yes}");
        }
        for no in [
            "ThrottlingException",
            "DBInstanceNotFound",
            "Client.InvalidParameterValue",
            "",
        ] {
            assert!(!is_denied(no), "{no}");
        }
    }
}
