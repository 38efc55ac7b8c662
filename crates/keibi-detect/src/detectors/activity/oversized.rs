//! DefenseEvasion:RDS/OversizedStatement: a client sent a statement so long that log
//! readers cut it.
//!
//! Padding a statement with megabytes of comment or whitespace (`SELECT 1 /* 2 MB */;
//! DROP TABLE orders`) is how an attacker hides its end from tools that read a bounded
//! line (keibi reads only the first and last 512 KiB of a line over 1 MiB) or truncate
//! what they log (MariaDB's server_audit keeps `server_audit_query_log_limit` bytes,
//! 1024 by default). Whatever the statement did, its size is a reason to look.
//!
//! Size is the statement's length as logged: the text's own length, or for a statement
//! read from an oversized line (`Event::oversized`) the text plus the bytes the cut
//! marker says were left out. Ordinary large statements stay under the default
//! threshold, `oversized_statement_bytes` (1 MiB): a migration's bulk INSERT of a few
//! hundred KB, and mysqldump's extended INSERTs, which it cuts at `net_buffer_length`
//! (1,046,528 bytes by default). pg_dump loads data with COPY, one row a line.
//!
//! One finding per instance and actor (user, else client); its count grows with every
//! oversized statement. State: per finding the largest size and the end of its
//! statement, at most `max_tracked_actors` findings described.

use std::collections::HashMap;

use keibi_model::cut::uncut_len;
use keibi_model::{Event, Finding, FindingText, Msg, Severity};

use super::actor_of;
use crate::config::ActivityConfig;
use crate::detector::{db_resource, Context, Detector};
use crate::findings::Raise;
use keibi_model::{ActionKind, FindingSpec};

const ID: &str = "activity-oversized-statement";
const TYPE: &str = "DefenseEvasion:RDS/OversizedStatement";

/// Characters of a statement's end quoted in the description.
const QUOTED_END: usize = 120;

/// The finding type this detector raises, for the catalog.
pub(crate) fn specs() -> Vec<FindingSpec> {
    vec![FindingSpec::new(
        TYPE,
        5.0,
        &["T1027"],
        "Oversized statement",
        "Read the statement's end quoted in the finding: if it is not your application's, end the user's sessions, lock it and rotate its password.",
        &[ActionKind::EndSessions, ActionKind::LockRole],
    )]
}

/// What a finding's texts are written from.
struct Stats {
    instance: String,
    actor: String,
    largest: u64,
    /// The end of the largest statement: what follows the padding.
    end: String,
    cut: bool,
}

/// DefenseEvasion:RDS/OversizedStatement (see the module docs).
pub struct OversizedStatement {
    cfg: ActivityConfig,
    stats: HashMap<String, Stats>,
}

impl OversizedStatement {
    pub fn new(cfg: &ActivityConfig) -> Self {
        OversizedStatement {
            cfg: cfg.clone(),
            stats: HashMap::new(),
        }
    }
}

/// The statement's length as logged: for one read from an oversized line, what was
/// read plus what the cut marker says was left out.
pub fn statement_len(ev: &Event, text: &str) -> u64 {
    let read = text.len() as u64;
    match ev.oversized {
        Some(_) => uncut_len(text).unwrap_or(read),
        None => read,
    }
}

impl Detector for OversizedStatement {
    /// Each statement is judged alone.
    fn replay_horizon(&self) -> Option<chrono::Duration> {
        Some(chrono::Duration::zero())
    }

    fn id(&self) -> &'static str {
        ID
    }

    fn catalog(&self) -> Vec<crate::catalog::Entry> {
        crate::catalog::Entry::of_detector(self.id(), specs())
    }

    fn observe(&mut self, ev: &Event, cx: &mut Context<'_>) {
        // Failed statements count too: padding works whether or not the end ran.
        let Some(st) = ev.statement.as_deref() else {
            return;
        };
        if ev.action != keibi_model::Action::Statement {
            return;
        }
        // Cheap test first: this runs for every statement.
        let min = self.cfg.oversized_statement_bytes.max(1);
        if ev.oversized.is_none() && (st.text.len() as u64) < min {
            return;
        }
        let size = statement_len(ev, &st.text);
        if size < min {
            return;
        }
        // `ignore_users` (RDS's own account) only as the log proves it, as for the other
        // activity detectors: a role named `rdsadmin@x` is anybody.
        if super::ignored(ev, &self.cfg) {
            return;
        }
        let instance = ev.instance.as_deref().unwrap_or("unknown").to_string();
        let actor = actor_of(ev);
        let f = cx.findings.raise(Raise {
            detector: ID,
            finding_type: TYPE,
            key: &[&instance, &actor],
            severity: Severity::new(5.0),
            resource: db_resource(ev),
            time: ev.time,
        });
        f.absorb(ev);
        if !self.stats.contains_key(&f.id) && self.stats.len() >= self.cfg.max_tracked_actors.max(1)
        {
            return;
        }
        let s = self.stats.entry(f.id.clone()).or_insert_with(|| Stats {
            instance,
            actor,
            largest: 0,
            end: String::new(),
            cut: false,
        });
        if size > s.largest {
            s.largest = size;
            s.end = quoted_end(&st.text);
            s.cut = ev.oversized.is_some();
        }
        write_texts(f, s);
    }
}

/// The last [`QUOTED_END`] characters of `text`, on one line.
fn quoted_end(text: &str) -> String {
    let start = text
        .char_indices()
        .rev()
        .nth(QUOTED_END - 1)
        .map_or(0, |(i, _)| i);
    let end: Vec<&str> = text[start..].split_whitespace().collect();
    let prefix = if start > 0 { "…" } else { "" };
    format!("{prefix}{}", end.join(" "))
}

