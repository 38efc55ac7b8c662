//! The scan loop: every event goes through the Sigma rules and every stateful
//! detector once, in time order; at the end the findings come out sorted.
//!
//! **Live.** [`Scanner::observe_batch`] feeds a batch, advances the detectors to the
//! batch's last event time (the watermark: windows ending before it close), renders
//! the texts of what was touched and returns what changed ([`FindingChange`]: new,
//! grew, severity raised, closed). A finding is closed when the watermark is past its
//! `last_seen` plus its detector's [`Detector::quiet_after`] (every finding when
//! [`Scanner::advance`] gets `MAX_UTC`). With [`Scanner::forget_closed`], a closed
//! finding leaves memory once reported; an event with its key later raises it anew,
//! same id, reported as `New`, and the consumer (the store) adds it up. `keibi scan`
//! feeds everything and calls [`Scanner::finish`], which gives the same findings.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use keibi_model::{Action, ActionKind, Event, Finding, FindingChange};

use std::sync::Arc;

use crate::catalog::Entry;
use crate::config::Config;
use crate::detector::{Context, Detector, Enriched, Learning};
use crate::detectors::login::Instances;
use crate::findings::{Findings, Rollup, Stored};
use crate::iplist::Reputation;
use crate::services::Services;
use crate::sigma::SigmaDetector;

/// One scan: rules, detectors, lists and the findings so far.
pub struct Scanner {
    config: Arc<Config>,
    services: Services,
    detectors: Vec<Box<dyn Detector>>,
    findings: Findings,
    events: u64,
    /// Whether this scanner counts events from trusted addresses (one lane of a
    /// split scan does, so they are counted once).
    counts_trusted: bool,
    /// Latest event time seen (live scans).
    watermark: Option<DateTime<Utc>>,
    forget_closed: bool,
    /// Database instances seen and where their logs end, for every detector.
    instances: Instances,
    /// What the detectors declare, worked out once: they never change in a scan.
    declared: Arc<Declared>,
}

/// What a scanner's detectors declare: each one's quiet time and the suggested
/// action kinds of each (detector, type) of their catalogs.
#[derive(Debug, Default)]
struct Declared {
    quiet: HashMap<&'static str, Option<Duration>>,
    /// The longest replay horizon, `None` when some detector's is unbounded.
    horizon: Option<Duration>,
    actions: HashMap<String, HashMap<String, Vec<ActionKind>>>,
}

impl Declared {
    fn of(detectors: &[Box<dyn Detector>]) -> Declared {
        let mut d = Declared {
            horizon: Some(Duration::zero()),
            ..Declared::default()
        };
        for det in detectors {
            d.quiet.insert(det.id(), det.quiet_after());
            d.horizon = match (d.horizon, det.replay_horizon()) {
                (Some(a), Some(b)) => Some(a.max(b).max(det.quiet_after().unwrap_or(b))),
                _ => None,
            };
            for e in det.catalog() {
                d.actions
                    .entry(e.source)
                    .or_default()
                    .insert(e.spec.finding_type, e.spec.suggested_actions);
            }
        }
        d
    }

    fn quiet_after(&self, detector: &str) -> Option<Duration> {
        self.quiet.get(detector).copied().flatten()
    }

    /// Fills a finding's suggested actions from the kinds its catalog entry declares
    /// and its actor and resource as they stand.
    fn fill_actions(&self, f: &mut Finding) {
        let kinds = self
            .actions
            .get(f.detector.as_str())
            .and_then(|m| m.get(f.finding_type.as_str()));
        if let Some(k) = kinds {
            crate::catalog::fill(f, k);
        }
    }
}

/// What a scan produced.
#[derive(Debug)]
pub struct ScanReport {
    /// Most severe first (see [`crate::findings::sort`]), roll-up findings among them.
    pub findings: Vec<Finding>,
    /// What each roll-up finding in `findings` stands for (by its id).
    pub rollups: Vec<Rollup>,
    /// Events read.
    pub events: u64,
    /// Login and connection events from trusted addresses, which raise nothing.
    pub trusted_events: u64,
    /// New findings neither kept nor rolled up (more than
    /// [`crate::findings::MAX_ROLLUPS`] detector-and-type pairs overflowed).
    pub dropped_findings: u64,
}

impl ScanReport {
    /// Joins the reports of a scanner's lanes ([`Scanner::into_lanes`]), with one
    /// store's guarantees: at most [`crate::findings::MAX_FINDINGS`] findings one by
    /// one, the most severe, the rest rolled up (see [`crate::findings`]).
    pub fn merge(reports: impl IntoIterator<Item = ScanReport>) -> ScanReport {
        Self::merge_capped(reports, crate::findings::MAX_FINDINGS)
    }

