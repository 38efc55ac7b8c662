//! Reading the store as a stream of finding changes: what the second stage (global
//! detections over every partition's findings, `keibi_engine::global`) reads.
//!
//! Every change of a finding writes or moves on a row of `history`, whose `seq`
//! only grows: a new row takes the next number, and a run of `grew` (or `closed`)
//! that moves on takes the next number too (see `add_history`), so a reader that
//! remembers the highest `seq` it has read sees every finding that changed after it,
//! once per change it has not read yet. Its position is kept as an ordinary
//! [`crate::Checkpoint`] committed with what it derived (the aggregation rule).

use crate::sql::OptionalExtension;
use keibi_model::Finding;

use crate::store::FINDING_COLUMNS;
use crate::{Checkpoint, Store, StoreError, StoredFinding};

/// One history row after a position: its number and the finding as stored now
/// (`None` when the finding was pruned since, or its type was not asked for).
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeRow {
    pub seq: i64,
    pub finding: Option<StoredFinding>,
}

/// Which column of `finding_actors` to look a value up in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActorKind {
    /// A source address (`actor.ip`, `actor.ips`).
    Ip,
    /// A database user or a principal ARN (`actor.user`, `actor.users`).
    User,
}

impl ActorKind {
    fn as_str(self) -> &'static str {
        match self {
            ActorKind::Ip => "ip",
            ActorKind::User => "user",
        }
    }
}

/// Most rows one call returns (a caller asking more gets this many).
pub const CHANGES_MAX: u32 = 100_000;

impl Store {
    /// History rows with `seq > after`, oldest first, at most `max`; the finding of
    /// a row is read only when `want(type)` says so (its JSON is not parsed
    /// otherwise). A finding changed twice after `after` comes once per row.
    pub fn changes_after(
        &self,
        after: i64,
        max: u32,
        want: &dyn Fn(&str) -> bool,
    ) -> Result<Vec<ChangeRow>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT h.seq, f.type, h.finding_id FROM history h
                 LEFT JOIN findings f ON f.id = h.finding_id
                 WHERE h.seq > ?1 ORDER BY h.seq LIMIT ?2",
            )
            .map_err(|e| self.err(e))?;
        let rows: Vec<(i64, Option<String>, String)> = stmt
            .query_map(
                crate::sql::params![after, i64::from(max.min(CHANGES_MAX))],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .and_then(|r| r.collect())
            .map_err(|e| self.err(e))?;
        let mut out = Vec::with_capacity(rows.len());
        for (seq, ty, id) in rows {
            let finding = match ty {
                Some(t) if want(&t) => crate::store::read_finding_opt(&self.conn, &self.path, &id)?,
                _ => None,
            };
            out.push(ChangeRow { seq, finding });
        }
        Ok(out)
    }

    /// The newest history row's number (0 for an empty history).
    pub fn last_change(&self) -> Result<i64, StoreError> {
        self.conn
            .query_row("SELECT coalesce(max(seq), 0) FROM history", [], |r| {
                r.get(0)
            })
            .map_err(|e| self.err(e))
    }

    /// The stored findings naming `value` as an address or a user (in `actor` or its
    /// lists), most recently seen first, at most `max`.
    pub fn findings_of_actor(
        &self,
        kind: ActorKind,
        value: &str,
        max: u32,
    ) -> Result<Vec<Finding>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT {FINDING_COLUMNS} FROM findings
                 WHERE id IN (SELECT finding_id FROM finding_actors WHERE kind = ?1 AND value = ?2)
                 ORDER BY last_seen DESC, id LIMIT ?3"
            ))
            .map_err(|e| self.err(e))?;
        let mut rows = stmt
            .query(crate::sql::params![
                kind.as_str(),
                value,
                i64::from(max.min(CHANGES_MAX))
            ])
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(|e| self.err(e))? {
            out.push(crate::store::stored_from_row(&self.path, r)?.finding);
        }
        Ok(out)
    }

    /// One stored checkpoint by its source, if any.
    pub fn checkpoint(&self, source: &str) -> Result<Option<Checkpoint>, StoreError> {
        self.conn
            .prepare_cached("SELECT position, data FROM checkpoints WHERE source = ?1")
            .and_then(|mut s| {
                s.query_row([source], |r| {
                    Ok(Checkpoint {
                        source: source.to_string(),
                        position: u64::try_from(r.get::<_, i64>(0)?).unwrap_or(0),
                        data: r.get(1)?,
                    })
                })
                .optional()
            })
            .map_err(|e| self.err(e))
    }
}
