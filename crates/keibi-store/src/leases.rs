//! Leases and worker heartbeats (issue 20): several `keibi run --worker` processes
//! share one store, and each partition of the stream (and the `_sender` and
//! `_global` roles) is owned by one of them at a time.
//!
//! A lease is claimed, renewed and released in write transactions, and expires by
//! the **store's** clock (the workers' clocks are not trusted): a worker that stops
//! renewing loses it after its time to live, to whoever claims it next. Its `epoch`
//! grows each time it changes hands, and a commit that carries a [`Fence`] (the
//! lease, its owner and epoch) is refused with [`StoreError::LeaseLost`] in the
//! commit's own transaction unless the lease is still that owner's, at that epoch,
//! and not expired ([`check_fence`]): a worker cut off from the store, or paused
//! past its lease, writes nothing once another may have taken over.

use std::time::Duration;

use crate::sql::{params, Conn, Dialect, OptionalExtension};
use chrono::{DateTime, Utc};

use crate::store::from_millis;
use crate::{Store, StoreError};

/// The store's clock, in milliseconds since the epoch, as SQL: SQLite's
/// `julianday`, PostgreSQL's `clock_timestamp()` (the server's clock, shared by
/// every worker; not the transaction's start).
pub(crate) fn now_sql(c: &Conn) -> &'static str {
    match c.dialect() {
        Dialect::Sqlite => "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)",
        Dialect::Postgres => "CAST(extract(epoch FROM clock_timestamp()) * 1000 AS BIGINT)",
    }
}

/// Longest lease or worker name, in bytes (names are built by keibi from the
/// stream's partition ids, which the service gives).
pub const MAX_LEASE_NAME: usize = 512;

/// One lease as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub name: String,
    pub owner: String,
    /// Grows by one each time the lease is claimed by a new owner (or claimed again
    /// after it expired or was released).
    pub epoch: i64,
    /// By the store's clock.
    pub expires_at: DateTime<Utc>,
    pub acquired_at: DateTime<Utc>,
}

impl Lease {
    /// The fence a commit made under this lease carries.
    pub fn fence(&self) -> Fence {
        Fence {
            lease: self.name.clone(),
            owner: self.owner.clone(),
            epoch: self.epoch,
        }
    }
}

/// What a commit made under a lease proves: it is refused unless the lease is
/// still `owner`'s at `epoch` and not expired.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Fence {
    pub lease: String,
    pub owner: String,
    pub epoch: i64,
}

/// A worker's heartbeat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerBeat {
    pub id: String,
    pub host: String,
    pub pid: u32,
    pub started_at: DateTime<Utc>,
    /// By the store's clock.
    pub last_seen: DateTime<Utc>,
}

fn ttl_ms(ttl: Duration) -> i64 {
    i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX / 4)
}

fn named(what: &str, s: &str) -> Result<(), StoreError> {
    if s.is_empty() || s.len() > MAX_LEASE_NAME {
        return Err(StoreError::Invalid(format!(
            "{what} must be 1 to {MAX_LEASE_NAME} bytes"
        )));
    }
    Ok(())
}

pub(crate) fn now_ms(tx: &Conn) -> crate::sql::Result<i64> {
    tx.query_row(&format!("SELECT {}", now_sql(tx)), [], |r| r.get(0))
}

fn read_lease(r: &crate::sql::Row<'_>) -> crate::sql::Result<Lease> {
    Ok(Lease {
        name: r.get(0)?,
        owner: r.get(1)?,
        epoch: r.get(2)?,
        expires_at: from_millis(r.get(3)?),
        acquired_at: from_millis(r.get(4)?),
    })
}

const LEASE_COLUMNS: &str = "name, owner, epoch, expires_at, acquired_at";

