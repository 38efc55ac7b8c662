//! Real files in temporary directories, real time; generous timeouts, no timing
//! assertions. Each event is a failed login of a user named after its number, so a
//! test can say which lines were read, and how often.

use std::fs::OpenOptions;
use std::io::Write;
use std::thread;

use keibi_model::Event;

use super::*;

/// A PostgreSQL failed login (RDS prefix) of user `u{i}`, with a DETAIL continuation
/// when `detail` (a multi-line entry the parser holds back).
fn entry(i: u32, detail: bool) -> String {
    let t = format!(
        "2026-11-28 {:02}:{:02}:{:02} UTC",
        10 + i / 3600,
        (i / 60) % 60,
        i % 60
    );
    let mut s = format!(
        "{t}:192.0.2.7({}):u{i}@shop:[{}]:FATAL:  28P01: password authentication failed for user \"u{i}\"\n",
        40000 + i,
        8000 + i
    );
    if detail {
        s += &format!(
            "{t}:192.0.2.7({}):u{i}@shop:[{}]:DETAIL:  Connection matched pg_hba.conf line 87: \"host all all 0.0.0.0/0 scram-sha-256\"\n",
            40000 + i,
            8000 + i
        );
    }
    s
}

fn entries(range: std::ops::Range<u32>) -> String {
    range.map(|i| entry(i, i.is_multiple_of(3))).collect()
}

fn append(path: &Path, text: &str) {
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

fn fast() -> FollowOptions {
    FollowOptions {
        discover: Duration::from_millis(50),
        flush_after: Duration::from_millis(150),
        linger: Duration::from_millis(300),
        ..FollowOptions::default()
    }
}

fn follow(patterns: &[&Path], opts: FollowOptions, cps: Vec<Checkpoint>) -> FollowSource {
    let p: Vec<String> = patterns
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    FollowSource::new(&p, opts, cps).unwrap()
}

/// What a test collected from a source.
#[derive(Default)]
struct Seen {
    events: Vec<Event>,
    checkpoints: HashMap<Fingerprint, Checkpoint>,
    notices: Vec<Notice>,
}

impl Seen {
    fn users(&self) -> Vec<u32> {
        let mut v: Vec<u32> = self
            .events
            .iter()
            .map(|e| e.user.as_deref().unwrap()[1..].parse().unwrap())
            .collect();
        v.sort_unstable();
        v
    }
}

/// Polls until `n` events were read (20 s at most), then half a second more to catch
/// anything read twice.
fn read_until(src: &mut FollowSource, seen: &mut Seen, n: usize) {
    let start = Instant::now();
    while seen.events.len() < n && start.elapsed() < Duration::from_secs(20) {
        poll_once(src, seen);
    }
    let settle = Instant::now();
    while settle.elapsed() < Duration::from_millis(500) {
        poll_once(src, seen);
    }
}

fn poll_once(src: &mut FollowSource, seen: &mut Seen) {
    let p = src.poll(Instant::now());
    seen.events.extend(p.events);
    seen.notices.extend(p.notices);
    for c in p.checkpoints {
        seen.checkpoints.insert(c.fingerprint, c);
    }
    if p.state != SourceState::Reading {
        thread::sleep(Duration::from_millis(20));
    }
}

fn range(r: std::ops::Range<u32>) -> Vec<u32> {
    r.collect()
}

#[test]
fn appended_lines_are_read_with_their_line_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("postgresql.log");
    append(&log, &entries(0..10));
    let mut src = follow(&[&log], fast(), vec![]);
    let mut seen = Seen::default();
    read_until(&mut src, &mut seen, 10);
    assert_eq!(seen.users(), range(0..10));
    // A partial line waits for its newline.
    let more = entries(10..20);
    let (a, b) = more.split_at(more.len() - 30);
    append(&log, a);
    read_until(&mut src, &mut seen, 19);
    assert_eq!(seen.users(), range(0..19));
    append(&log, b);
    read_until(&mut src, &mut seen, 20);
    assert_eq!(seen.users(), range(0..20));
    // Line numbers are the file's: entry 19 starts on the line after all before it.
    let lines_before = entries(0..19).lines().count() as u64;
    let last = seen
        .events
        .iter()
        .find(|e| e.user.as_deref() == Some("u19"))
        .unwrap();
    assert_eq!(last.line, lines_before + 1);
    assert!(seen
        .events
        .iter()
        .all(|e| e.file.ends_with("postgresql.log")));
    assert_eq!(src.stats().opened, 1);
}

