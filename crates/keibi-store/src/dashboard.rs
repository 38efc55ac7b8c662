//! The dashboard's reads (issue 19): findings filtered, sorted and paged with a
//! total; the overview's aggregates; what changed since a page was rendered; an
//! actor's profiles; and the two workflow writes the CLI has no command for (a
//! note on its own, deleting a suppression rule).
//!
//! Every query reads indexed columns (migration 008 adds the account, the actors'
//! table and the sort indexes); a page of rows reads each row's title and texts,
//! never the whole finding JSON of every matching row.

use crate::sql::Value;
use crate::sql::{params, params_from_iter, OptionalExtension};
use chrono::{DateTime, Utc};
use keibi_model::finding::SeverityLabel;
use keibi_model::{FindingText, Severity};

use crate::store::{from_millis, millis, read_finding_opt};
use crate::{FindingStore, PostureRound, Status, Store, StoreError, StoredFinding};

/// Longest text a filter field, note or name may be, in bytes (as the store's own
/// bound on typed texts).
const MAX_FIELD: usize = 4096;

/// Most rows one page returns.
pub const MAX_PAGE: u32 = 500;

/// How the findings list is ordered. Every order ends with the id, so pages never
/// repeat or skip a row between equal keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    /// Most severe first, then the most recently active (the CLI's order).
    #[default]
    Severity,
    LastSeen,
    FirstSeen,
    Count,
}

impl Sort {
    pub const ALL: [Sort; 4] = [Sort::Severity, Sort::LastSeen, Sort::FirstSeen, Sort::Count];

    pub fn as_str(self) -> &'static str {
        match self {
            Sort::Severity => "severity",
            Sort::LastSeen => "last_seen",
            Sort::FirstSeen => "first_seen",
            Sort::Count => "count",
        }
    }

    pub fn parse(s: &str) -> Option<Sort> {
        Sort::ALL.into_iter().find(|x| x.as_str() == s.trim())
    }

    /// The index that gives this order (migrations 001 and 008).
    fn index(self) -> &'static str {
        match self {
            Sort::Severity => "findings_order",
            Sort::LastSeen => "findings_last_seen",
            Sort::FirstSeen => "findings_first_seen",
            Sort::Count => "findings_count",
        }
    }

    fn order_by(self) -> &'static str {
        match self {
            Sort::Severity => "severity DESC, last_seen DESC, id",
            Sort::LastSeen => "last_seen DESC, id",
            Sort::FirstSeen => "first_seen DESC, id",
            Sort::Count => "count DESC, last_seen DESC, id",
        }
    }
}

/// Which findings a page lists. `None` and empty lists mean any.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FindingFilter {
    pub finding_type: Option<String>,
    pub min_severity: Option<Severity>,
    pub statuses: Vec<Status>,
    /// The resource id, exactly.
    pub resource: Option<String>,
    /// The AWS account, exactly.
    pub account: Option<String>,
    /// Any of the finding's addresses.
    pub ip: Option<String>,
    /// Any of the finding's users (a database user or an IAM principal's ARN).
    pub user: Option<String>,
    /// Last seen at or after.
    pub since: Option<DateTime<Utc>>,
    /// Last seen before.
    pub until: Option<DateTime<Utc>>,
    pub sort: Sort,
    pub offset: u64,
    /// Rows per page (at most [`MAX_PAGE`]; 0 counts only).
    pub limit: u32,
}

/// One row of the findings list: the indexed columns, the title and the texts.
#[derive(Debug, Clone, PartialEq)]
pub struct FindingRow {
    pub id: String,
    pub finding_type: String,
    pub severity: Severity,
    /// The English title (the contract's).
    pub title: String,
    /// The texts as messages, for another language.
    pub text: Option<FindingText>,
    pub resource_id: String,
    pub account: Option<String>,
    pub actor_ip: Option<String>,
    pub actor_user: Option<String>,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub count: u64,
    pub status: Status,
}

/// A page of findings and how many match in all.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FindingPage {
    pub rows: Vec<FindingRow>,
    pub total: u64,
}

/// Findings of one day (in the chart's zone), by severity band.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DayCount {
    /// Days since 1970-01-01 in the chart's zone.
    pub day: i64,
    /// Low, medium, high, critical.
    pub by_band: [u64; 4],
}

/// How one source is being read (from its checkpoint).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceHealth {
    pub source: String,
    pub position: u64,
    /// When its checkpoint last moved on.
    pub updated_at: DateTime<Utc>,
}