    /// [`ScanReport::merge`] with another bound (tests).
    pub fn merge_capped(reports: impl IntoIterator<Item = ScanReport>, cap: usize) -> ScanReport {
        let mut events = 0;
        let stores: Vec<Stored> = reports
            .into_iter()
            .map(|r| {
                // Every lane saw every event.
                events = events.max(r.events);
                Stored {
                    findings: r.findings,
                    rollups: r.rollups,
                    dropped: r.dropped_findings,
                    trusted_events: r.trusted_events,
                }
            })
            .collect();
        let all = crate::findings::merge(stores, cap);
        ScanReport {
            findings: all.findings,
            rollups: all.rollups,
            events,
            trusted_events: all.trusted_events,
            dropped_findings: all.dropped,
        }
    }

    /// Findings folded into roll-ups.
    pub fn rolled_up(&self) -> u64 {
        self.rollups.iter().map(|r| r.findings).sum()
    }
}

impl Scanner {
    /// A scanner running compiled Sigma `rules` ([`crate::sigma::RuleSet::compile`]) and the built-in
    /// stateful detectors, with these services (or just lists: `ThreatLists` converts).
    pub fn new(config: Config, services: impl Into<Services>, rules: SigmaDetector) -> Scanner {
        let mut detectors = crate::detectors::builtin(&config);
        detectors.insert(0, Box::new(rules));
        Scanner::with_detectors(config, services, detectors)
    }

    /// A scanner with exactly these detectors (tests, benchmarks).
    pub fn with_detectors(
        config: Config,
        services: impl Into<Services>,
        detectors: Vec<Box<dyn Detector>>,
    ) -> Scanner {
        Scanner {
            config: Arc::new(config),
            services: services.into(),
            declared: Arc::new(Declared::of(&detectors)),
            detectors,
            findings: Findings::default(),
            events: 0,
            counts_trusted: true,
            watermark: None,
            forget_closed: false,
            instances: Instances::default(),
        }
    }

    /// How far back from the latest event time any detector's memory reaches (the
    /// longest [`Detector::replay_horizon`], each at least its quiet time); `None`
    /// when some detector's is unbounded. Events older than the latest event seen
    /// minus this cannot change what a later event raises: a restarted daemon need
    /// not feed them again.
    pub fn replay_horizon(&self) -> Option<Duration> {
        self.declared.horizon
    }

    /// Keeps at most `cap` findings one by one instead of
    /// [`crate::findings::MAX_FINDINGS`] (tests of floods); call before the first event.
    pub fn with_findings_cap(mut self, cap: usize) -> Scanner {
        if self.events == 0 {
            self.findings = Findings::with_cap(cap);
        }
        self
    }

    /// Splits a scanner that has not started into lanes that each see every event
    /// and can run on threads of their own: the first detector (the Sigma rules, for
    /// [`Scanner::new`]) in one, the stateful detectors in the other. Each lane keeps
    /// its own findings; [`ScanReport::merge`] joins their reports into what one
    /// scanner would have reported. No detector reads another's findings.
    pub fn into_lanes(mut self) -> Vec<Scanner> {
        if self.detectors.len() < 2 || self.events > 0 {
            return vec![self];
        }
        let rest = self.detectors.split_off(1);
        let other = Scanner {
            config: self.config.clone(),
            services: self.services.clone(),
            detectors: rest,
            findings: Findings::with_cap(self.findings.cap()),
            events: 0,
            counts_trusted: false,
            watermark: None,
            forget_closed: self.forget_closed,
            instances: Instances::default(),
            declared: self.declared.clone(),
        };
        vec![self, other]
    }

    /// Feeds one event to every detector, enriched once (reputation, trust, its
    /// instance's log end). Login and connection events from trusted addresses are
    /// counted here and reach only detectors that ask for them
    /// ([`Detector::sees_trusted_logins`]): no other can raise a finding on them.
    /// The others may still learn from them ([`Detector::learn_trusted`]), through a
    /// context that cannot raise anything.
    pub fn observe(&mut self, ev: &Event) {
        self.events += 1;
        self.instances.see(ev);
        let lists: &crate::iplist::ThreatLists = &self.services.lists;
        let reputation = match ev.client_ip {
            Some(ip) => lists.reputation(ip),
            None => Reputation::Unlisted,
        };
        let trusted = matches!(reputation, Reputation::Trusted { .. });
        let login_or_network = is_login_or_network(ev.action);
        let mut cx = Context {
            config: &self.config,
            lists,
            services: &self.services,
            findings: &mut self.findings,
            enriched: Enriched {
                ip: ev.client_ip,
                reputation,
                trusted,
                login_or_network,
            },
            instances: &self.instances,
        };
        let withheld = trusted && login_or_network;
        if withheld && self.counts_trusted {
            cx.findings.note_trusted();
        }
        for d in &mut self.detectors {
            if withheld && !d.sees_trusted_logins() {
                d.learn_trusted(
                    ev,
                    &Learning {
                        config: cx.config,
                        services: cx.services,
                    },
                );
                continue;
            }
            d.observe(ev, &mut cx);
        }
    }