/// Refuses a commit whose fence no longer holds: called by [`Store`]'s commit in its
/// own write transaction, before anything is written.
pub(crate) fn check_fence(
    tx: &Conn,
    path: &std::path::Path,
    fence: &Fence,
) -> Result<(), StoreError> {
    let err = |e| StoreError::sql(path, e);
    let now = now_ms(tx).map_err(err)?;
    let held: Option<(String, i64, i64)> = tx
        .query_row(
            "SELECT owner, epoch, expires_at FROM leases WHERE name = ?1",
            [&fence.lease],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()
        .map_err(err)?;
    match held {
        Some((owner, epoch, expires))
            if owner == fence.owner && epoch == fence.epoch && expires > now =>
        {
            Ok(())
        }
        held => Err(StoreError::LeaseLost {
            lease: fence.lease.clone(),
            holder: match held {
                Some((owner, _, expires)) if expires <= now => {
                    format!("nobody ({owner}'s expired)")
                }
                Some((owner, epoch, _)) => format!("{owner} at epoch {epoch}"),
                None => "nobody".into(),
            },
            epoch: fence.epoch,
        }),
    }
}

impl Store {
    /// Claims `name` for `owner` for `ttl`: a free lease, an expired one (whoever
    /// held it), or one `owner` already holds (extended, same epoch). A new holder
    /// gets the next epoch. `None`: another owner holds it and it has not expired.
    pub fn claim(
        &mut self,
        name: &str,
        owner: &str,
        ttl: Duration,
    ) -> Result<Option<Lease>, StoreError> {
        named("a lease name", name)?;
        named("a worker id", owner)?;
        let path = self.path.clone();
        let err = |e| StoreError::sql(&path, e);
        let tx = self.write_tx()?;
        let now = now_ms(&tx).map_err(err)?;
        let expires = now.saturating_add(ttl_ms(ttl));
        let held: Option<Lease> = tx
            .query_row(
                &format!("SELECT {LEASE_COLUMNS} FROM leases WHERE name = ?1"),
                [name],
                read_lease,
            )
            .optional()
            .map_err(err)?;
        let live = |l: &Lease| l.expires_at.timestamp_millis() > now;
        match held {
            Some(l) if l.owner != owner && live(&l) => return Ok(None),
            Some(l) if l.owner == owner && live(&l) => {
                tx.execute(
                    "UPDATE leases SET expires_at = ?2 WHERE name = ?1",
                    params![name, expires],
                )
                .map_err(err)?;
            }
            Some(_) => {
                tx.execute(
                    "UPDATE leases SET owner = ?2, epoch = epoch + 1, expires_at = ?3, acquired_at = ?4
                     WHERE name = ?1",
                    params![name, owner, expires, now],
                )
                .map_err(err)?;
            }
            None => {
                tx.execute(
                    "INSERT INTO leases (name, owner, epoch, expires_at, acquired_at)
                     VALUES (?1, ?2, 1, ?3, ?4)",
                    params![name, owner, expires, now],
                )
                .map_err(err)?;
            }
        }
        let lease = tx
            .query_row(
                &format!("SELECT {LEASE_COLUMNS} FROM leases WHERE name = ?1"),
                [name],
                read_lease,
            )
            .map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(Some(lease))
    }

    /// Extends every lease of `names` that `owner` still holds (not expired) by
    /// `ttl` from now, in one transaction; returns the names it no longer holds
    /// (expired, taken, released, unknown): their work must stop at once.
    pub fn renew(
        &mut self,
        owner: &str,
        names: &[String],
        ttl: Duration,
    ) -> Result<Vec<String>, StoreError> {
        let path = self.path.clone();
        let err = |e| StoreError::sql(&path, e);
        let tx = self.write_tx()?;
        let now = now_ms(&tx).map_err(err)?;
        let expires = now.saturating_add(ttl_ms(ttl));
        let mut lost = Vec::new();
        for name in names {
            let n = tx
                .execute(
                    "UPDATE leases SET expires_at = ?3
                     WHERE name = ?1 AND owner = ?2 AND expires_at > ?4",
                    params![name, owner, expires, now],
                )
                .map_err(err)?;
            if n == 0 {
                lost.push(name.clone());
            }
        }
        tx.commit().map_err(err)?;
        Ok(lost)
    }

    /// Gives `name` up if `owner` holds it (it expires now; the epoch stays, the
    /// next claim bumps it). False: `owner` did not hold it.
    pub fn release(&mut self, name: &str, owner: &str) -> Result<bool, StoreError> {
        let path = self.path.clone();
        let err = |e| StoreError::sql(&path, e);
        let tx = self.write_tx()?;
        let now = now_ms(&tx).map_err(err)?;
        let n = tx
            .execute(
                "UPDATE leases SET expires_at = ?3 WHERE name = ?1 AND owner = ?2 AND expires_at > ?3",
                params![name, owner, now],
            )
            .map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(n > 0)
    }

    /// Every lease, expired ones included, by name.
    /// Claims a message's deliveries (`ids` on `channel`) for sending, for `hold`
    /// by the store's clock, under `fence` (the `_sender` lease): in one write
    /// transaction, only while the fence holds and only if every one is still
    /// pending and unclaimed (or its claim expired). `false`: another sender has
    /// them, they are done, or the lease is lost — do not send. A claim is never
    /// released: a sent delivery is marked sent; one that failed is due again at
    /// its retry time, after the claim ran out.
    pub fn claim_for_sending(
        &mut self,
        ids: &[i64],
        channel: &str,
        fence: &Fence,
        hold: Duration,
    ) -> Result<bool, StoreError> {
        let path = self.path.clone();
        let err = |e| StoreError::sql(&path, e);
        let tx = self.write_tx()?;
        match check_fence(&tx, &path, fence) {
            Ok(()) => {}
            Err(StoreError::LeaseLost { .. }) => return Ok(false),
            Err(e) => return Err(e),
        }
        let now = now_ms(&tx).map_err(err)?;
        let until = now.saturating_add(ttl_ms(hold));
        for id in ids {
            let n = tx
                .execute(
                    "UPDATE deliveries SET claimed_until = ?1
                     WHERE outbox_id = ?2 AND channel = ?3 AND state = 'pending'
                       AND coalesce(claimed_until, 0) <= ?4",
                    params![until, id, channel, now],
                )
                .map_err(err)?;
            if n == 0 {
                // Dropped without commit: nothing claimed.
                return Ok(false);
            }
        }
        tx.commit().map_err(err)?;
        Ok(true)
    }

    pub fn leases(&self) -> Result<Vec<Lease>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(&format!("SELECT {LEASE_COLUMNS} FROM leases ORDER BY name"))
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], read_lease)
            .and_then(|r| r.collect())
            .map_err(|e| self.err(e))?;
        Ok(rows)
    }

    /// The store's clock now (what lease expiry is measured by).
    pub fn store_now(&mut self) -> Result<DateTime<Utc>, StoreError> {
        let path = self.path.clone();
        let err = |e| StoreError::sql(&path, e);
        let ms: i64 = self
            .conn
            .query_row(&format!("SELECT {}", now_sql(&self.conn)), [], |r| r.get(0))
            .map_err(err)?;
        Ok(from_millis(ms))
    }

    /// Records that worker `id` is alive now (by the store's clock).
    pub fn heartbeat(
        &mut self,
        id: &str,
        host: &str,
        pid: u32,
        started_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        named("a worker id", id)?;
        let host: String = host.chars().take(255).collect();
        let path = self.path.clone();
        let err = |e| StoreError::sql(&path, e);
        let tx = self.write_tx()?;
        tx.execute(
            &format!(
                "INSERT INTO workers (id, host, pid, started_at, last_seen) VALUES (?1, ?2, ?3, ?4, {})
                 ON CONFLICT (id) DO UPDATE SET host = excluded.host, pid = excluded.pid,
                     started_at = excluded.started_at, last_seen = excluded.last_seen",
                now_sql(&tx)
            ),
            params![id, host, i64::from(pid), crate::store::millis(started_at)],
        )
        .map_err(err)?;
        // Workers silent for a day are forgotten.
        tx.execute(
            &format!(
                "DELETE FROM workers WHERE last_seen < {} - 86400000",
                now_sql(&tx)
            ),
            [],
        )
        .map_err(err)?;
        tx.commit().map_err(err)
    }

    /// Worker `id` stopped cleanly: it no longer counts as alive.
    pub fn forget_worker(&mut self, id: &str) -> Result<(), StoreError> {
        let path = self.path.clone();
        let err = |e| StoreError::sql(&path, e);
        let tx = self.write_tx()?;
        tx.execute("DELETE FROM workers WHERE id = ?1", [id])
            .map_err(err)?;
        tx.commit().map_err(err)
    }

    /// The workers seen within `within` (by the store's clock), by id.
    pub fn live_workers(&self, within: Duration) -> Result<Vec<WorkerBeat>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT id, host, pid, started_at, last_seen FROM workers
                 WHERE last_seen > {} - ?1 ORDER BY id",
                now_sql(&self.conn)
            ))
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([ttl_ms(within)], |r| {
                Ok(WorkerBeat {
                    id: r.get(0)?,
                    host: r.get(1)?,
                    pid: u32::try_from(r.get::<_, i64>(2)?).unwrap_or(0),
                    started_at: from_millis(r.get(3)?),
                    last_seen: from_millis(r.get(4)?),
                })
            })
            .and_then(|r| r.collect())
            .map_err(|e| self.err(e))?;
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Checkpoint, Commit, FindingStore};

    const TTL: Duration = Duration::from_secs(30);

    #[test]
    fn claim_is_exclusive_until_expiry_and_a_takeover_bumps_the_epoch() {
        for (_dir, path) in crate::testing::backends() {
            let mut a = Store::open(&path).unwrap();
            let mut b = Store::open(&path).unwrap();
            let la = a.claim("p/s/0", "wa", TTL).unwrap().unwrap();
            assert_eq!((la.owner.as_str(), la.epoch), ("wa", 1));
            assert!(b.claim("p/s/0", "wb", TTL).unwrap().is_none());
            // Already mine: extended, same epoch.
            let again = a.claim("p/s/0", "wa", TTL).unwrap().unwrap();
            assert_eq!(again.epoch, 1);
            assert!(again.expires_at >= la.expires_at);
            // A lease of 1 ms expires; the other worker takes it at the next epoch.
            a.claim("p/s/1", "wa", Duration::from_millis(1))
                .unwrap()
                .unwrap();
            std::thread::sleep(Duration::from_millis(30));
            let lb = b.claim("p/s/1", "wb", TTL).unwrap().unwrap();
            assert_eq!((lb.owner.as_str(), lb.epoch), ("wb", 2));
            // The old owner's renewal says it is lost; its other lease renews.
            let lost = a
                .renew("wa", &["p/s/0".to_string(), "p/s/1".to_string()], TTL)
                .unwrap();
            assert_eq!(lost, vec!["p/s/1".to_string()]);
            let names: Vec<(String, String)> = a
                .leases()
                .unwrap()
                .into_iter()
                .map(|l| (l.name, l.owner))
                .collect();
            assert_eq!(
                names,
                vec![
                    ("p/s/0".to_string(), "wa".to_string()),
                    ("p/s/1".to_string(), "wb".to_string())
                ]
            );
        }
    }

    #[test]
    fn release_frees_the_lease_and_the_next_claim_is_a_new_epoch() {
        for (_dir, path) in crate::testing::backends() {
            let mut s = Store::open(&path).unwrap();
            let l = s.claim("_sender", "wa", TTL).unwrap().unwrap();
            assert!(!s.release("_sender", "wb").unwrap());
            assert!(s.release("_sender", "wa").unwrap());
            assert_eq!(s.renew("wa", &["_sender".into()], TTL).unwrap().len(), 1);
            let n = s.claim("_sender", "wb", TTL).unwrap().unwrap();
            assert_eq!(n.epoch, l.epoch + 1);
            // A fence of the released epoch no longer holds.
            let mut c = Commit::new(Utc::now());
            c.fence = Some(l.fence());
            assert!(matches!(s.commit(&c), Err(StoreError::LeaseLost { .. })));
        }
    }

    #[test]
    fn a_commit_with_a_stale_fence_is_refused_and_writes_nothing() {
        for (_dir, path) in crate::testing::backends() {
            let mut a = Store::open(&path).unwrap();
            let mut b = Store::open(&path).unwrap();
            let old = a
                .claim("p/s/0", "wa", Duration::from_millis(1))
                .unwrap()
                .unwrap();
            std::thread::sleep(Duration::from_millis(30));
            // Expired and not yet taken: refused already.
            let mut c = Commit::new(Utc::now());
            c.checkpoints.push(Checkpoint {
                source: "p/s/0".into(),
                position: 1,
                data: b"x".to_vec(),
            });
            c.profile_puts.push(("p/s/0/k".into(), b"v".to_vec()));
            c.fence = Some(old.fence());
            let e = a.commit(&c).unwrap_err();
            assert!(matches!(e, StoreError::LeaseLost { .. }));
            assert!(!e.is_transient());
            let new = b.claim("p/s/0", "wb", TTL).unwrap().unwrap();
            match a.commit(&c) {
                Err(StoreError::LeaseLost { holder, epoch, .. }) => {
                    assert_eq!((holder.as_str(), epoch), ("wb at epoch 2", 1));
                }
                other => panic!("{other:?}"),
            }
            assert!(a.checkpoints().unwrap().is_empty());
            let mut n = 0;
            a.load_profiles(&mut |_, _| n += 1).unwrap();
            assert_eq!(n, 0);
            // The new owner's fence holds.
            c.fence = Some(new.fence());
            b.commit(&c).unwrap();
            assert_eq!(a.checkpoints().unwrap().len(), 1);
            // A fence naming a lease nobody ever claimed is refused too.
            c.fence = Some(Fence {
                lease: "p/s/9".into(),
                owner: "wb".into(),
                epoch: 1,
            });
            assert!(matches!(b.commit(&c), Err(StoreError::LeaseLost { .. })));
        }
    }

    #[test]
    fn heartbeats_count_live_workers() {
        for (_dir, path) in crate::testing::backends() {
            let mut s = Store::open(&path).unwrap();
            s.heartbeat("wa", "h1", 1, Utc::now()).unwrap();
            s.heartbeat("wb", "h2", 2, Utc::now()).unwrap();
            assert_eq!(s.live_workers(TTL).unwrap().len(), 2);
            s.forget_worker("wb").unwrap();
            let live = s.live_workers(TTL).unwrap();
            assert_eq!(live.len(), 1);
            assert_eq!((live[0].id.as_str(), live[0].pid), ("wa", 1));
            std::thread::sleep(Duration::from_millis(30));
            assert!(s
                .live_workers(Duration::from_millis(10))
                .unwrap()
                .is_empty());
            assert!(s.claim("", "wa", TTL).is_err());
            assert!(s.claim(&"x".repeat(600), "wa", TTL).is_err());
        }
    }

    #[test]
    fn prefixed_profiles_are_cleared_and_loaded_per_partition() {
        for (_dir, path) in crate::testing::backends() {
            let mut s = Store::open(&path).unwrap();
            let mut c = Commit::new(Utc::now());
            for k in ["p/s/0/a", "p/s/0/b", "p/s/1/a", "other"] {
                c.profile_puts.push((k.into(), k.as_bytes().to_vec()));
            }
            s.commit(&c).unwrap();
            let mut c = Commit::new(Utc::now());
            c.profile_clear = true;
            c.profile_prefix = Some("p/s/0/".into());
            c.profile_puts.push(("p/s/0/c".into(), b"c".to_vec()));
            s.commit(&c).unwrap();
            let mut all = Vec::new();
            s.load_profiles(&mut |k, _| all.push(k.to_string()))
                .unwrap();
            assert_eq!(all, ["other", "p/s/0/c", "p/s/1/a"]);
            let mut one = Vec::new();
            let n = s
                .load_profiles_prefixed("p/s/1/", &mut |k, v| one.push((k.to_string(), v.to_vec())))
                .unwrap();
            assert_eq!(n, 1);
            assert_eq!(one, vec![("p/s/1/a".to_string(), b"p/s/1/a".to_vec())]);
            // `%` and `_` in a prefix are plain characters.
            let mut none = 0;
            s.load_profiles_prefixed("p/s/%", &mut |_, _| none += 1)
                .unwrap();
            assert_eq!(none, 0);
        }
    }

    #[test]
    fn a_message_is_claimed_by_one_sender_at_a_time() {
        use keibi_model::finding::Resource;
        use keibi_model::{ChangeKind, Finding, FindingChange, Severity};
        for (_dir, path) in crate::testing::backends() {
            let mut a = Store::open(&path).unwrap();
            let mut b = Store::open(&path).unwrap();
            let now = Utc::now();
            let f = Finding::new(
                "login",
                "CredentialAccess:RDS/BruteForce",
                &["k"],
                Severity::new(8.0),
                Resource {
                    kind: "db_instance".into(),
                    id: "db".into(),
                    ..Resource::default()
                },
                now,
            );
            let mut c = Commit::new(now);
            c.finding_changes.push(FindingChange {
                kind: ChangeKind::New,
                finding: f,
                added: 1,
            });
            a.commit(&c).unwrap();
            a.route_outbox(10, now, &mut |_| vec!["hook".into()])
                .unwrap();
            let due = a.due_deliveries_except(now, 10, &[]).unwrap();
            assert_eq!(due.len(), 1);
            let id = due[0].entry.id;
            let old = a
                .claim("_sender", "wa", Duration::from_millis(300))
                .unwrap()
                .unwrap();
            assert!(a
                .claim_for_sending(&[id], "hook", &old.fence(), Duration::from_millis(600))
                .unwrap());
            // Claimed: not due for anyone, and not claimable again meanwhile.
            assert!(b.due_deliveries_except(now, 10, &[]).unwrap().is_empty());
            std::thread::sleep(Duration::from_millis(350));
            let new = b.claim("_sender", "wb", TTL).unwrap().unwrap();
            assert!(!b
                .claim_for_sending(&[id], "hook", &new.fence(), TTL)
                .unwrap());
            // The old sender's lease is gone: it may not claim anything more.
            assert!(!a
                .claim_for_sending(&[id], "hook", &old.fence(), TTL)
                .unwrap());
            // Its claim runs out: the new sender sends it (at least once).
            std::thread::sleep(Duration::from_millis(300));
            assert_eq!(b.due_deliveries_except(now, 10, &[]).unwrap().len(), 1);
            assert!(b
                .claim_for_sending(&[id], "hook", &new.fence(), TTL)
                .unwrap());
        }
    }
}