/// The overview's numbers.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overview {
    /// Open (new or acknowledged) findings by band: low, medium, high, critical.
    pub open_by_band: [u64; 4],
    pub by_status: Vec<(Status, u64)>,
    /// First seen per day over the window asked for, oldest first, every day
    /// present.
    pub per_day: Vec<DayCount>,
    /// Addresses named by the most open findings.
    pub top_ips: Vec<(String, u64)>,
    /// Users and principals named by the most open findings.
    pub top_users: Vec<(String, u64)>,
    /// Resources with the most open findings.
    pub top_resources: Vec<(String, u64)>,
    /// The posture audit's findings (detector `posture`) by status: open ones are
    /// checks failing now, resolved ones checks that failed once and pass now.
    /// Checks that always passed are not stored, so this is no pass rate over all
    /// checks.
    pub posture: Vec<(Status, u64)>,
    /// The newest scheduled audit's totals (`keibi run`), when one ran.
    pub posture_round: Option<PostureRound>,
    pub sources: Vec<SourceHealth>,
}

/// What changed since a page was rendered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Changes {
    /// Findings changed (new, grown, workflow) after the mark.
    pub changed: u64,
    /// The newest change: the mark to give next time.
    pub mark: i64,
}

/// A stored profile: its key (a JSON array) and value (JSON).
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileRow {
    pub key: Vec<String>,
    pub value: serde_json::Value,
}

fn band(s: Severity) -> usize {
    match s.label() {
        SeverityLabel::Low => 0,
        SeverityLabel::Medium => 1,
        SeverityLabel::High => 2,
        SeverityLabel::Critical => 3,
    }
}

