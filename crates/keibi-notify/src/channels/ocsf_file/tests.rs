//! The OCSF file channel on a real file: one class 2004 object a line per change,
//! a retried delivery not written twice (also when its line went to the rotated
//! file), a line a crash cut short cut off, rotation by size keeping `keep` files,
//! and hostile text kept inside its JSON string on its line.

use super::*;
use crate::notice::{Digest, Summary};
use keibi_model::{Finding, Resource, Severity};

fn t(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn finding(id: &str, title: &str) -> Finding {
    let mut f = Finding::new(
        "login",
        "CredentialAccess:RDS/BruteForce",
        &[id],
        Severity::new(7.5),
        Resource {
            kind: "db_instance".into(),
            id: "prod-db".into(),
            ..Default::default()
        },
        t("2026-12-06T03:10:00Z"),
    );
    f.title = title.into();
    f
}

fn notice(key: &str, kind: NoticeKind, id: &str) -> Outgoing {
    Outgoing::One(Box::new(Notice {
        key: key.into(),
        kind,
        finding: finding(id, "Brute force against prod-db"),
        at: t("2026-12-06T03:11:00Z"),
    }))
}

fn channel(dir: &Path, max_bytes: u64, keep: u32) -> OcsfFile {
    OcsfFile {
        name: "siem".into(),
        path: dir.join("out").join("findings.ocsf.jsonl"),
        max_bytes,
        keep,
    }
}

fn lines(p: &Path) -> Vec<Value> {
    let text = fs::read_to_string(p).unwrap_or_default();
    assert!(text.is_empty() || text.ends_with('\n'), "{text:?}");
    text.lines()
        .map(|l| serde_json::from_str(l).expect("each line is one JSON object"))
        .collect()
}

#[test]
fn one_detection_finding_a_line_per_change_keyed_by_its_delivery() {
    let dir = tempfile::tempdir().unwrap();
    let ch = channel(dir.path(), 100 << 20, 5);
    ch.send(&notice("k1", NoticeKind::New, "a")).unwrap();
    ch.send(&notice(
        "k2",
        NoticeKind::Raised {
            from: Severity::new(5.0),
        },
        "a",
    ))
    .unwrap();
    ch.send(&notice(
        "k3",
        NoticeKind::Resolved {
            by: Some("alice".into()),
        },
        "a",
    ))
    .unwrap();
    let got = lines(&ch.path);
    assert_eq!(got.len(), 3);
    for (ev, key) in got.iter().zip(["k1", "k2", "k3"]) {
        assert_eq!(ev["class_uid"], 2004);
        assert_eq!(ev["category_uid"], 2);
        assert_eq!(ev["metadata"]["uid"], key);
        assert_eq!(ev["metadata"]["version"], ocsf::OCSF_VERSION);
        assert_eq!(ev["metadata"]["logged_time"], 1_796_526_660_000i64);
        assert_eq!(ev["finding_info"]["uid"], got[0]["finding_info"]["uid"]);
    }
    assert_eq!(got[0]["status"], "New");
    assert_eq!(got[2]["status"], "Resolved");
    assert_eq!(got[2]["activity_name"], "Close");
    assert_eq!(got[2]["is_alert"], false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(&ch.path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode & 0o007, 0, "not readable by others: {mode:o}");
    }
}

#[test]
fn a_retried_delivery_is_not_written_twice() {
    let dir = tempfile::tempdir().unwrap();
    let ch = channel(dir.path(), 100 << 20, 5);
    ch.send(&notice("k1", NoticeKind::New, "a")).unwrap();
    ch.send(&notice("k2", NoticeKind::New, "b")).unwrap();
    // The notifier was killed after k1's write, before its mark: sent again.
    let again = ch.send(&notice("k1", NoticeKind::New, "a")).unwrap();
    assert!(again.detail.contains("already"), "{}", again.detail);
    // A fresh channel (a restart) reads the same from the file.
    let ch = channel(dir.path(), 100 << 20, 5);
    ch.send(&notice("k2", NoticeKind::New, "b")).unwrap();
    let keys: Vec<Value> = lines(&ch.path)
        .iter()
        .map(|e| e["metadata"]["uid"].clone())
        .collect();
    assert_eq!(keys, ["k1", "k2"]);
}

#[test]
fn a_line_cut_short_by_a_crash_is_cut_off() {
    let dir = tempfile::tempdir().unwrap();
    let ch = channel(dir.path(), 100 << 20, 5);
    ch.send(&notice("k1", NoticeKind::New, "a")).unwrap();
    // Half of k2's line, as a kill in the middle of the write leaves it.
    let full = serde_json::to_vec(
        &record(&match notice("k2", NoticeKind::New, "b") {
            Outgoing::One(n) => *n,
            _ => unreachable!(),
        })
        .unwrap(),
    )
    .unwrap();
    let mut f = OpenOptions::new().append(true).open(&ch.path).unwrap();
    f.write_all(&full[..full.len() / 2]).unwrap();
    drop(f);
    ch.send(&notice("k2", NoticeKind::New, "b")).unwrap();
    let keys: Vec<Value> = lines(&ch.path)
        .iter()
        .map(|e| e["metadata"]["uid"].clone())
        .collect();
    assert_eq!(keys, ["k1", "k2"]);
    // A file that is only a cut line is emptied first.
    fs::write(&ch.path, &full[..10]).unwrap();
    ch.send(&notice("k3", NoticeKind::New, "c")).unwrap();
    assert_eq!(lines(&ch.path).len(), 1);
}

#[test]
fn rotates_by_size_and_keeps_its_files() {
    let dir = tempfile::tempdir().unwrap();
    let line = serde_json::to_vec(
        &record(&match notice("k0", NoticeKind::New, "x") {
            Outgoing::One(n) => *n,
            _ => unreachable!(),
        })
        .unwrap(),
    )
    .unwrap()
    .len() as u64;
    // Room for two lines a file.
    let ch = channel(dir.path(), 2 * line + 10, 2);
    for i in 0..9 {
        ch.send(&notice(&format!("k{i}"), NoticeKind::New, &format!("f{i}")))
            .unwrap();
    }
    let keys = |p: &Path| -> Vec<String> {
        lines(p)
            .iter()
            .map(|e| e["metadata"]["uid"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(keys(&ch.path), ["k8"]);
    assert_eq!(keys(&ch.rotated(1)), ["k6", "k7"]);
    assert_eq!(keys(&ch.rotated(2)), ["k4", "k5"]);
    assert!(!ch.rotated(3).exists());
    // A retry of a delivery now in the rotated file is still not written again.
    ch.send(&notice("k7", NoticeKind::New, "f7")).unwrap();
    assert_eq!(keys(&ch.path), ["k8"]);
}

#[test]
fn what_is_not_a_change_is_not_written() {
    let dir = tempfile::tempdir().unwrap();
    let ch = channel(dir.path(), 100 << 20, 5);
    let test = ch.send(&notice("t", NoticeKind::Test, "a")).unwrap();
    assert!(test.detail.contains("can be written"));
    assert!(lines(&ch.path).is_empty());
    let summary = Outgoing::Summary(Summary {
        key: "s".into(),
        at: t("2026-12-06T09:00:00Z"),
        open: vec![],
        total: 0,
        by_label: [0; 4],
    });
    assert!(!ch.send(&summary).unwrap_err().is_transient());
    // A digest that reaches it has each of its notices written.
    let held = ["d1", "d2"]
        .iter()
        .map(|k| match notice(k, NoticeKind::New, k) {
            Outgoing::One(n) => *n,
            _ => unreachable!(),
        })
        .collect();
    let d = Outgoing::Digest(Digest {
        key: "digest".into(),
        held,
        total: 2,
        from: t("2026-12-06T03:11:00Z"),
        to: t("2026-12-06T03:11:00Z"),
    });
    ch.send(&d).unwrap();
    assert_eq!(lines(&ch.path).len(), 2);
}

#[test]
fn an_unwritable_path_is_a_transient_failure() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("out"), "a file, not a directory").unwrap();
    let ch = channel(dir.path(), 100 << 20, 5);
    let e = ch.send(&notice("k1", NoticeKind::New, "a")).unwrap_err();
    assert!(e.is_transient(), "{e}");
}

#[test]
fn hostile_text_stays_inside_its_string_on_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let ch = channel(dir.path(), 100 << 20, 5);
    let hostile = include_str!("../../../tests/data/hostile.txt");
    for (i, h) in hostile.lines().enumerate() {
        let mut f = finding(&format!("h{i}"), h);
        f.description = format!("{h}\n\"}}\n{{\"class_uid\":1}}\u{2028}");
        f.actor.user = Some(h.to_string());
        ch.send(&Outgoing::One(Box::new(Notice {
            key: format!("h{i}"),
            kind: NoticeKind::New,
            finding: f,
            at: t("2026-12-06T03:11:00Z"),
        })))
        .unwrap();
    }
    let got = lines(&ch.path);
    assert_eq!(got.len(), hostile.lines().count());
    for (ev, h) in got.iter().zip(hostile.lines()) {
        assert_eq!(ev["class_uid"], 2004);
        assert_eq!(ev["finding_info"]["title"], h);
    }
}

#[test]
fn settings_out_of_bounds_are_refused() {
    let spec = |max_bytes, keep| OcsfFileSpec {
        path: "x.jsonl".into(),
        max_bytes,
        keep,
    };
    assert!(spec(100 << 20, 5).problem().is_none());
    assert!(spec(1000, 5).problem().unwrap().contains("max_bytes"));
    assert!(spec(100 << 20, 5000).problem().unwrap().contains("keep"));
    let empty = OcsfFileSpec {
        path: "".into(),
        max_bytes: 100 << 20,
        keep: 5,
    };
    assert!(empty.problem().unwrap().contains("path"));
}
