//! AWS console sign-ins (`signin.amazonaws.com` `ConsoleLogin`): failures from one
//! address or for one user are a brute force (CredentialAccess:IAMUser/ConsoleBruteForce);
//! a success from that address or for that user after them is a takeover
//! (ConsoleBruteForce.SuccessfulLogin), remembered so that what the principal does
//! next can make one story (`sequence.rs`).
//!
//! A failed sign-in names its user by `userName` (`root` for the root user, or
//! `HIDDEN_DUE_TO_SECURITY_REASONS` when the name does not exist: those count for
//! their address only). Memory is bounded: at most [`MAX_FAILURES`] failures across
//! all accounts are remembered, oldest first out.

use std::collections::VecDeque;

use chrono::{DateTime, Duration, Utc};

use super::bursts::Entry;
use super::*;

pub const CONSOLE_BRUTE_FORCE: &str = "CredentialAccess:IAMUser/ConsoleBruteForce";
pub const CONSOLE_TAKEOVER: &str = "CredentialAccess:IAMUser/ConsoleBruteForce.SuccessfulLogin";

/// Failed sign-ins remembered at once, across accounts.
const MAX_FAILURES: usize = 4096;
/// Live findings (a burst whose later failures still join it) remembered at once.
const MAX_LIVE: usize = 4096;

/// A brute force that tried root.
const ROOT_TRIED: f64 = 6.0;

/// What CloudTrail writes as the user name of a failed sign-in to a user that does
/// not exist.
const HIDDEN: &str = "HIDDEN_DUE_TO_SECURITY_REASONS";

struct Failure {
    entry: Entry,
    account: Box<str>,
    /// The user signed in as (`root` or an IAM user name), when the record names one.
    user: Option<Box<str>>,
}

/// What the console sign-ins keep.
#[derive(Default)]
pub(super) struct Console {
    failures: VecDeque<Failure>,
    /// Burst keys (account, `ip`/`user`, value) whose finding is live: later failures
    /// join it until this time.
    live: HashMap<String, DateTime<Utc>>,
}

/// `root`, or the IAM user's name from `userName` or its ARN; `None` for an unknown
/// name.
fn signin_user(rec: &Value) -> Option<String> {
    if str_at(rec, &["userIdentity", "type"]) == Some("Root") {
        return Some("root".into());
    }
    let name = str_at(rec, &["userIdentity", "userName"])
        .filter(|n| *n != HIDDEN)
        .or_else(|| {
            let arn = str_at(rec, &["userIdentity", "arn"])?;
            let (_, path) = arn.split_once(":user/")?;
            path.rsplit('/').next()
        })?;
    Some(truncate(name.to_string(), 64))
}

fn key(account: &str, what: &str, value: &str) -> String {
    format!("{account}\u{1f}{what}\u{1f}{value}")
}

fn window_of(secs: u64) -> Duration {
    Duration::seconds(secs.min(crate::config::MAX_WINDOW_SECS) as i64)
}

impl Console {
    fn prune(&mut self, now: DateTime<Utc>, window: Duration) {
        while self
            .failures
            .front()
            .is_some_and(|f| now - f.entry.time > window)
        {
            self.failures.pop_front();
        }
        while self.failures.len() >= MAX_FAILURES {
            self.failures.pop_front();
        }
        if self.live.len() >= MAX_LIVE {
            self.live.retain(|_, until| *until >= now);
            if self.live.len() >= MAX_LIVE {
                self.live.clear();
            }
        }
    }

    /// Failures in the window of `account` from `ip` / for `user`.
    fn counts(&self, account: &str, ip: Option<IpAddr>, user: Option<&str>) -> (usize, usize) {
        let mut by_ip = 0;
        let mut by_user = 0;
        for f in self.failures.iter().filter(|f| &*f.account == account) {
            if ip.is_some() && f.entry.ip == ip {
                by_ip += 1;
            }
            if user.is_some() && f.user.as_deref() == user {
                by_user += 1;
            }
        }
        (by_ip, by_user)
    }

    /// Whether `user` failed to sign in to `account` from `ip` in the window.
    fn failed_here(&self, account: &str, ip: Option<IpAddr>, user: Option<&str>) -> bool {
        ip.is_some()
            && user.is_some()
            && self
                .failures
                .iter()
                .any(|f| &*f.account == account && f.entry.ip == ip && f.user.as_deref() == user)
    }
}

