//! The scan loop: every event goes through the Sigma rules and every stateful
//! detector once, in time order; at the end the findings come out sorted.

use keibi_model::{Action, Event, Finding};

use crate::config::Config;
use crate::detector::{Context, Detector};
use crate::findings::Findings;
use crate::iplist::ThreatLists;
use crate::sigma::SigmaDetector;

/// One scan: rules, detectors, lists and the findings so far.
pub struct Scanner {
    config: Config,
    lists: ThreatLists,
    detectors: Vec<Box<dyn Detector>>,
    findings: Findings,
    events: u64,
}

/// What a scan produced.
#[derive(Debug)]
pub struct ScanReport {
    /// Most severe first (see [`Findings::into_sorted`]).
    pub findings: Vec<Finding>,
    /// Events read.
    pub events: u64,
    /// Login and connection events from trusted addresses, which raise nothing.
    pub trusted_events: u64,
    /// New findings not kept because the store was full ([`crate::findings::MAX_FINDINGS`]).
    pub dropped_findings: u64,
}

impl Scanner {
    /// A scanner running compiled Sigma `rules` ([`crate::sigma::RuleSet::compile`]) and the built-in
    /// stateful detectors.
    pub fn new(config: Config, lists: ThreatLists, rules: SigmaDetector) -> Scanner {
        let mut detectors = crate::detectors::builtin(&config);
        detectors.insert(0, Box::new(rules));
        Scanner::with_detectors(config, lists, detectors)
    }

    /// A scanner with exactly these detectors (tests, benchmarks).
    pub fn with_detectors(
        config: Config,
        lists: ThreatLists,
        detectors: Vec<Box<dyn Detector>>,
    ) -> Scanner {
        Scanner {
            config,
            lists,
            detectors,
            findings: Findings::default(),
            events: 0,
        }
    }

    /// Feeds one event to every detector.
    pub fn observe(&mut self, ev: &Event) {
        self.events += 1;
        let mut cx = Context {
            config: &self.config,
            lists: &self.lists,
            findings: &mut self.findings,
        };
        if is_login_or_network(ev.action) && cx.is_trusted(ev) {
            cx.findings.note_trusted();
        }
        for d in &mut self.detectors {
            d.observe(ev, &mut cx);
        }
    }

    /// Findings so far (a daemon reads these between events).
    pub fn findings(&self) -> &Findings {
        &self.findings
    }

    /// Ends the scan: detectors flush and write final texts.
    pub fn finish(mut self) -> ScanReport {
        let mut cx = Context {
            config: &self.config,
            lists: &self.lists,
            findings: &mut self.findings,
        };
        for d in &mut self.detectors {
            d.finish(&mut cx);
        }
        let trusted_events = self.findings.trusted_events();
        let dropped_findings = self.findings.dropped();
        ScanReport {
            findings: self.findings.into_sorted(),
            events: self.events,
            trusted_events,
            dropped_findings,
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