#[test]
fn rotation_by_rename_reads_the_old_file_to_its_end_and_the_new_from_its_start() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("postgresql.log");
    let mut writer = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log)
        .unwrap();
    writer.write_all(entries(0..10).as_bytes()).unwrap();
    let opts = FollowOptions {
        linger: Duration::from_secs(3),
        ..fast()
    };
    let mut src = follow(&[&log], opts, vec![]);
    let mut seen = Seen::default();
    read_until(&mut src, &mut seen, 10);
    // Rotate: the writer still has the old file open and writes to it, as a server
    // does until it reopens its log.
    fs::rename(&log, dir.path().join("postgresql.log.1")).unwrap();
    writer.write_all(entries(10..15).as_bytes()).unwrap();
    append(&log, &entries(15..25));
    read_until(&mut src, &mut seen, 25);
    writer.write_all(entries(25..27).as_bytes()).unwrap();
    read_until(&mut src, &mut seen, 27);
    assert_eq!(seen.users(), range(0..27));
    assert_eq!(src.stats().moved, 1);
    // The old file lingered, then was finished and closed.
    assert_eq!(src.open_files().len(), 2);
    thread::sleep(Duration::from_millis(3200));
    poll_once(&mut src, &mut seen);
    assert_eq!(src.open_files(), vec![log.clone()]);
    assert!(seen.checkpoints.values().any(|c| c.done));
}

#[test]
fn copytruncate_loses_nothing_when_the_copy_is_followed() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("postgresql.log");
    append(&log, &entries(0..10));
    let mut src = follow(&[dir.path()], fast(), vec![]);
    let mut seen = Seen::default();
    read_until(&mut src, &mut seen, 10);
    // Written after the last poll and before the rotation: only the copy has them.
    append(&log, &entries(10..15));
    fs::copy(&log, dir.path().join("postgresql.log.1")).unwrap();
    OpenOptions::new()
        .write(true)
        .open(&log)
        .unwrap()
        .set_len(0)
        .unwrap();
    append(&log, &entries(15..20));
    read_until(&mut src, &mut seen, 20);
    assert_eq!(seen.users(), range(0..20));
    assert_eq!(src.stats().truncated, 1);
}

#[test]
fn copytruncate_of_a_named_file_starts_again_at_zero() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("postgresql.log");
    append(&log, &entries(0..10));
    let mut src = follow(&[&log], fast(), vec![]);
    let mut seen = Seen::default();
    read_until(&mut src, &mut seen, 10);
    OpenOptions::new()
        .write(true)
        .open(&log)
        .unwrap()
        .set_len(0)
        .unwrap();
    // More than was there before: a size check alone would not see the truncation.
    append(&log, &entries(10..40));
    read_until(&mut src, &mut seen, 40);
    assert_eq!(seen.users(), range(0..40));
    let first_new = seen
        .events
        .iter()
        .find(|e| e.user.as_deref() == Some("u10"))
        .unwrap();
    assert_eq!(
        first_new.line, 1,
        "line numbers start again with the content"
    );
}

#[test]
fn a_truncation_overwritten_past_the_old_size_is_seen_between_directory_walks() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("postgresql.log");
    append(&log, &entries(0..10));
    let opts = FollowOptions {
        discover: Duration::from_secs(3600),
        ..fast()
    };
    let mut src = follow(&[dir.path()], opts, vec![]);
    let mut seen = Seen::default();
    read_until(&mut src, &mut seen, 10);
    OpenOptions::new()
        .write(true)
        .open(&log)
        .unwrap()
        .set_len(0)
        .unwrap();
    append(&log, &entries(10..40));
    read_until(&mut src, &mut seen, 40);
    assert_eq!(seen.users(), range(0..40));
    assert_eq!(src.stats().truncated, 1);
}