fn field(what: &str, v: &Option<String>) -> Result<(), StoreError> {
    match v {
        Some(s) if s.len() > MAX_FIELD => Err(StoreError::Invalid(format!(
            "{what} is longer than {MAX_FIELD} bytes"
        ))),
        _ => Ok(()),
    }
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

impl Store {
    /// A page of the findings `f` selects, in its order, with the number matching.
    pub fn dashboard_findings(&self, f: &FindingFilter) -> Result<FindingPage, StoreError> {
        for (what, v) in [
            ("the type", &f.finding_type),
            ("the resource", &f.resource),
            ("the account", &f.account),
            ("the address", &f.ip),
            ("the user", &f.user),
        ] {
            field(what, v)?;
        }
        let mut wh = String::from(" WHERE 1 = 1");
        let mut args: Vec<Value> = Vec::new();
        if let Some(t) = &f.finding_type {
            wh.push_str(" AND type = ?");
            args.push(t.clone().into());
        }
        if let Some(s) = f.min_severity {
            wh.push_str(" AND severity >= ?");
            args.push(s.value().into());
        }
        if !f.statuses.is_empty() {
            wh.push_str(" AND status IN (");
            for (i, s) in f.statuses.iter().enumerate() {
                wh.push_str(if i == 0 { "?" } else { ", ?" });
                args.push(s.as_str().to_string().into());
            }
            wh.push(')');
        }
        if let Some(r) = &f.resource {
            wh.push_str(" AND resource_id = ?");
            args.push(r.clone().into());
        }
        if let Some(a) = &f.account {
            wh.push_str(" AND account = ?");
            args.push(a.clone().into());
        }
        for (kind, v) in [("ip", &f.ip), ("user", &f.user)] {
            if let Some(v) = v {
                wh.push_str(&format!(
                    " AND id IN (SELECT finding_id FROM finding_actors WHERE kind = '{kind}' AND value = ?)"
                ));
                args.push(v.clone().into());
            }
        }
        if let Some(t) = f.since {
            wh.push_str(" AND last_seen >= ?");
            args.push(millis(t).into());
        }
        if let Some(t) = f.until {
            wh.push_str(" AND last_seen < ?");
            args.push(millis(t).into());
        }
        let total: i64 = self
            .conn
            .prepare_cached(&format!("SELECT count(*) FROM findings{wh}"))
            .and_then(|mut s| s.query_row(params_from_iter(args.iter()), |r| r.get(0)))
            .map_err(|e| self.err(e))?;
        let mut rows = Vec::new();
        if f.limit > 0 {
            // Filtered by status, severity and time only (the commonest lists), a
            // page is read off the order's index, which holds those columns:
            // left to itself the planner reads every match by status and sorts
            // them all (200 ms for the open high findings of 100,000). A type,
            // resource, account or actor is selective: its own index is better.
            let selective = f.finding_type.is_some()
                || f.resource.is_some()
                || f.account.is_some()
                || f.ip.is_some()
                || f.user.is_some();
            let indexed = if selective || self.conn.dialect() == crate::sql::Dialect::Postgres {
                String::new()
            } else {
                format!(" INDEXED BY {}", f.sort.index())
            };
            let sql = format!(
                "SELECT id, type, severity, {title}, text, resource_id,
                        account, actor_ip, actor_user, first_seen, last_seen, count, status
                 FROM findings{indexed}{wh} ORDER BY {} LIMIT ? OFFSET ?",
                f.sort.order_by(),
                title = self.conn.json_field("finding", "title"),
            );
            let mut page_args = args.clone();
            page_args.push(i64::from(f.limit.min(MAX_PAGE)).into());
            page_args.push(i64::try_from(f.offset).unwrap_or(i64::MAX).into());
            let mut stmt = self.conn.prepare_cached(&sql).map_err(|e| self.err(e))?;
            let mut q = stmt
                .query(params_from_iter(page_args.iter()))
                .map_err(|e| self.err(e))?;
            while let Some(r) = q.next().map_err(|e| self.err(e))? {
                rows.push(row_of(r).map_err(|e| self.err(e))?);
            }
        }
        Ok(FindingPage {
            rows,
            total: count(total),
        })
    }

    /// The overview at `now`: `days` days of the chart (in a zone `offset_secs`
    /// east of UTC), the top `top` of each list.
    pub fn overview(
        &self,
        now: DateTime<Utc>,
        days: u32,
        offset_secs: i32,
        top: u32,
    ) -> Result<Overview, StoreError> {
        let e = |e| self.err(e);
        let mut o = Overview {
            by_status: self.count_by_status()?,
            ..Overview::default()
        };
        {
            let mut stmt = self
                .conn
                .prepare_cached(
                    "SELECT severity, count(*) FROM findings
                     WHERE status IN ('new', 'acknowledged') GROUP BY severity",
                )
                .map_err(e)?;
            let mut q = stmt.query([]).map_err(e)?;
            while let Some(r) = q.next().map_err(e)? {
                let s: f64 = r.get(0).map_err(e)?;
                o.open_by_band[band(Severity::new(s))] += count(r.get(1).map_err(e)?);
            }
        }
        // The chart: first seen per zone day, from the first_seen index.
        let off = i64::from(offset_secs) * 1000;
        let day_ms = 86_400_000_i64;
        let today = (millis(now) + off).div_euclid(day_ms);
        let first_day = today - i64::from(days.max(1)) + 1;
        let start = first_day * day_ms - off;
        o.per_day = (first_day..=today)
            .map(|day| DayCount {
                day,
                by_band: [0; 4],
            })
            .collect();
        {
            let mut stmt = self
                .conn
                .prepare_cached(
                    "SELECT (first_seen + ?2) / 86400000, severity, count(*) FROM findings
                     WHERE first_seen >= ?1 GROUP BY 1, 2",
                )
                .map_err(e)?;
            let mut q = stmt.query(params![start, off]).map_err(e)?;
            while let Some(r) = q.next().map_err(e)? {
                let day: i64 = r.get(0).map_err(e)?;
                let s: f64 = r.get(1).map_err(e)?;
                let n = count(r.get(2).map_err(e)?);
                if let Some(d) = usize::try_from(day - first_day)
                    .ok()
                    .and_then(|i| o.per_day.get_mut(i))
                {
                    d.by_band[band(Severity::new(s))] += n;
                }
            }
        }
        let top = i64::from(top.min(100));
        let list = |sql: &str,
                    args: &[&dyn crate::sql::ToCol]|
         -> Result<Vec<(String, u64)>, StoreError> {
            let mut stmt = self.conn.prepare_cached(sql).map_err(e)?;
            let rows = stmt
                .query_map(args, |r| Ok((r.get::<_, String>(0)?, count(r.get(1)?))))
                .and_then(|r| r.collect())
                .map_err(e)?;
            Ok(rows)
        };
        // Off the (kind, open, value) index alone: no finding is visited.
        let actors = "SELECT value, count(*) FROM finding_actors WHERE kind = ?1 AND open = 1
             GROUP BY value ORDER BY 2 DESC, 1 LIMIT ?2";
        o.top_ips = list(actors, &[&"ip", &top])?;
        o.top_users = list(actors, &[&"user", &top])?;
        o.top_resources = list(
            // SQLite: the covering (status, resource_id) index, named: the planner
            // would otherwise walk the resource index and visit every finding.
            // PostgreSQL has no such clause (its planner chooses by statistics).
            match self.conn.dialect() {
                crate::sql::Dialect::Sqlite => {
                    "SELECT resource_id, count(*) FROM findings INDEXED BY findings_status_resource
                     WHERE status IN ('new', 'acknowledged')
                     GROUP BY resource_id ORDER BY 2 DESC, 1 LIMIT ?1"
                }
                crate::sql::Dialect::Postgres => {
                    "SELECT resource_id, count(*) FROM findings
                     WHERE status IN ('new', 'acknowledged')
                     GROUP BY resource_id ORDER BY 2 DESC, 1 LIMIT ?1"
                }
            },
            &[&top],
        )?;
        {
            let mut stmt = self
                .conn
                .prepare_cached(
                    "SELECT status, count(*) FROM findings WHERE detector = 'posture' GROUP BY status",
                )
                .map_err(e)?;
            let rows: Vec<(String, i64)> = stmt
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .and_then(|r| r.collect())
                .map_err(e)?;
            o.posture = rows
                .into_iter()
                .filter_map(|(s, n)| s.parse::<Status>().ok().map(|s| (s, count(n))))
                .collect();
            o.posture.sort();
        }
        o.posture_round = self.last_posture_round()?;
        o.sources = self.sources_health()?;
        Ok(o)
    }

    /// The newest scheduled audit's totals, read on its own like the sources (a
    /// round changes no finding when nothing new fails).
    pub fn last_posture_round(&self) -> Result<Option<PostureRound>, StoreError> {
        self.conn
            .query_row(
                "SELECT at, passed, failed, suppressed FROM posture_rounds ORDER BY at DESC LIMIT 1",
                [],
                |r| {
                    let n = |i: usize| r.get::<_, i64>(i).map(|v| u64::try_from(v).unwrap_or(0));
                    Ok(PostureRound {
                        at: from_millis(r.get(0)?),
                        passed: n(1)?,
                        failed: n(2)?,
                        suppressed: n(3)?,
                    })
                },
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Each source's checkpoint (at most 1,000, by name): the overview's ingest
    /// health, read on its own so a cached overview still shows it current.
    pub fn sources_health(&self) -> Result<Vec<SourceHealth>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT source, position, updated_at FROM checkpoints ORDER BY source LIMIT 1000",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok(SourceHealth {
                    source: r.get(0)?,
                    position: count(r.get(1)?),
                    updated_at: from_millis(r.get(2)?),
                })
            })
            .and_then(|r| r.collect())
            .map_err(|e| self.err(e))?;
        Ok(rows)
    }

    /// One finding by its full id (one index look-up), else by a unique prefix as
    /// [`FindingStore::finding`] (which reads every id for a prefix).
    pub fn finding_by_id(&self, id_or_prefix: &str) -> Result<StoredFinding, StoreError> {
        let t = id_or_prefix.trim();
        if t.len() == 32 && t.bytes().all(|b| b.is_ascii_hexdigit()) {
            let id = t.to_ascii_lowercase();
            return read_finding_opt(&self.conn, &self.path, &id)?.ok_or(StoreError::NotFound(id));
        }
        FindingStore::finding(self, t)
    }

    /// How many findings changed after `mark` (a value of [`Changes::mark`]; 0 for
    /// every finding), and the newest change.
    pub fn changes_since(&self, mark: i64) -> Result<Changes, StoreError> {
        self.conn
            .prepare_cached(
                "SELECT count(*), (SELECT coalesce(max(updated_at), 0) FROM findings)
                 FROM findings WHERE updated_at > ?1",
            )
            .and_then(|mut s| {
                s.query_row([mark], |r| {
                    Ok(Changes {
                        changed: count(r.get(0)?),
                        mark: r.get(1)?,
                    })
                })
            })
            .map_err(|e| self.err(e))
    }

    /// The stored profiles of a database user (its login profiles, one per
    /// instance) or of an IAM principal, at most `max`.
    pub fn profiles_of_user(&self, user: &str, max: u32) -> Result<Vec<ProfileRow>, StoreError> {
        field("the user", &Some(user.to_string()))?;
        let principal = serde_json::to_string(&["principal", user]).unwrap_or_default();
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT key, value FROM profiles WHERE key = ?1
                 UNION ALL
                 SELECT key, value FROM profiles
                 WHERE key >= '[\"login\",' AND key < '[\"login\"-'
                   AND {third} = ?2
                 LIMIT ?3",
                third = match self.conn.dialect() {
                    crate::sql::Dialect::Sqlite => "json_valid(key) AND json_extract(key, '$[2]')",
                    crate::sql::Dialect::Postgres => "(key::jsonb ->> 2)",
                }
            ))
            .map_err(|e| self.err(e))?;
        let rows: Vec<(String, Vec<u8>)> = stmt
            .query_map(params![principal, user, i64::from(max)], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .and_then(|r| r.collect())
            .map_err(|e| self.err(e))?;
        Ok(rows
            .into_iter()
            .filter_map(|(k, v)| {
                Some(ProfileRow {
                    key: serde_json::from_str(&k).ok()?,
                    value: serde_json::from_slice(&v).ok()?,
                })
            })
            .collect())
    }

    /// Writes a person's note in a finding's history (id or unique prefix), without
    /// changing its status; returns the finding's id.
    pub fn add_note(
        &mut self,
        id_or_prefix: &str,
        by: &str,
        note: &str,
        at: DateTime<Utc>,
    ) -> Result<String, StoreError> {
        field("the note", &Some(note.to_string()))?;
        field("the name", &Some(by.to_string()))?;
        if note.trim().is_empty() {
            return Err(StoreError::Invalid("the note is empty".into()));
        }
        let path = self.path.clone();
        let err = |e| StoreError::sql(&path, e);
        let tx = self.write_tx()?;
        let id = Store::resolve_id(&tx, &path, id_or_prefix)?;
        tx.execute(
            "INSERT INTO history (finding_id, at, what, count, severity, by, note)
             SELECT id, ?2, 'note', count, severity, ?3, ?4 FROM findings WHERE id = ?1",
            params![id, millis(at), by, note],
        )
        .map_err(err)?;
        tx.execute(
            "UPDATE findings SET updated_at = ?2 WHERE id = ?1",
            params![id, millis(at)],
        )
        .map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(id)
    }

    /// Deletes suppression rule `id`; the findings it holds suppressed are open
    /// again (`new`, history `unsuppressed` by `by`). `None` when there is no such
    /// rule, else how many findings it released.
    pub fn delete_suppression(
        &mut self,
        id: i64,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<Option<u64>, StoreError> {
        field("the name", &Some(by.to_string()))?;
        let path = self.path.clone();
        let err = |e| StoreError::sql(&path, e);
        let tx = self.write_tx()?;
        let found: Option<i64> = tx
            .query_row("SELECT id FROM suppressions WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .optional()
            .map_err(err)?;
        if found.is_none() {
            return Ok(None);
        }
        let note = format!("suppression rule {id} deleted");
        tx.execute(
            "INSERT INTO history (finding_id, at, what, count, severity, by, note)
             SELECT id, ?2, 'unsuppressed', count, severity, ?3, ?4 FROM findings
             WHERE suppression = ?1 AND status = 'suppressed'",
            params![id, millis(at), by, note],
        )
        .map_err(err)?;
        let n = tx
            .execute(
                "UPDATE findings SET status = 'new', status_by = ?3, status_at = ?2,
                     status_note = ?4, suppression = NULL, updated_at = ?2
                 WHERE suppression = ?1 AND status = 'suppressed'",
                params![id, millis(at), by, note],
            )
            .map_err(err)?;
        tx.execute("DELETE FROM suppressions WHERE id = ?1", [id])
            .map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(Some(u64::try_from(n).unwrap_or(0)))
    }
}

fn row_of(r: &crate::sql::Row<'_>) -> Result<FindingRow, crate::sql::SqlError> {
    let text: Option<String> = r.get(4)?;
    let status: String = r.get(12)?;
    // The account column is the JSON's value as it is: a string in every finding
    // keibi writes; anything else is shown as absent.
    let account = match r.get::<_, crate::sql::Value>(6)? {
        crate::sql::Value::Text(t) => Some(t),
        _ => None,
    };
    Ok(FindingRow {
        id: r.get(0)?,
        finding_type: r.get(1)?,
        severity: Severity::new(r.get(2)?),
        title: r.get::<_, Option<String>>(3)?.unwrap_or_default(),
        text: text.and_then(|t| serde_json::from_str(&t).ok()),
        resource_id: r.get(5)?,
        account,
        actor_ip: r.get(7)?,
        actor_user: r.get(8)?,
        first_seen: from_millis(r.get(9)?),
        last_seen: from_millis(r.get(10)?),
        count: count(r.get(11)?),
        status: status.parse().unwrap_or(Status::New),
    })
}
