//! Retention on a schedule: `keibi run` applies `store.retention` once at start and
//! then every `store.prune_every`. Findings neither seen in a log nor changed in
//! the store since the cutoff are exported to `store.export_dir` (when set) and then
//! deleted, in one transaction that commits only after the export file is on disk
//! under its final name ([`keibi_store::Store::expire`]): a crash leaves at worst the
//! same findings exported twice, never one lost. The timeline's activity older than
//! `store.activity_retention` (by event and by storing time) and beyond
//! `store.activity_max_rows` goes in the same pass ([`Store::expire_activity`]).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use keibi_store::{Pruned, Size, Store, StoreError};

/// When and how the daemon prunes.
#[derive(Debug, Clone)]
pub struct Retention {
    keep: Duration,
    export: Option<PathBuf>,
    every: Duration,
    next: Instant,
    activity_keep: Duration,
    activity_max_rows: u64,
}

/// What one pass did.
#[derive(Debug, Clone)]
pub struct Expired {
    pub cutoff: DateTime<Utc>,
    pub pruned: Pruned,
    /// The store after it.
    pub size: Size,
    /// Activity rows deleted (age and total cap).
    pub activity: u64,
}

impl Retention {
    /// From the settings' `store` section; due at once.
    pub fn new(store: &crate::settings::Store, now: Instant) -> Retention {
        Retention {
            keep: store.retention.std(),
            export: store.export_dir.clone(),
            every: store.prune_every.std(),
            next: now,
            activity_keep: store.activity_retention.std(),
            activity_max_rows: store.activity_max_rows,
        }
    }

    pub fn due(&self, now: Instant) -> bool {
        now >= self.next
    }

    /// One pass at wall time `at`; the next is due `every` after `now`, whether this
    /// one worked or not (a failed export is tried again then, nothing deleted).
    pub fn apply(
        &mut self,
        store: &mut Store,
        now: Instant,
        at: DateTime<Utc>,
    ) -> Result<Expired, StoreError> {
        self.next = now + self.every;
        let keep = chrono::TimeDelta::from_std(self.keep).unwrap_or(chrono::TimeDelta::MAX);
        let cutoff = at
            .checked_sub_signed(keep)
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        let pruned = store.expire(cutoff, self.export.as_deref(), at)?;
        let keep =
            chrono::TimeDelta::from_std(self.activity_keep).unwrap_or(chrono::TimeDelta::MAX);
        let activity_cutoff = at
            .checked_sub_signed(keep)
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        let activity = store.expire_activity(activity_cutoff, self.activity_max_rows)?;
        Ok(Expired {
            cutoff,
            pruned,
            size: store.size()?,
            activity,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use keibi_model::finding::Resource;
    use keibi_model::{ChangeKind, Finding, FindingChange, Severity};
    use keibi_store::{Commit, FindingStore};
    use std::io::Read;

    fn change(i: u32, seen: DateTime<Utc>) -> FindingChange {
        let mut f = Finding::new(
            "test",
            "CredentialAccess:RDS/BruteForce",
            &[&i.to_string()],
            Severity::new(7.0),
            Resource::default(),
            seen,
        );
        f.count = 1;
        FindingChange {
            kind: ChangeKind::New,
            finding: f,
            added: 1,
        }
    }

    /// Findings older than the retention are exported, whole, then deleted; the
    /// recent one stays; the pass is not due again before `prune_every`.
    #[test]
    fn exports_then_deletes_what_is_older_than_the_retention() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        std::fs::create_dir(&out).unwrap();
        let mut store = Store::open(&dir.path().join("k.db")).unwrap();
        let now_wall = Utc::now();
        let days = |d: i64| now_wall - chrono::TimeDelta::days(d);
        // Two stored 40 days ago, one stored (and seen) 2 days ago.
        let mut old = Commit::new(days(40));
        old.finding_changes = vec![change(1, days(41)), change(2, days(40))];
        store.commit(&old).unwrap();
        let mut recent = Commit::new(days(2));
        recent.finding_changes = vec![change(3, days(2))];
        store.commit(&recent).unwrap();

        let settings = crate::settings::Store {
            retention: crate::settings::Duration::from_secs(30 * 86_400),
            export_dir: Some(out.clone()),
            prune_every: crate::settings::Duration::from_secs(3600),
            ..crate::settings::Store::default()
        };
        let start = Instant::now();
        let mut r = Retention::new(&settings, start);
        assert!(r.due(start));
        let e = r.apply(&mut store, start, now_wall).unwrap();
        assert_eq!(e.pruned.findings, 2);
        assert_eq!(e.size.findings, 1);
        assert!(!r.due(start + Duration::from_secs(3599)));
        assert!(r.due(start + Duration::from_secs(3600)));

        let file = e.pruned.exported_to.unwrap();
        let mut text = String::new();
        zstd::Decoder::new(std::fs::File::open(&file).unwrap())
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        let ids: Vec<String> = text
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                assert_eq!(v["history"][0]["what"], "new");
                v["finding"]["id"].as_str().unwrap().to_string()
            })
            .collect();
        let mut want = vec![
            change(1, days(41)).finding.id,
            change(2, days(40)).finding.id,
        ];
        want.sort();
        let mut got = ids.clone();
        got.sort();
        assert_eq!(got, want);
        assert!(store.finding(&want[0]).is_err());
        assert!(store.finding(&change(3, days(2)).finding.id).is_ok());
    }

    /// The timeline's activity goes after `activity_retention` (7 days by default),
    /// with the same pass; recent activity stays.
    #[test]
    fn activity_older_than_its_retention_goes_with_the_pass() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("k.db")).unwrap();
        let now_wall = Utc::now();
        let login = |at: DateTime<Utc>, user: &str| {
            let mut e = keibi_model::Event::new(
                at,
                keibi_model::SourceKind::PostgresStderr,
                "pg.log".into(),
                1,
                keibi_model::Action::LoginSuccess,
            );
            e.user = Some(user.into());
            e
        };
        for (days, user) in [(8, "old"), (1, "recent")] {
            let at = now_wall - chrono::TimeDelta::days(days);
            let mut c = Commit::new(at);
            c.activity.add(&login(at, user));
            store.commit(&c).unwrap();
        }
        assert_eq!(store.activity_rows().unwrap(), 2);
        let settings = crate::settings::Store::default();
        let start = Instant::now();
        let e = Retention::new(&settings, start)
            .apply(&mut store, start, now_wall)
            .unwrap();
        assert_eq!(e.activity, 1);
        assert_eq!(store.activity_rows().unwrap(), 1);
    }
}