#[test]
fn restart_from_checkpoints_gives_exactly_the_rest_even_mid_entry() {
    let all = entries(0..30);
    let lines: Vec<&str> = all.split_inclusive('\n').collect();
    // Uninterrupted, to compare with.
    let dir = tempfile::tempdir().unwrap();
    let whole_log = dir.path().join("whole").join("postgresql.log");
    fs::create_dir(whole_log.parent().unwrap()).unwrap();
    append(&whole_log, &all);
    let mut whole = Seen::default();
    read_until(&mut follow(&[&whole_log], fast(), vec![]), &mut whole, 30);
    let key = |e: &Event| (e.user.clone(), e.line, e.detail.clone(), e.time);
    let want: Vec<_> = whole.events.iter().map(key).collect();
    assert_eq!(want.len(), 30);

    // Stopped at several points: after an entry whose DETAIL is not written yet, in
    // the middle of a line, and at entry boundaries.
    for stop in [1usize, 5, 7, 11, 20, lines.len() - 1] {
        let log = dir.path().join(format!("s{stop}")).join("postgresql.log");
        fs::create_dir(log.parent().unwrap()).unwrap();
        let head: String = lines[..stop].concat();
        append(&log, &head);
        append(&log, &lines[stop][..10]);
        let opts = FollowOptions {
            // No idle flush: the held entry is still held when the daemon dies.
            flush_after: Duration::from_secs(3600),
            ..fast()
        };
        let mut first = follow(&[&log], opts.clone(), vec![]);
        let mut seen = Seen::default();
        for _ in 0..10 {
            poll_once(&mut first, &mut seen);
        }
        drop(first); // killed: only what was handed out with its checkpoints counts
        append(&log, &lines[stop][10..]);
        append(&log, &lines[stop + 1..].concat());
        let cps: Vec<Checkpoint> = seen.checkpoints.values().cloned().collect();
        assert_eq!(cps.len(), 1);
        let mut second = follow(&[&log], fast(), cps);
        read_until(&mut second, &mut seen, 30);
        let got: Vec<_> = seen.events.iter().map(key).collect();
        assert_eq!(got, want, "stopped after {stop} lines");
    }
}

#[test]
fn a_glob_picks_up_new_files_and_only_those_it_matches() {
    let dir = tempfile::tempdir().unwrap();
    append(&dir.path().join("a.log"), &entries(0..5));
    let glob = dir.path().join("*.log");
    let mut src = follow(&[&glob], fast(), vec![]);
    let mut seen = Seen::default();
    read_until(&mut src, &mut seen, 5);
    append(&dir.path().join("b.log"), &entries(5..10));
    append(&dir.path().join("c.txt"), &entries(10..15));
    // `*` stays within its directory, as in a shell.
    fs::create_dir(dir.path().join("sub")).unwrap();
    append(&dir.path().join("sub/d.log"), &entries(15..20));
    read_until(&mut src, &mut seen, 10);
    assert_eq!(seen.users(), range(0..10));
    let deep = dir.path().join("**/*.log");
    let mut all = Seen::default();
    read_until(&mut follow(&[&deep], fast(), vec![]), &mut all, 15);
    let mut want = range(0..10);
    want.extend(15..20);
    assert_eq!(all.users(), want);
}

fn gzip(from: &Path, to: &Path) {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&fs::read(from).unwrap()).unwrap();
    fs::write(to, gz.finish().unwrap()).unwrap();
}

