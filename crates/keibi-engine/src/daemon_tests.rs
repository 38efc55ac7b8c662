//! Restarts of the loop over a real followed file and store.

use super::*;
use keibi_detect::detectors::login::SourceDetector;
use keibi_detect::{Config, ThreatLists};

/// Three hours of failed logins, one a minute, each from its own address (no
/// finding: none repeats), as PostgreSQL writes them.
fn log() -> String {
    (0..180)
        .map(|m| {
            format!(
                "2026-11-28 {:02}:{:02}:00 UTC:198.51.100.{}(40000):app@shop:[{}]:FATAL:  password authentication failed for user \"app\"\n",
                m / 60,
                m % 60,
                m % 250,
                1000 + m
            )
        })
        .collect()
}

/// Runs rounds until the file has been quiet long enough for its last entry to be
/// let out, then stops (committing); returns what the rounds did, summed.
fn run_until_quiet(p: &mut Pipeline) -> Round {
    let mut sum = Round::default();
    let start = Instant::now();
    let mut quiet_since = Instant::now();
    while start.elapsed() < Duration::from_secs(20) {
        let r = p.round(Instant::now(), &mut |_| {}).unwrap();
        sum.events += r.events;
        sum.replayed += r.replayed;
        sum.skipped += r.skipped;
        if r.events > 0 || r.replayed > 0 || r.reading {
            quiet_since = Instant::now();
        }
        if quiet_since.elapsed() > Duration::from_millis(1500) {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    sum
}

fn pipeline(settings: &Settings, store: &std::path::Path, bounded: bool) -> Pipeline {
    let config = Config::default();
    let scanner = if bounded {
        // The spray window (an hour) is its memory.
        let d: Vec<Box<dyn keibi_detect::Detector>> =
            vec![Box::new(SourceDetector::new(&config.login))];
        Scanner::with_detectors(config, ThreatLists::default(), d)
    } else {
        let rules = keibi_detect::sigma::RuleSet::builtin().compile(&config);
        Scanner::new(config, ThreatLists::default(), rules)
    };
    let store = Store::open(store).unwrap();
    Pipeline::new(settings, scanner, store, false, &mut |_| {}).unwrap()
}

/// A restart feeds again only the events within the detectors' longest memory
/// before the latest event committed; with a detector whose memory is unbounded
/// (the built-in set), every event before the checkpoint.
#[test]
fn a_restart_feeds_again_only_what_the_detectors_remember() {
    for bounded in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        let logs = dir.path().join("logs");
        std::fs::create_dir(&logs).unwrap();
        std::fs::write(logs.join("postgresql.log"), log()).unwrap();
        let store = dir.path().join("keibi.db");
        let settings = Settings::quick(&[logs.display().to_string()], Some(store.clone()));
        let mut first = pipeline(&settings, &store, bounded);
        let r = run_until_quiet(&mut first);
        assert_eq!((r.events, r.replayed), (180, 0));
        first.finish(false, &mut |_| {}).unwrap();
        // Restarted: the file is read again up to its checkpoint.
        let mut again = pipeline(&settings, &store, bounded);
        let r = run_until_quiet(&mut again);
        assert_eq!(r.events, 0, "nothing new");
        if bounded {
            // 02:59 was the latest: 01:59 to 02:59 are fed, the 119 before are not.
            assert_eq!((r.replayed, r.skipped), (61, 119));
        } else {
            assert_eq!((r.replayed, r.skipped), (180, 0));
        }
    }
}
