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
fn run_until_quiet(p: &mut Live) -> Round {
    let mut sum = Round::default();
    let mut quiet_since = Instant::now();
    loop {
        let r = p.round(Instant::now(), &mut |_| {}).unwrap();
        sum.events += r.events;
        sum.replayed += r.replayed;
        sum.skipped += r.skipped;
        sum.changes += r.changes;
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

fn pipeline(settings: &Settings, store: &std::path::Path, bounded: bool) -> Live {
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
    Live::new(settings, scanner, store, false, &mut |_| {}).unwrap()
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

/// Failed logins one a minute from addresses that never repeat, for three hours,
/// and a brute force (30 failures from one address, one every ten seconds from
/// 02:50), in time order: (time as `HH:MM:SS`, line).
fn brute_force_log() -> Vec<(String, String)> {
    let mut v = Vec::new();
    for m in 0..180 {
        let t = format!("{:02}:{:02}:00", m / 60, m % 60);
        v.push((
            t.clone(),
            format!("2026-11-28 {t} UTC:198.51.100.{}(40000):app@shop:[{}]:FATAL:  password authentication failed for user \"app\"\n", m % 250, 1000 + m),
        ));
    }
    for k in 0..30 {
        let s = 50 * 60 + k * 10;
        let t = format!("02:{:02}:{:02}", s / 60, s % 60);
        v.push((
            t.clone(),
            format!("2026-11-28 {t} UTC:203.0.113.9(5{k:04}):app@shop:[{}]:FATAL:  password authentication failed for user \"app\"\n", 5000 + k),
        ));
    }
    v.sort();
    v
}

/// Every stored finding: type, count, first and last seen, by id.
fn stored(
    store: &std::path::Path,
) -> std::collections::BTreeMap<String, (String, u64, String, String)> {
    use keibi_store::Query;
    let s = Store::open_read_only(store).unwrap();
    let q = Query {
        statuses: keibi_store::Status::ALL.to_vec(),
        ..Query::default()
    };
    s.findings(&q)
        .unwrap()
        .into_iter()
        .map(|f| {
            let f = f.finding;
            (
                f.id,
                (
                    f.finding_type,
                    f.count,
                    f.first_seen.to_rfc3339(),
                    f.last_seen.to_rfc3339(),
                ),
            )
        })
        .collect()
}

/// Cut by a restart in the middle of a brute force, a daemon whose detectors
/// remember an hour feeds again only the last hour before the cut (not the two
/// before), and the store ends with what one uninterrupted run stores: the brute
/// force's window, open at the cut, is rebuilt from what is fed again.
#[test]
fn a_bounded_restart_inside_a_window_stores_what_one_run_stores() {
    let lines = brute_force_log();
    let text = |l: &[(String, String)]| l.iter().map(|(_, l)| l.as_str()).collect::<String>();
    let cut = lines
        .iter()
        .position(|(t, _)| t.as_str() >= "02:53:00")
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    // One run over everything.
    let whole = dir.path().join("whole/logs");
    std::fs::create_dir_all(&whole).unwrap();
    std::fs::write(whole.join("postgresql.log"), text(&lines)).unwrap();
    let one = dir.path().join("one.db");
    let settings = Settings::quick(&[whole.display().to_string()], Some(one.clone()));
    let mut p = pipeline(&settings, &one, true);
    run_until_quiet(&mut p);
    p.finish(true, &mut |_| {}).unwrap();
    let want = stored(&one);
    assert!(
        want.values()
            .any(|(t, n, ..)| t == "CredentialAccess:RDS/BruteForce" && *n >= 20),
        "{want:?}"
    );
    // The same, stopped at 02:53 without a last commit (as by a kill after the
    // round's commit), the rest appended, restarted.
    let logs = dir.path().join("cut/logs");
    std::fs::create_dir_all(&logs).unwrap();
    std::fs::write(logs.join("postgresql.log"), text(&lines[..cut])).unwrap();
    let store = dir.path().join("cut.db");
    let settings = Settings::quick(&[logs.display().to_string()], Some(store.clone()));
    let mut p = pipeline(&settings, &store, true);
    run_until_quiet(&mut p);
    drop(p);
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(logs.join("postgresql.log"))
        .unwrap();
    std::io::Write::write_all(&mut f, text(&lines[cut..]).as_bytes()).unwrap();
    let mut p = pipeline(&settings, &store, true);
    let r = run_until_quiet(&mut p);
    p.finish(true, &mut |_| {}).unwrap();
    assert!(r.skipped >= 110 && r.replayed > 0, "{r:?}");
    assert_eq!(stored(&store), want);
}

/// Two followed paths, A a brute force from 02:50:00 to 02:54:50 and B a failure
/// at 02:53:30 (and one its parser holds): the first round lets out A's failures up
/// to 02:53:30 only (B has reached no further), 22, enough for a brute force, and
/// commits it. Stopped there without another commit (as
/// by a SIGKILL) and restarted, the daemon counts A's failures after them only: the
/// checkpoint committed for A's file is the one right after its last event fed,
/// not the poll's end (which waited while the changes did not).
#[test]
fn a_poll_let_out_in_part_is_committed_with_the_checkpoint_of_that_part() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a/shop"), dir.path().join("b/other"));
    std::fs::create_dir_all(&a).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    let burst: String = brute_force_log()
        .into_iter()
        .filter(|(t, _)| t.as_str() >= "02:50:00" && t.as_str() < "02:55:00")
        .filter(|(_, l)| l.contains("203.0.113.9"))
        .map(|(_, l)| l)
        .collect();
    assert_eq!(burst.lines().count(), 30);
    std::fs::write(a.join("postgresql.log"), &burst).unwrap();
    std::fs::write(
        b.join("postgresql.log"),
        // The second is held by the parser (a DETAIL may follow) until B is quiet.
        "2026-11-28 02:53:30 UTC:198.51.100.7(40000):app@shop:[900]:FATAL:  password authentication failed for user \"app\"\n\
         2026-11-28 02:53:35 UTC:198.51.100.8(40000):app@shop:[901]:FATAL:  password authentication failed for user \"app\"\n",
    )
    .unwrap();
    let paths = [
        dir.path().join("a").display().to_string(),
        dir.path().join("b").display().to_string(),
    ];
    // One run over everything.
    let one = dir.path().join("one.db");
    let mut p = pipeline(&Settings::quick(&paths, Some(one.clone())), &one, false);
    run_until_quiet(&mut p);
    p.finish(true, &mut |_| {}).unwrap();
    let want = stored(&one);
    assert!(
        want.values()
            .any(|(t, n, ..)| t == "CredentialAccess:RDS/BruteForce" && *n == 30),
        "{want:?}"
    );
    // One round, cut there.
    let store = dir.path().join("cut.db");
    let settings = Settings::quick(&paths, Some(store.clone()));
    let mut p = pipeline(&settings, &store, false);
    let r = p.round(Instant::now(), &mut |_| {}).unwrap();
    // A's 22 failures up to 02:53:30 and B's one; A's 8 later ones held.
    assert_eq!((r.events, r.changes), (23, 1), "{r:?}");
    drop(p);
    let mut p = pipeline(&settings, &store, false);
    let r = run_until_quiet(&mut p);
    assert_eq!((r.replayed, r.events), (23, 9), "{r:?}");
    p.finish(true, &mut |_| {}).unwrap();
    assert_eq!(stored(&store), want);
}

/// What a restart costs on a followed file of `KEIBI_RESTART_MB` (200 by default)
/// megabytes of PostgreSQL logins and statements over a day: the time from the new
/// pipeline to caught up, with the built-in detectors (every event fed again: one
/// of them has unbounded memory) and with detectors whose memory is an hour, with
/// and without the bound. Not a timed test:
/// `cargo test --release -p keibi-engine -- --ignored restart_cost --nocapture`.
#[test]
#[ignore]
fn restart_cost() {
    use std::io::Write;
    let mb: usize = std::env::var("KEIBI_RESTART_MB")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    let path = logs.join("postgresql.log");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let mut written = 0;
    let mut i: u64 = 0;
    let start = chrono::DateTime::parse_from_rfc3339("2026-11-28T00:00:00Z").unwrap();
    // About 1.2 million lines; a day of event time.
    let lines_total = (mb << 20) / 160;
    while written < mb << 20 {
        let t =
            start + chrono::TimeDelta::milliseconds((i * 86_400_000 / lines_total as u64) as i64);
        let ts = t.format("%Y-%m-%d %H:%M:%S%.3f UTC");
        let pid = 1000 + i / 4;
        let ip = format!("10.0.{}.{}", (i / 4) % 200, (i / 800) % 250);
        let line = match i % 4 {
            0 => format!("{ts}:{ip}(40000):[unknown]@[unknown]:[{pid}]:LOG:  connection received: host={ip} port=40000\n"),
            1 => format!("{ts}:{ip}(40000):app@shop:[{pid}]:LOG:  connection authorized: user=app database=shop application_name=PostgreSQL JDBC Driver\n"),
            2 => format!("{ts}:{ip}(40000):app@shop:[{pid}]:LOG:  AUDIT: SESSION,1,1,READ,SELECT,,,SELECT id, status FROM orders WHERE customer_id = $1,<not logged>\n"),
            _ => format!("{ts}:{ip}(40000):app@shop:[{pid}]:LOG:  disconnection: session time: 0:00:00.200 user=app database=shop host={ip} port=40000\n"),
        };
        f.write_all(line.as_bytes()).unwrap();
        written += line.len();
        i += 1;
    }
    f.flush().unwrap();
    drop(f);
    eprintln!("{} MB, {i} lines", written >> 20);
    for (what, bounded, bound) in [
        ("built-in detectors (unbounded)", false, true),
        ("an hour's memory, bound off", true, false),
        ("an hour's memory, bound on", true, true),
    ] {
        let store = dir.path().join(format!("{bounded}{bound}.db"));
        let settings = Settings::quick(&[logs.display().to_string()], Some(store.clone()));
        let t = Instant::now();
        let mut first = pipeline(&settings, &store, bounded);
        run_until_quiet(&mut first);
        first.finish(false, &mut |_| {}).unwrap();
        let cold = t.elapsed();
        let t = Instant::now();
        let mut again = pipeline(&settings, &store, bounded);
        if !bound {
            again.replay_from = None;
        }
        let r = run_until_quiet(&mut again);
        // The quiet wait (1.5 s) is not restart work.
        let warm = t.elapsed().saturating_sub(Duration::from_millis(1500));
        eprintln!(
            "{what}: first read {:.1} s; restart {:.1} s ({} events fed again, {} not, {} new)",
            cold.as_secs_f64() - 1.5,
            warm.as_secs_f64(),
            r.replayed,
            r.skipped,
            r.events
        );
    }
}