    /// Every finding type this scanner's detectors and rules can raise.
    pub fn catalog(&self) -> Vec<Entry> {
        self.detectors.iter().flat_map(|d| d.catalog()).collect()
    }

    /// The services detectors use (lists, profiles, lookups).
    pub fn services(&self) -> &Services {
        &self.services
    }

    /// Replaces the services between batches (a daemon's reload of its lists or
    /// lookups): the next event is judged with the new ones. Each lane of a split
    /// scanner is given them on its own.
    pub fn set_services(&mut self, services: Services) {
        self.services = services;
    }

    /// Closed findings leave memory once reported by [`Scanner::observe_batch`] or
    /// [`Scanner::advance`] (a daemon; see the module documentation).
    pub fn forget_closed(mut self, forget: bool) -> Scanner {
        self.forget_closed = forget;
        self
    }

    /// Feeds a batch of events (in time order, after those fed before), advances the
    /// detectors to the latest event time seen and returns what changed.
    pub fn observe_batch(&mut self, events: &[Event]) -> Vec<FindingChange> {
        for ev in events {
            self.observe(ev);
            self.watermark = Some(self.watermark.map_or(ev.time, |w| w.max(ev.time)));
        }
        match self.watermark {
            Some(w) => self.advance(w),
            None => Vec::new(),
        }
    }

    /// Event time has reached `watermark` (`MAX_UTC`: the input ended): detectors
    /// close their windows before it and render what was touched; returns what
    /// changed since the last call.
    pub fn advance(&mut self, watermark: DateTime<Utc>) -> Vec<FindingChange> {
        let end = watermark == DateTime::<Utc>::MAX_UTC;
        self.findings.set_render_all(end);
        let declared = &self.declared;
        let quiet_after = |detector: &str| declared.quiet_after(detector);
        let mut cx = Context {
            config: &self.config,
            lists: &self.services.lists,
            services: &self.services,
            findings: &mut self.findings,
            enriched: Enriched::default(),
            instances: &self.instances,
        };
        for d in &mut self.detectors {
            d.advance(watermark, &mut cx);
        }
        cx.findings.touch_closing(watermark, &quiet_after);
        for d in &mut self.detectors {
            d.render(&mut cx);
        }
        let mut changes = self
            .findings
            .changes(watermark, &quiet_after, self.forget_closed);
        self.findings.set_render_all(true);
        if !changes.is_empty() {
            // The same actions `finish` suggests, on every snapshot handed out: a
            // daemon stores and notifies these, never the final scan's.
            for c in &mut changes {
                self.declared.fill_actions(&mut c.finding);
            }
        }
        changes
    }

    /// Findings so far (a daemon reads these between events).
    pub fn findings(&self) -> &Findings {
        &self.findings
    }

    /// Ends the scan: detectors flush and write final texts.
    pub fn finish(mut self) -> ScanReport {
        let mut cx = Context {
            config: &self.config,
            lists: &self.services.lists,
            services: &self.services,
            findings: &mut self.findings,
            enriched: Enriched::default(),
            instances: &self.instances,
        };
        for d in &mut self.detectors {
            d.finish(&mut cx);
        }
        let mut stored = self.findings.finish();
        // Once, at the end: an aggregating finding's addresses and users are only
        // final then.
        for f in &mut stored.findings {
            self.declared.fill_actions(f);
        }
        ScanReport {
            findings: stored.findings,
            rollups: stored.rollups,
            events: self.events,
            trusted_events: stored.trusted_events,
            dropped_findings: stored.dropped,
        }
    }
}

