//! How a stored finding and a detector's current view of it become one (the
//! aggregation rule of the crate documentation).

use keibi_model::finding::{Evidence, Finding, EVIDENCE_HEAD, MAX_DISTINCT, MAX_EVIDENCE};

/// The stored finding grown by `added` events, seen now as `new`: count added,
/// earliest first and latest last seen, highest severity, addresses and users
/// united (at most [`MAX_DISTINCT`] each), texts and everything else from `new`,
/// evidence the stored head then the latest.
pub fn merge(stored: &Finding, new: &Finding, added: u64) -> Finding {
    let mut f = new.clone();
    f.count = stored.count.saturating_add(added);
    f.first_seen = stored.first_seen.min(new.first_seen);
    f.last_seen = stored.last_seen.max(new.last_seen);
    f.severity = stored.severity.max(new.severity);

    let mut ips: Vec<_> = stored
        .actor
        .ip
        .into_iter()
        .chain(stored.actor.ips.iter().copied())
        .chain(new.actor.ip)
        .chain(new.actor.ips.iter().copied())
        .collect();
    ips.sort();
    ips.dedup();
    let mut users: Vec<String> = stored
        .actor
        .user
        .iter()
        .chain(&stored.actor.users)
        .chain(&new.actor.user)
        .chain(&new.actor.users)
        .cloned()
        .collect();
    users.sort();
    users.dedup();
    let a = &mut f.actor;
    a.ips_truncated =
        stored.actor.ips_truncated || new.actor.ips_truncated || ips.len() > MAX_DISTINCT;
    a.users_truncated =
        stored.actor.users_truncated || new.actor.users_truncated || users.len() > MAX_DISTINCT;
    ips.truncate(MAX_DISTINCT);
    users.truncate(MAX_DISTINCT);
    a.ip = match ips.as_slice() {
        [one] => Some(*one),
        _ => None,
    };
    a.user = match users.as_slice() {
        [one] => Some(one.clone()),
        _ => None,
    };
    a.ips = ips;
    a.users = users;
    if a.app.is_none() {
        a.app = stored.actor.app.clone();
    }
    if f.resource.engine.is_none() {
        f.resource.engine = stored.resource.engine;
    }

    let mut evidence: Vec<Evidence> = stored.evidence.clone();
    f.evidence = Vec::new();
    std::mem::swap(&mut f.evidence, &mut evidence);
    for e in &new.evidence {
        if !f.evidence.contains(e) {
            f.push_evidence(e.clone());
        }
    }
    debug_assert!(f.evidence.len() <= MAX_EVIDENCE.max(EVIDENCE_HEAD));
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};
    use keibi_model::finding::{Resource, Severity};

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().into()
    }

    fn finding(ip: &str, user: &str, sev: f64, first: &str, last: &str, count: u64) -> Finding {
        let mut f = Finding::new(
            "d",
            "X:RDS/Y",
            &["k"],
            Severity::new(sev),
            Resource::default(),
            t(first),
        );
        f.last_seen = t(last);
        f.count = count;
        f.actor.ip = Some(ip.parse().unwrap());
        f.actor.user = Some(user.into());
        f
    }

    #[test]
    fn adds_counts_spans_times_and_unites_actors() {
        let a = finding(
            "10.0.0.1",
            "app",
            5.0,
            "2026-11-01T00:00:00Z",
            "2026-11-01T01:00:00Z",
            7,
        );
        let b = finding(
            "10.0.0.2",
            "app",
            4.0,
            "2026-11-02T00:00:00Z",
            "2026-11-02T00:30:00Z",
            3,
        );
        let m = merge(&a, &b, 3);
        assert_eq!(m.count, 10);
        assert_eq!(m.first_seen, t("2026-11-01T00:00:00Z"));
        assert_eq!(m.last_seen, t("2026-11-02T00:30:00Z"));
        assert_eq!(m.severity, Severity::new(5.0), "severity never goes down");
        assert_eq!(m.actor.ip, None, "two addresses: the list says who");
        assert_eq!(m.actor.ips.len(), 2);
        assert_eq!(m.actor.user.as_deref(), Some("app"));
        // Round trip through JSON, as the store keeps it, and merge again.
        let back: Finding = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
        let m2 = merge(&back, &b, 0);
        assert_eq!(m2.count, 10);
        assert_eq!(m2.actor.ips, m.actor.ips);
    }
}
