//! A flood of small findings must not push out the attack that follows (issue 10,
//! item 3): 80,000 failed logins from 20,000 addresses fill the findings store with
//! brute forces, then a ransomware attack hits the same instance.
//!
//! The flood is generated at test time in PostgreSQL's own format (RDS
//! `log_line_prefix`, the FATAL and DETAIL lines of a failed password login, as in the
//! real captures behind `tests/scenarios/login-bruteforce-pg`); the attack is the
//! `activity-ransom-note` scenario's PostgreSQL log, read from the repository.

mod common;

use std::fmt::Write as _;
use std::path::Path;

use common::{keibi_scan, str_field};

const ADDRESSES: u32 = 20_000;
const PER_ADDRESS: u32 = 4;

/// Four failed logins a second from each of 20,000 public addresses, ten addresses
/// a second, from 09:00 UTC: each one a short burst that is a (Low) brute force.
fn flood() -> String {
    let mut s = String::with_capacity(30 << 20);
    let mut pid = 40_000u32;
    for a in 0..ADDRESSES {
        let ip = format!("45.{}.{}.7", 10 + a / 250, a % 250);
        let (m, sec) = ((a / 10) / 60, (a / 10) % 60);
        for i in 0..PER_ADDRESS {
            pid += 1;
            let port = 50_000 + (a * PER_ADDRESS + i) % 15_000;
            let prefix =
                format!("2026-12-01 09:{m:02}:{sec:02} UTC:{ip}({port}):postgres@postgres:[{pid}]");
            let _ = writeln!(
                s,
                "{prefix}:FATAL:  password authentication failed for user \"postgres\""
            );
            let _ = writeln!(
                s,
                "{prefix}:DETAIL:  Connection matched pg_hba.conf line 13: \"hostssl all all 0.0.0.0/0 scram-sha-256\""
            );
        }
    }
    // Then a real attack among the noise: 25 failures from one address and a login.
    let ip = "185.220.101.5";
    for i in 0..25u32 {
        pid += 1;
        let prefix = format!(
            "2026-12-01 09:40:{i:02} UTC:{ip}({}):postgres@postgres:[{pid}]",
            33_000 + i
        );
        let _ = writeln!(
            s,
            "{prefix}:FATAL:  password authentication failed for user \"postgres\""
        );
    }
    pid += 1;
    let prefix = format!("2026-12-01 09:40:30 UTC:{ip}(33100):postgres@postgres:[{pid}]");
    let _ = writeln!(
        s,
        "{prefix}:LOG:  connection authorized: user=postgres database=postgres"
    );
    s
}

#[test]
fn a_flood_of_failed_logins_does_not_hide_the_ransom_note_that_follows() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("orders-pg/error");
    std::fs::create_dir_all(&logs).unwrap();
    std::fs::write(logs.join("postgresql.log.2026-12-01-09"), flood()).unwrap();
    let attack = Path::new(env!("CARGO_MANIFEST_DIR")).join(
        "tests/scenarios/activity-ransom-note/attack/orders-pg/error/postgresql.log.2026-12-01-10",
    );
    std::fs::copy(&attack, logs.join("postgresql.log.2026-12-01-10")).unwrap();

    let scan = keibi_scan(&[
        "--fail-on".as_ref(),
        "high".as_ref(),
        dir.path().as_os_str(),
    ]);
    assert!(
        scan.stderr.contains(" 0 unrecognized lines"),
        "{}",
        scan.stderr
    );
    let ransom: Vec<_> = scan.of_type("Impact:RDS/RansomNote").collect();
    assert_eq!(ransom.len(), 1, "{}", scan.stderr);
    assert_eq!(str_field(ransom[0], "severity_label"), Some("Critical"));
    assert_eq!(
        scan.code,
        Some(1),
        "--fail-on high must fail: {}",
        scan.stderr
    );

    // The login after the attacker's failures is High and its text has its numbers.
    let sbf: Vec<_> = scan
        .of_type("CredentialAccess:RDS/AnomalousBehavior.SuccessfulBruteForce")
        .collect();
    assert_eq!(
        sbf.len(),
        1,
        "{}",
        scan.brief().lines().take(5).collect::<Vec<_>>().join("\n")
    );
    let text = str_field(sbf[0], "description").unwrap();
    assert!(text.contains("after 25 failed logins"), "{text}");

    // The flood is there too: brute forces one by one up to the bound, the rest in
    // one roll-up that counts every address.
    let max = 20_000;
    assert!(scan.findings.len() <= max + 10, "{}", scan.findings.len());
    let bf: Vec<_> = scan.of_type("CredentialAccess:RDS/BruteForce").collect();
    let rollup: Vec<_> = bf
        .iter()
        .filter(|f| str_field(f, "title").is_some_and(|t| t.contains("rolled into one")))
        .collect();
    assert_eq!(rollup.len(), 1, "one roll-up of brute forces");
    let kept = bf.len() as u64 - 1;
    let title = str_field(rollup[0], "title").unwrap();
    // The attacker's brute force is one of the flood's brute forces, kept or not.
    let folded = u64::from(ADDRESSES) + 1 - kept;
    assert_eq!(
        title,
        format!(
            "Password guessing on orders-pg from {} addresses: {} findings rolled into one",
            keibi_detect::text::thousands(folded),
            keibi_detect::text::thousands(folded)
        )
    );
    let counted: u64 = bf.iter().map(|f| f["count"].as_u64().unwrap()).sum();
    assert_eq!(
        counted,
        u64::from(ADDRESSES * PER_ADDRESS) + 25,
        "every failure counted once"
    );
    assert!(
        scan.stderr.contains("rolled up") && !scan.stderr.contains("dropped"),
        "{}",
        scan.stderr
    );
}