#[test]
fn a_compressed_rotated_file_already_read_is_not_read_again() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("postgresql.log");
    append(&log, &entries(0..10));
    let mut src = follow(&[dir.path()], fast(), vec![]);
    let mut seen = Seen::default();
    read_until(&mut src, &mut seen, 10);
    // logrotate: rename, new file, compress the old one.
    let old = dir.path().join("postgresql.log.1");
    fs::rename(&log, &old).unwrap();
    append(&log, &entries(10..15));
    gzip(&old, &dir.path().join("postgresql.log.1.gz"));
    fs::remove_file(&old).unwrap();
    // And a compressed file never seen before is read once, whole.
    let other = dir.path().join("other.log");
    fs::write(&other, entries(100..105)).unwrap();
    gzip(&other, &dir.path().join("other.log.gz"));
    fs::remove_file(&other).unwrap();
    read_until(&mut src, &mut seen, 20);
    let mut want = range(0..15);
    want.extend(100..105);
    assert_eq!(seen.users(), want);
    assert!(src.stats().duplicates >= 1);
}

#[test]
fn a_file_compressed_while_stopped_resumes_from_its_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("postgresql.log");
    append(&log, &entries(0..10));
    let mut seen = Seen::default();
    read_until(&mut follow(&[dir.path()], fast(), vec![]), &mut seen, 10);
    let cps: Vec<Checkpoint> = seen.checkpoints.values().cloned().collect();
    // While keibi was stopped: more lines, then rotated and compressed.
    append(&log, &entries(10..15));
    gzip(&log, &dir.path().join("postgresql.log.1.gz"));
    fs::remove_file(&log).unwrap();
    let mut src = follow(&[dir.path()], fast(), cps);
    read_until(&mut src, &mut seen, 15);
    assert_eq!(seen.users(), range(0..15));
}

#[test]
fn a_short_new_file_is_read_once_it_has_a_line_and_its_fingerprint_lengthened() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("postgresql.log");
    let one = entry(1, false);
    append(&log, &one[..20]);
    let mut src = follow(&[dir.path()], fast(), vec![]);
    let mut seen = Seen::default();
    read_until(&mut src, &mut seen, 0);
    assert!(seen.events.is_empty());
    append(&log, &one[20..]);
    read_until(&mut src, &mut seen, 1);
    append(&log, &entries(2..12));
    read_until(&mut src, &mut seen, 11);
    assert_eq!(seen.users(), range(1..12));
    // The fingerprint taken on the short file was lengthened.
    let fp = seen.checkpoints.keys().max_by_key(|f| f.len).unwrap();
    assert!(!fp.is_short());
}

/// A small deterministic generator (xorshift), so a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// The source-level half of "nothing lost, nothing doubled": a log is appended to
/// (lines split mid-way, multi-line entries), rotated by rename (half the rotated
/// files then compressed) and by copytruncate, while the follower is killed after a
/// random number of polls and restarted from the checkpoints it handed out, 100
/// times. Every entry must be read exactly once, whole.
#[test]
fn killed_and_restarted_100_times_across_rotations_reads_every_entry_once() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("postgresql.log");
    // Another seed to replay or explore: KEIBI_FOLLOW_SEED=n.
    let seed = std::env::var("KEIBI_FOLLOW_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x9e37_79b9_7f4a_7c15);
    let mut rng = Rng(seed);
    let mut next = 0u32;
    let mut carry = String::new(); // the rest of a line written in part
    let mut seen = Seen::default();
    let opts = FollowOptions {
        // A killed follower must not have flushed an entry whose DETAIL comes later.
        flush_after: Duration::from_secs(3600),
        ..fast()
    };
    for round in 0..100 {
        let mut text = std::mem::take(&mut carry);
        for _ in 0..1 + rng.below(4) {
            text += &entry(next, next.is_multiple_of(3));
            next += 1;
        }
        if rng.below(3) == 0 {
            let cut = 1 + rng.below(text.len() as u64 - 1) as usize;
            carry = text.split_off(cut);
        }
        append(&log, &text);
        match rng.below(20) {
            0 | 1 => {
                append(&log, &std::mem::take(&mut carry));
                let rotated = dir.path().join(format!("postgresql.log.r{round}"));
                fs::rename(&log, &rotated).unwrap();
                if rng.below(2) == 0 {
                    gzip(
                        &rotated,
                        &dir.path().join(format!("postgresql.log.r{round}.gz")),
                    );
                    fs::remove_file(&rotated).unwrap();
                }
            }
            2 => {
                append(&log, &std::mem::take(&mut carry));
                fs::copy(&log, dir.path().join(format!("postgresql.log.c{round}"))).unwrap();
                OpenOptions::new()
                    .write(true)
                    .open(&log)
                    .unwrap()
                    .set_len(0)
                    .unwrap();
            }
            _ => {}
        }
        let cps: Vec<Checkpoint> = seen.checkpoints.values().cloned().collect();
        let mut src = follow(&[dir.path()], opts.clone(), cps);
        for _ in 0..rng.below(4) {
            poll_once(&mut src, &mut seen);
        }
        // Killed: nothing more is handed out.
    }
    append(&log, &carry);
    let cps: Vec<Checkpoint> = seen.checkpoints.values().cloned().collect();
    let mut src = follow(&[dir.path()], fast(), cps);
    read_until(&mut src, &mut seen, next as usize);
    let got = seen.users();
    let missing: Vec<u32> = (0..next)
        .filter(|i| got.binary_search(i).is_err())
        .collect();
    let doubled: Vec<u32> = got
        .windows(2)
        .filter(|w| w[0] == w[1])
        .map(|w| w[0])
        .collect();
    assert!(
        missing.is_empty() && doubled.is_empty(),
        "seed {seed}: missing {missing:?}, doubled {doubled:?}"
    );
    for e in &seen.events {
        let i: u32 = e.user.as_deref().unwrap()[1..].parse().unwrap();
        assert_eq!(
            e.detail.is_some(),
            i.is_multiple_of(3),
            "entry {i} read whole"
        );
    }
}