impl CloudTrail {
    /// A `ConsoleLogin` record: a failure counts toward a brute force, a success
    /// after one is a takeover.
    pub(super) fn console_login(&mut self, c: &Call<'_>, cx: &mut Context<'_>) {
        match str_at(c.rec, &["responseElements", "ConsoleLogin"]) {
            Some("Failure") => self.console_failure(c, cx),
            Some("Success") => self.console_success(c, cx),
            _ => {}
        }
    }

    fn console_failure(&mut self, c: &Call<'_>, cx: &mut Context<'_>) {
        let cfg = &cx.config.cloudtrail;
        let window = window_of(cfg.console_window_secs);
        let needed = cfg.console_failures.max(1) as usize;
        let now = c.ev.time;
        let ip = c.ev.client_ip;
        let user = signin_user(c.rec);
        self.console.prune(now, window);
        self.console.failures.push_back(Failure {
            entry: Entry::of(c.ev, String::new()),
            account: c.account.as_str().into(),
            user: user.as_deref().map(Box::from),
        });
        let ip_key = ip.map(|i| key(&c.account, "ip", &i.to_string()));
        let user_key = user.as_deref().map(|u| key(&c.account, "user", u));
        // A live burst: this failure joins it.
        for k in [&ip_key, &user_key].into_iter().flatten() {
            if self.console.live.get(k).is_some_and(|t| now <= *t) {
                self.console.live.insert(k.clone(), later(now, window));
                let root = user.as_deref() == Some("root");
                let by_address = k.contains("\u{1f}ip\u{1f}");
                let found = self.brute_found(c, cx, ip, user.as_deref(), 0, by_address, root);
                // As the burst's other failures: named by sign-in name, not ARN.
                let ev = Entry::of(c.ev, String::new()).event(user.as_deref().unwrap_or(HIDDEN));
                let id = self.raise(cx, k, found, &[&ev]);
                // Root tried later in an address's burst raises it as root's.
                if let Some(f) = id.filter(|_| root).and_then(|id| cx.findings.get_mut(&id)) {
                    let sev = Severity::new(ROOT_TRIED);
                    if f.severity < sev {
                        f.severity = sev;
                    }
                }
                return;
            }
        }
        let (by_ip, by_user) = self.console.counts(&c.account, ip, user.as_deref());
        let (k, by_address) = match (&ip_key, &user_key) {
            (Some(k), _) if by_ip >= needed => (k.clone(), true),
            (_, Some(k)) if by_user >= needed => (k.clone(), false),
            _ => return,
        };
        let account = c.account.as_str();
        let evs: Vec<Event> = self
            .console
            .failures
            .iter()
            .filter(|f| &*f.account == account)
            .filter(|f| {
                if by_address {
                    f.entry.ip == ip
                } else {
                    f.user.as_deref() == user.as_deref()
                }
            })
            .map(|f| f.entry.event(f.user.as_deref().unwrap_or(HIDDEN)))
            .collect();
        self.console.live.insert(k.clone(), later(now, window));
        let n = evs.len();
        let root = evs.iter().any(|e| e.user.as_deref() == Some("root"));
        let found = self.brute_found(c, cx, ip, user.as_deref(), n, by_address, root);
        let refs: Vec<&Event> = evs.iter().collect();
        self.raise(cx, &k, found, &refs);
    }