/// Actions that login and network findings are made of.
pub fn is_login_or_network(a: Action) -> bool {
    matches!(
        a,
        Action::ConnectionReceived | Action::LoginSuccess | Action::LoginFailure | Action::Probe
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::iplist::ThreatLists;
    use crate::sigma::RuleSet;
    use crate::testutil::events;

    /// A brute force that succeeds, then an escalation: findings from the Sigma
    /// rules and from the stateful detectors, with trusted traffic beside it.
    fn log() -> String {
        let mut s = String::new();
        for i in 0..25 {
            s.push_str(&format!(
                "2026-11-28 03:00:{i:02} UTC:203.0.113.9(4{i:04}):app@shop:[{}]:FATAL:  password authentication failed for user \"app\"\n",
                100 + i
            ));
        }
        s.push_str("2026-11-28 03:01:00 UTC:203.0.113.9(50000):app@shop:[200]:LOG:  connection authorized: user=app database=shop\n");
        s.push_str("2026-11-28 03:01:05 UTC:203.0.113.9(50000):app@shop:[200]:LOG:  AUDIT: SESSION,1,1,ROLE,ALTER ROLE,,,ALTER ROLE app SUPERUSER,<not logged>\n");
        s.push_str("2026-11-28 03:02:00 UTC:10.0.0.5(50001):app@shop:[201]:FATAL:  password authentication failed for user \"app\"\n");
        s
    }

    fn scanner(config: &Config, lists: ThreatLists) -> Scanner {
        let sigma = RuleSet::builtin().compile(config);
        Scanner::new(config.clone(), lists, sigma)
    }

    #[test]
    fn lanes_report_what_one_scanner_reports() {
        let evs = events("postgresql.log", "db1", &log());
        let config = Config::default();
        let lists = || ThreatLists {
            trusted: crate::iplist::IpSet::new(vec![crate::iplist::IpList::parse(
                "office",
                b"10.0.0.0/8\n",
            )
            .unwrap()]),
            ..ThreatLists::default()
        };

        let mut one = scanner(&config, lists());
        for e in &evs {
            one.observe(e);
        }
        let one = one.finish();

        let mut lanes = scanner(&config, lists()).into_lanes();
        assert_eq!(lanes.len(), 2);
        for lane in &mut lanes {
            for e in &evs {
                lane.observe(e);
            }
        }
        let joined = ScanReport::merge(lanes.into_iter().map(Scanner::finish));

        let types: Vec<&str> = one
            .findings
            .iter()
            .map(|f| f.finding_type.as_str())
            .collect();
        assert!(
            types.contains(&"CredentialAccess:RDS/AnomalousBehavior.SuccessfulBruteForce"),
            "{types:?}"
        );
        assert!(
            types.contains(&"PrivilegeEscalation:RDS/RoleElevated"),
            "{types:?}"
        );
        let ids = |r: &ScanReport| r.findings.iter().map(|f| f.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&joined), ids(&one));
        assert_eq!(joined.events, one.events);
        assert_eq!((joined.trusted_events, one.trusted_events), (1, 1));
        assert_eq!(joined.dropped_findings, 0);
    }

    #[test]
    fn lanes_keep_the_flood_guarantee_a_ransom_note_after_a_full_store_is_reported() {
        let mut s = String::new();
        for a in 0..120 {
            for k in 0..4 {
                s.push_str(&format!(
                    "2026-11-28 03:{:02}:{:02} UTC:45.10.{a}.7(4{k}{a:03}):postgres@postgres:[{}]:FATAL:  password authentication failed for user \"postgres\"\n",
                    a / 60,
                    a % 60,
                    1000 + a * 4 + k
                ));
            }
        }
        for (i, t) in ["customers", "orders", "payments"].iter().enumerate() {
            s.push_str(&format!("2026-11-28 04:00:0{i} UTC:45.148.10.81(53300):postgres@shop:[31800]:LOG:  AUDIT: SESSION,{},1,DDL,DROP TABLE,TABLE,public.{t},DROP TABLE IF EXISTS {t} CASCADE;,<not logged>\n", i + 1));
        }
        s.push_str("2026-11-28 04:00:05 UTC:45.148.10.81(53300):postgres@shop:[31800]:LOG:  AUDIT: SESSION,4,1,DDL,CREATE TABLE,TABLE,public.readme_to_recover,CREATE TABLE readme_to_recover (text_field text);,<not logged>\n");
        s.push_str("2026-11-28 04:00:06 UTC:45.148.10.81(53300):postgres@shop:[31800]:LOG:  AUDIT: SESSION,5,1,WRITE,INSERT,TABLE,public.readme_to_recover,\"INSERT INTO readme_to_recover (text_field) VALUES ('All your data is backed up. To recover your lost data, pay 0.01 BTC to 1BoatSLRHtKNngkdXEeobR76b53LETtpyT');\",<not logged>\n");
        let evs = events("postgresql.log", "db1", &s);
        let config = Config::default();
        let mut lanes = scanner(&config, ThreatLists::default())
            .with_findings_cap(50)
            .into_lanes();
        assert_eq!(lanes.len(), 2);
        for lane in &mut lanes {
            for e in &evs {
                lane.observe(e);
            }
        }
        let reports: Vec<ScanReport> = lanes.into_iter().map(Scanner::finish).collect();
        let joined = ScanReport::merge_capped(reports, 50);
        let ransom = joined
            .findings
            .iter()
            .find(|f| f.finding_type == "Impact:RDS/RansomNote")
            .expect("the ransom note is kept");
        assert!(ransom.severity.value() >= 9.0);
        assert_eq!(joined.dropped_findings, 0);
        assert!(joined.rolled_up() > 0);
        let kept = joined.findings.len() - joined.rollups.len();
        assert!(kept <= 50, "{kept}");
        let bf: u64 = joined
            .findings
            .iter()
            .filter(|f| f.finding_type == "CredentialAccess:RDS/BruteForce")
            .map(|f| f.count)
            .sum();
        assert_eq!(bf, 480, "every failure counted, kept or rolled up");
    }

    /// The horizon is the longest any detector declares (each at least its quiet
    /// time), and unbounded as soon as one detector's memory is.
    #[test]
    fn the_replay_horizon_is_the_longest_and_unbounded_wins() {
        use crate::detectors::{activity, cloudtrail, login};
        let config = Config::default();
        let bounded = |extra: Vec<Box<dyn Detector>>| {
            let mut d: Vec<Box<dyn Detector>> = vec![
                Box::new(login::SourceDetector::new(&config.login)),
                Box::new(login::ReputationDetector::new(&config.login)),
                Box::new(cloudtrail::CloudTrail::new(&config)),
                Box::new(activity::OversizedStatement::new(&config.activity)),
            ];
            d.extend(extra);
            Scanner::with_detectors(config.clone(), ThreatLists::default(), d)
        };
        // CloudTrail's console takeover story is the longest of these: failures over
        // 30 minutes, then an hour of IAM changes (the spray window is an hour).
        assert_eq!(
            bounded(vec![]).replay_horizon(),
            Some(Duration::minutes(90))
        );
        let ransom: Vec<Box<dyn Detector>> = vec![Box::new(activity::RansomNote::new(
            &Config {
                activity: crate::config::ActivityConfig {
                    ransom_lookback_secs: 7200,
                    ..config.activity.clone()
                },
                ..config.clone()
            }
            .activity,
        ))];
        assert_eq!(bounded(ransom).replay_horizon(), Some(Duration::hours(2)));
        let enumeration: Vec<Box<dyn Detector>> =
            vec![Box::new(activity::SchemaEnumeration::new(&config.activity))];
        assert_eq!(bounded(enumeration).replay_horizon(), None);
        // The built-in set keeps an actor's first catalog read for as long as it runs.
        let all = Scanner::new(
            config.clone(),
            ThreatLists::default(),
            RuleSet::builtin().compile(&config),
        );
        assert_eq!(all.replay_horizon(), None);
        // Sigma: detection rules judge each event alone, a correlation remembers its
        // timespan, a session window has no bound.
        let sigma = |yaml: &str| {
            let mut set = RuleSet::default();
            set.add_source("r.yml", yaml);
            assert!(set.problems().is_empty(), "{:?}", set.problems());
            bounded(vec![Box::new(set.compile(&config))]).replay_horizon()
        };
        let rule = "title: statement\nname: any-statement\nlogsource:\n  product: postgresql\ndetection:\n  sel:\n    action: statement\n  condition: sel\nkeibi:\n  type: Test:RDS/One\n  title: one\n";
        assert_eq!(sigma(rule), Some(Duration::minutes(90)));
        let corr = |extra: &str| {
            format!("title: statement\nname: any-statement\nlogsource:\n  product: postgresql\ndetection:\n  sel:\n    action: statement\n  condition: sel\n---\ntitle: Many\nname: many\ncorrelation:\n  type: event_count\n  rules: [any-statement]\n  group-by: [user]\n  timespan: 3h\n{extra}  condition:\n    gte: 2\nlevel: medium\nkeibi:\n  type: Test:RDS/Many\n  title: many\n")
        };
        assert_eq!(sigma(&corr("")), Some(Duration::hours(3)));
        assert_eq!(sigma(&corr("  window: session\n  gap: 5m\n")), None);
    }
}

#[cfg(test)]
mod live_tests;