/// A CloudTrail record whose identity block (the same in every file, as one role's
/// calls are) is longer than most of a fingerprint's head.
fn trail_record(i: u32) -> String {
    format!(
        r#"{{"eventVersion":"1.09","userIdentity":{{"type":"AssumedRole","principalId":"AROAEXAMPLEEXAMPLE01:deploy-bot","arn":"arn:aws:sts::111122223333:assumed-role/deploy-bot/deploy-bot","accountId":"111122223333","accessKeyId":"ASIAEXAMPLEEXAMPLE01","sessionContext":{{"sessionIssuer":{{"type":"Role","principalId":"AROAEXAMPLEEXAMPLE01","arn":"arn:aws:iam::111122223333:role/deploy-bot","accountId":"111122223333","userName":"deploy-bot"}},"attributes":{{"creationDate":"2026-11-28T09:00:00Z","mfaAuthenticated":"false"}}}}}},"eventTime":"2026-11-28T10:{:02}:{:02}Z","eventSource":"rds.amazonaws.com","eventName":"DescribeDBInstances","awsRegion":"us-east-1","sourceIPAddress":"192.0.2.10","userAgent":"aws-cli/2.15.0","requestParameters":null,"responseElements":null,"requestID":"req-{i}","eventID":"evt-{i}","readOnly":true,"eventType":"AwsApiCall","recipientAccountId":"111122223333"}}"#,
        i / 60,
        i % 60
    )
}

fn delivery(ids: std::ops::Range<u32>) -> String {
    let records: Vec<String> = ids.map(trail_record).collect();
    format!("{{\"Records\":[{}]}}", records.join(","))
}