/// `2.1 MB`, `1,048,576 bytes` for a person.
fn size_text(n: u64) -> String {
    format!("{:.1} MB", n as f64 / 1_000_000.0)
}

fn write_texts(f: &mut Finding, s: &Stats) {
    let title = Msg::new("over-title")
        .arg("instance", &s.instance)
        .arg("actor", &s.actor)
        .arg("size", size_text(s.largest));
    let many = if f.count > 1 {
        Msg::new("over-many").arg("count", f.count)
    } else {
        Msg::new("nothing")
    };
    let how = Msg::new(if s.cut { "over-cut" } else { "over-whole" });
    let description = vec![
        Msg::new("over-sent")
            .arg("actor", &s.actor)
            .arg("instance", &s.instance)
            .arg("bytes", s.largest)
            .arg("many", many)
            .arg("how", how),
        Msg::new("over-why"),
        Msg::new("over-ends").arg("end", &s.end),
    ];
    let remediation = vec![
        Msg::new("over-read"),
        super::engine_msg("over-compromised", f).arg("actor", &s.actor),
        Msg::new("over-limit"),
    ];
    crate::text::set(
        f,
        FindingText {
            title: Some(title),
            description,
            remediation,
        },
    );
    f.mitre = vec!["T1027".to_string()];
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use keibi_model::cut::cut_marker;
    use keibi_model::{Action, SourceKind, Statement};

    use super::*;
    use crate::config::Config;
    use crate::findings::Findings;
    use crate::iplist::ThreatLists;

    fn ev(text: String, oversized: Option<u64>) -> Event {
        let mut e = Event::new(
            "2026-12-01T10:00:00Z".parse().unwrap(),
            SourceKind::PostgresStderr,
            Arc::from("pg.log"),
            7,
            Action::Statement,
        );
        e.user = Some("app".into());
        e.client_ip = Some("203.0.113.9".parse().unwrap());
        e.instance = Some("orders-db".into());
        e.oversized = oversized;
        e.statement = Some(Box::new(Statement::from_sql(text)));
        e
    }

    fn run(events: &[Event], cfg: &Config) -> Vec<Finding> {
        let lists = ThreatLists::default();
        let mut findings = Findings::default();
        let mut d = OversizedStatement::new(&cfg.activity);
        let services = crate::Services::default();
        let instances = Default::default();
        for e in events {
            let mut cx = Context {
                config: cfg,
                lists: &lists,
                services: &services,
                findings: &mut findings,
                enriched: Default::default(),
                instances: &instances,
            };
            d.observe(e, &mut cx);
        }
        findings.into_sorted()
    }

    /// What keibi-parse hands on for a statement padded with `pad` bytes.
    fn cut_statement(pad: u64) -> String {
        let marker = cut_marker(pad);
        format!("SELECT 1 /* xxxx{marker}xxxx */; DROP TABLE orders")
    }

    #[test]
    fn a_cut_statement_is_raised_with_its_end() {
        let text = cut_statement(2_000_000);
        let size = text.len() as u64 - cut_marker(2_000_000).len() as u64 + 2_000_000;
        let e = ev(text, Some(2_000_100));
        assert_eq!(statement_len(&e, &e.statement.as_ref().unwrap().text), size);
        let fs = run(&[e], &Config::default());
        assert_eq!(fs.len(), 1);
        let f = &fs[0];
        assert_eq!(f.finding_type, TYPE);
        assert_eq!(f.severity.value(), 5.0);
        assert_eq!(f.mitre, vec!["T1027"]);
        assert_eq!(f.count, 1);
        let bytes = crate::text::thousands(size);
        assert!(f.description.contains(&bytes), "{bytes}: {}", f.description);
        assert!(
            f.description.ends_with("DROP TABLE orders"),
            "{}",
            f.description
        );
        assert!(
            f.description.contains("first and last 512 KiB"),
            "{}",
            f.description
        );
        assert!(
            f.title.contains("orders-db") && f.title.contains("app"),
            "{}",
            f.title
        );
        assert_eq!(f.actor.ip, Some("203.0.113.9".parse().unwrap()));
    }

    /// A migration's bulk INSERT of a few hundred KB, a mysqldump INSERT just under the
    /// threshold, and a statement that only *claims* a cut (no `oversized` flag) raise
    /// nothing.
    #[test]
    fn large_ordinary_statements_are_not_raised() {
        let bulk = format!("INSERT INTO t VALUES {}", "(1,'abc'),".repeat(40_000));
        assert!(bulk.len() > 300_000);
        let dump = format!("INSERT INTO t VALUES {}", "x".repeat(1_046_528 - 21));
        let fake = cut_statement(50_000_000);
        let fs = run(
            &[ev(bulk, None), ev(dump, None), ev(fake, None)],
            &Config::default(),
        );
        assert!(fs.is_empty(), "{fs:#?}");
    }

    /// The threshold is a setting: lowered, a 300 KB statement read whole counts; and
    /// repeats by the same actor grow one finding.
    #[test]
    fn the_threshold_is_configurable_and_repeats_aggregate() {
        let mut cfg = Config::default();
        cfg.activity.oversized_statement_bytes = 256 * 1024;
        let big = format!("SELECT 1 /* {} */; DROP TABLE orders", " ".repeat(300_000));
        let fs = run(&[ev(big.clone(), None), ev(big, None)], &cfg);
        assert_eq!(fs.len(), 1);
        assert_eq!(fs[0].count, 2);
        assert!(
            fs[0].description.contains("read whole"),
            "{}",
            fs[0].description
        );
    }
}