    /// The brute-force finding's texts: by address (many users may be tried) or by
    /// user (many addresses may try); more severe when root is among those tried.
    #[allow(clippy::too_many_arguments)]
    fn brute_found<'a>(
        &self,
        c: &'a Call<'_>,
        cx: &Context<'_>,
        ip: Option<IpAddr>,
        user: Option<&str>,
        n: usize,
        by_address: bool,
        root: bool,
    ) -> Found<'a> {
        let cfg = &cx.config.cloudtrail;
        let ip = ip.map(|i| i.to_string()).unwrap_or_else(|| "-".into());
        let user = user.unwrap_or("-").to_string();
        let (title, said) = if by_address {
            (
                Msg::new("ct-console-bf-title-ip").arg("ip", ip.as_str()),
                Msg::new("ct-console-bf-ip").arg("ip", ip.as_str()),
            )
        } else {
            (
                Msg::new("ct-console-bf-title-user").arg("user", user.as_str()),
                Msg::new("ct-console-bf-user").arg("user", user.as_str()),
            )
        };
        Found {
            finding_type: CONSOLE_BRUTE_FORCE,
            severity: if root { ROOT_TRIED } else { 5.0 },
            resource_kind: "aws_account",
            resource_id: &c.account,
            mitre: &["T1110.001"],
            title: title.arg("account", c.account.as_str()),
            description: vec![
                said.arg("n", n.max(1))
                    .arg("min", (cfg.console_window_secs / 60).max(1))
                    .arg("account", c.account.as_str()),
                Msg::new("ct-console-bf-why"),
            ],
            remediation: vec![
                Msg::new("ct-console-bf-mfa"),
                Msg::new("ct-console-bf-watch"),
            ],
        }
    }

    fn console_success(&mut self, c: &Call<'_>, cx: &mut Context<'_>) {
        let cfg = &cx.config.cloudtrail;
        let window = window_of(cfg.console_window_secs);
        let needed = cfg.console_failures.max(1) as usize;
        let now = c.ev.time;
        self.console.prune(now, window);
        let ip = c.ev.client_ip;
        let user = signin_user(c.rec);
        let (by_ip, by_user) = self.console.counts(&c.account, ip, user.as_deref());
        // A takeover signs in from an address that failed as this very user; the
        // user's owner signing in from elsewhere after others failed as her is
        // worth a look, not a takeover.
        let here = self.console.failed_here(&c.account, ip, user.as_deref());
        let elsewhere = !here && by_user >= needed;
        if !elsewhere && (!here || (by_ip < needed && by_user < needed)) {
            return;
        }
        let failures = if elsewhere {
            by_user
        } else {
            by_ip.max(by_user)
        };
        let root = user.as_deref() == Some("root");
        let mfa = str_at(c.rec, &["additionalEventData", "MFAUsed"]) == Some("Yes");
        let ip_s = ip.map(|i| i.to_string()).unwrap_or_else(|| "-".into());
        let shown = user.clone().unwrap_or_else(|| c.who.clone());
        let found = Found {
            finding_type: CONSOLE_TAKEOVER,
            severity: match (elsewhere, root) {
                (true, _) => 5.0,
                (false, true) => 9.0,
                (false, false) => 8.0,
            },
            resource_kind: "aws_account",
            resource_id: &c.account,
            mitre: &["T1110.001", "T1078.004"],
            title: Msg::new("ct-console-takeover-title")
                .arg("user", shown.as_str())
                .arg("account", c.account.as_str())
                .arg("ip", ip_s.as_str()),
            description: vec![
                Msg::new("ct-console-takeover")
                    .arg("user", shown.as_str())
                    .arg("account", c.account.as_str())
                    .arg("n", failures)
                    .arg("min", (cfg.console_window_secs / 60).max(1))
                    .arg("origin", c.origin()),
                Msg::new(if elsewhere {
                    "ct-console-takeover-elsewhere"
                } else if mfa {
                    "ct-console-takeover-mfa"
                } else {
                    "ct-console-takeover-nomfa"
                }),
            ],
            remediation: vec![
                Msg::new(if root {
                    "ct-console-takeover-reset-root"
                } else {
                    "ct-console-takeover-reset"
                }),
                Msg::new("ct-console-takeover-review"),
            ],
        };
        let who = c.who.clone();
        if self.raise_up(cx, &who, found, &[c.ev]).is_some() && !elsewhere {
            let story = window_of(cx.config.cloudtrail.sequence_window_secs);
            self.sequence.taken_over(c, &who, failures, root, story);
        }
    }
}

/// `t + d`, saturating at the end of time.
fn later(t: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    t.checked_add_signed(d).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn remembered_failures_are_bounded() {
        let mut c = Console::default();
        let t0 = DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default();
        let window = Duration::seconds(1800);
        for i in 0..(MAX_FAILURES * 3) {
            let mut ev = Event::new(
                t0 + Duration::milliseconds(i as i64),
                SourceKind::Cloudtrail,
                Arc::from("ct.json"),
                1,
                Action::ApiCall,
            );
            ev.client_ip = Some(IpAddr::from([10, (i >> 16) as u8, (i >> 8) as u8, i as u8]));
            c.prune(ev.time, window);
            c.failures.push_back(Failure {
                entry: Entry::of(&ev, String::new()),
                account: "123456789012".into(),
                user: Some(format!("u{i}").into()),
            });
            c.live
                .insert(key("123456789012", "ip", &i.to_string()), ev.time + window);
            assert!(c.failures.len() <= MAX_FAILURES);
            assert!(c.live.len() <= MAX_LIVE + 1);
        }
    }
}