#[test]
fn cloudtrail_deliveries_appearing_in_a_directory_are_each_read_once() {
    let dir = tempfile::tempdir().unwrap();
    let day = dir
        .path()
        .join("AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/28");
    fs::create_dir_all(&day).unwrap();
    let put_gz = |name: &str, text: &str| {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(text.as_bytes()).unwrap();
        // Written beside and renamed into place, as `aws s3 sync` does.
        let tmp = dir.path().join(format!(".{name}.part"));
        fs::write(&tmp, gz.finish().unwrap()).unwrap();
        fs::rename(&tmp, day.join(name)).unwrap();
    };
    let root = dir.path().join("AWSLogs");
    let mut src = follow(&[&root], fast(), vec![]);
    let mut seen = Seen::default();
    put_gz(
        "111122223333_CloudTrail_us-east-1_20261128T1000Z_a.json.gz",
        &delivery(0..2),
    );
    read_until(&mut src, &mut seen, 2);
    put_gz(
        "111122223333_CloudTrail_us-east-1_20261128T1005Z_b.json.gz",
        &delivery(2..5),
    );
    // A plain delivery written in two goes: its records are read as they complete.
    let plain = day.join("111122223333_CloudTrail_us-east-1_20261128T1010Z_c.json");
    let text = delivery(5..8);
    let half = text.len() / 2;
    append(&plain, &text[..half]);
    read_until(&mut src, &mut seen, 6);
    append(&plain, &text[half..]);
    read_until(&mut src, &mut seen, 8);
    let mut ids: Vec<String> = seen
        .events
        .iter()
        .map(|e| e.session_id.as_deref().unwrap_or_default().to_string())
        .collect();
    ids.sort();
    let want: Vec<String> = (0..8).map(|i| format!("evt-{i}")).collect();
    let mut want_sorted = want.clone();
    want_sorted.sort();
    assert_eq!(ids, want_sorted);
    // CloudTrail's directories are accounts and regions, not database instances.
    assert!(seen.events.iter().all(|e| e.instance.is_none()));
    // The compressed deliveries were read whole and closed.
    assert!(seen.checkpoints.values().filter(|c| c.done).count() >= 2);
}

#[test]
fn two_followed_logs_come_out_in_time_order_through_the_ordering_stage() {
    use crate::order::{OrderOptions, Orderer};
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    fs::create_dir(&a).unwrap();
    fs::create_dir(&b).unwrap();
    // Even seconds in one instance's log, odd in the other's; the second log's later
    // half arrives a moment after the first was read to its end.
    let evens: String = (0..40).step_by(2).map(|i| entry(i, false)).collect();
    let odds: String = (1..20).step_by(2).map(|i| entry(i, false)).collect();
    let later: String = (21..40).step_by(2).map(|i| entry(i, false)).collect();
    append(&a.join("postgresql.log"), &evens);
    append(&b.join("postgresql.log"), &odds);
    let mut sources = [follow(&[&a], fast(), vec![]), follow(&[&b], fast(), vec![])];
    // A generous idle timeout: a busy machine must not make the first log quiet
    // before the second log's later half is read.
    let mut order = Orderer::new(OrderOptions {
        idle: Duration::from_secs(5),
        ..OrderOptions::default()
    });
    let ids = [order.add_source(), order.add_source()];
    let mut out = Vec::new();
    let start = Instant::now();
    let mut appended = false;
    while out.len() < 40 && start.elapsed() < Duration::from_secs(20) {
        let now = Instant::now();
        for (src, id) in sources.iter_mut().zip(ids) {
            let p = src.poll(now);
            order.push(id, p.events, p.state, now, &mut out);
        }
        order.release(now, &mut out);
        if !appended && start.elapsed() > Duration::from_millis(100) {
            append(&b.join("postgresql.log"), &later);
            appended = true;
        }
        thread::sleep(Duration::from_millis(20));
    }
    let users: Vec<u32> = out
        .iter()
        .map(|e| e.user.as_deref().unwrap()[1..].parse().unwrap())
        .collect();
    assert_eq!(users, range(0..40));
    assert_eq!(order.stats().late, 0);
}

/// One followed directory is one source, but its files are written apart: while
/// one file's parser holds its last entry (until the idle flush), the other file's
/// later events wait in the source, so the orderer gets them in time order and
/// nothing comes late (as `keibi scan` orders them). Each poll's checkpoints cover
/// exactly the events it handed out: resuming from them reads the rest once.
#[test]
fn a_held_entry_in_one_file_of_a_directory_holds_the_others_later_events() {
    use crate::order::{OrderOptions, Orderer};
    let dir = tempfile::tempdir().unwrap();
    // Even seconds 0-18 in one file (18 is its last entry: the parser holds it), odd
    // seconds 1-39 in the other.
    let evens: String = (0..20).step_by(2).map(|i| entry(i, false)).collect();
    let odds: String = (1..40).step_by(2).map(|i| entry(i, false)).collect();
    append(&dir.path().join("a.log"), &evens);
    append(&dir.path().join("b.log"), &odds);
    let mut src = follow(&[dir.path()], fast(), vec![]);
    let mut order = Orderer::new(OrderOptions::default());
    let id = order.add_source();
    let mut out = Vec::new();
    let mut first_poll = None;
    let mut seen = Seen::default();
    let start = Instant::now();
    while out.len() < 30 && start.elapsed() < Duration::from_secs(20) {
        let now = Instant::now();
        let p = src.poll(now);
        if first_poll.is_none() && !p.events.is_empty() {
            first_poll = Some(p.events.len());
            // Resuming from this poll's checkpoints gives exactly what it did not
            // hand out.
            let mut resumed = follow(&[dir.path()], fast(), p.checkpoints.clone());
            let mut rest = Seen::default();
            read_until(&mut resumed, &mut rest, 30 - p.events.len());
            let mut got: Vec<u32> = p
                .events
                .iter()
                .map(|e| e.user.as_deref().unwrap()[1..].parse().unwrap())
                .collect();
            got.extend(rest.users());
            got.sort_unstable();
            let mut all: Vec<u32> = (0..20).chain((21..40).step_by(2)).collect();
            all.sort_unstable();
            assert_eq!(got, all, "resumed from {:?}", p.checkpoints);
        }
        for c in &p.checkpoints {
            seen.checkpoints.insert(c.fingerprint, c.clone());
        }
        order.push(id, p.events, p.state, now, &mut out);
        order.release(now, &mut out);
        thread::sleep(Duration::from_millis(20));
    }
    let users: Vec<u32> = out
        .iter()
        .map(|e| e.user.as_deref().unwrap()[1..].parse().unwrap())
        .collect();
    let want: Vec<u32> = (0..20).chain((21..40).step_by(2)).collect();
    assert_eq!(users, want);
    assert_eq!(order.stats().late, 0);
    // The first poll handed out a.log up to 16 and b.log up to 15 (17 events): b.log's
    // later events waited for a.log's held entry.
    assert_eq!(first_poll, Some(17), "{users:?}");
    // In the end both files' checkpoints are at their ends.
    for (name, text) in [("a.log", &evens), ("b.log", &odds)] {
        let fp = Fingerprint::of(text.as_bytes()).unwrap();
        let cp = seen
            .checkpoints
            .get(&fp)
            .unwrap_or_else(|| panic!("{name}"));
        assert_eq!(cp.offset, text.len() as u64, "{name}");
    }
}

#[test]
fn a_backlog_is_read_in_bounded_polls() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("postgresql.log");
    append(&log, &entries(0..300));
    let opts = FollowOptions {
        read_budget: 4096,
        ..fast()
    };
    let mut src = follow(&[&log], opts, vec![]);
    let first = src.poll(Instant::now());
    assert_eq!(first.state, SourceState::Reading);
    assert!(
        !first.events.is_empty() && first.events.len() < 60,
        "{}",
        first.events.len()
    );
    let mut seen = Seen {
        events: first.events,
        ..Seen::default()
    };
    read_until(&mut src, &mut seen, 300);
    assert_eq!(seen.users(), range(0..300));
}

#[test]
fn a_first_line_still_being_written_is_not_fingerprinted_by_its_first_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("postgresql.log");
    let first = entry(0, false);
    // The writer's first bytes: a timestamp the next rotated file may share.
    append(&log, &first[..17]);
    let mut src = follow(&[&log], fast(), vec![]);
    let mut seen = Seen::default();
    poll_once(&mut src, &mut seen);
    append(&log, &first[17..30]);
    poll_once(&mut src, &mut seen);
    // Still growing, no line end yet: not opened, so not fingerprinted.
    assert!(src.open_files().is_empty());
    append(&log, &first[30..]);
    append(&log, &entries(1..5));
    read_until(&mut src, &mut seen, 5);
    assert_eq!(seen.users(), range(0..5));
    assert!(seen
        .checkpoints
        .values()
        .all(|c| c.fingerprint.len as usize >= first.len()));
}
