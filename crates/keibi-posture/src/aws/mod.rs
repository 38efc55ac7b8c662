//! The AWS side: the resource model, saved-JSON loading, and the controls
//! (Security Hub's RDS, EC2, CloudTrail and GuardDuty controls, and keibi's own for
//! network ACLs and reachability).
//!
//! Each control is one small function over an [`Inventory`]; a control whose data
//! was not observed (the list is `None`, or the piece it needs is missing) gives no
//! outcome at all: never a guessed pass or fail. Every resource a control applies
//! to gives an outcome, passed or failed, so a report can count a score.

pub mod cloudtrail;
pub mod guardduty;
pub mod load;
pub mod model;
pub mod net;
pub mod network;
pub mod rds;
pub mod reach;

pub use model::Inventory;

use keibi_model::{Engine, Resource};

use crate::control::Control;
use crate::outcome::Outcome;

/// Every AWS control, in catalog order.
pub static CONTROLS: &[Control] = &[
    rds::RDS_1,
    rds::RDS_2,
    rds::RDS_3,
    rds::RDS_4,
    rds::RDS_5,
    rds::RDS_6,
    rds::RDS_7,
    rds::RDS_8,
    rds::RDS_9,
    rds::RDS_10,
    rds::RDS_11,
    rds::RDS_13,
    rds::RDS_23,
    rds::RDS_24,
    rds::RDS_25,
    rds::RDS_27,
    rds::RDS_34,
    rds::RDS_35,
    rds::RDS_36,
    rds::RDS_37,
    rds::RDS_38,
    rds::RDS_39,
    rds::RDS_42,
    rds::RDS_44,
    rds::RDS_45,
    reach::RDS_46,
    network::EC2_2,
    network::EC2_18,
    network::EC2_19,
    network::NACL_1,
    reach::KB_RDS_1,
    cloudtrail::CT_1,
    cloudtrail::CT_2,
    cloudtrail::CT_3,
    cloudtrail::CT_4,
    cloudtrail::CT_5,
    guardduty::GD_1,
    guardduty::GD_9,
];

/// Runs every AWS control over one account and region's inventory.
pub fn check(inv: &Inventory, out: &mut Vec<Outcome>) {
    rds::check(inv, out);
    reach::check(inv, out);
    network::check(inv, out);
    cloudtrail::check(inv, out);
    guardduty::check(inv, out);
}

/// The engine family keibi's findings name: PostgreSQL or MySQL/MariaDB.
pub(crate) fn engine_of(engine: &str) -> Option<Engine> {
    let e = engine.to_ascii_lowercase();
    if e.contains("postgres") {
        Some(Engine::Postgres)
    } else if e.contains("mysql") || e.contains("mariadb") || e == "aurora" {
        Some(Engine::Mysql)
    } else {
        None
    }
}

pub(crate) fn resource(inv: &Inventory, kind: &str, id: &str, engine: Option<Engine>) -> Resource {
    Resource {
        kind: kind.to_string(),
        id: id.to_string(),
        engine,
        account: inv.account.clone(),
        region: inv.region.clone(),
    }
}

/// Where a fact was read: the API and region when live, the saved files otherwise.
pub(crate) fn src(inv: &Inventory, api: &str) -> String {
    let region = inv.region.as_deref().unwrap_or("-");
    if inv.source.is_empty() || inv.source == "aws" {
        format!("{api} {region}")
    } else {
        format!("{api} {region} ({})", inv.source)
    }
}

/// A value for a shell command line: as it is when made of characters a shell
/// leaves alone, else single-quoted. AWS names are tame, but saved JSON is not to be
/// trusted: a command a person copies must not run something else.
pub(crate) fn sh(s: &str) -> String {
    let tame = !s.is_empty()
        && s.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'-' | b'_' | b'.' | b':' | b'/' | b'@' | b'+' | b'=' | b','
                )
        });
    if tame {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_ids_are_unique_and_texts_are_in_both_catalogs() {
        let mut ids: Vec<&str> = CONTROLS.iter().map(|c| c.id).collect();
        ids.sort();
        let n = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), n, "a control id twice");
        for lang in keibi_i18n::Lang::ALL {
            let cat: Vec<String> = keibi_i18n::catalog_ids(lang)
                .into_iter()
                .map(|(id, _)| id)
                .collect();
            for c in CONTROLS {
                for part in ["title", "what", "console", "cli"] {
                    let id = format!("{}-{part}", c.msg);
                    assert!(cat.contains(&id), "{lang}: {id} missing");
                }
            }
        }
    }

    /// Security Hub's severity labels (reference/systems-and-formats.md §3, FSBP):
    /// Critical 9.0, High 7.0, Medium 5.0, Low 2.0; keibi's own controls last.
    #[test]
    fn severities_are_security_hubs() {
        let want: &[(&str, f64)] = &[
            ("RDS.1", 9.0),
            ("RDS.2", 9.0),
            ("RDS.3", 5.0),
            ("RDS.4", 5.0),
            ("RDS.5", 5.0),
            ("RDS.6", 2.0),
            ("RDS.7", 5.0),
            ("RDS.8", 2.0),
            ("RDS.9", 5.0),
            ("RDS.10", 5.0),
            ("RDS.11", 5.0),
            ("RDS.13", 7.0),
            ("RDS.23", 2.0),
            ("RDS.24", 5.0),
            ("RDS.25", 5.0),
            ("RDS.27", 5.0),
            ("RDS.34", 5.0),
            ("RDS.35", 5.0),
            ("RDS.36", 5.0),
            ("RDS.37", 5.0),
            ("RDS.38", 5.0),
            ("RDS.39", 5.0),
            ("RDS.42", 5.0),
            ("RDS.44", 5.0),
            ("RDS.45", 5.0),
            ("RDS.46", 7.0),
            ("EC2.2", 7.0),
            ("EC2.18", 7.0),
            ("EC2.19", 9.0),
            ("CloudTrail.1", 7.0),
            ("CloudTrail.2", 5.0),
            ("CloudTrail.3", 7.0),
            ("CloudTrail.4", 2.0),
            ("CloudTrail.5", 2.0),
            ("GuardDuty.1", 7.0),
            ("GuardDuty.9", 7.0),
            ("KB.NACL.1", 5.0),
            ("KB.RDS.1", 9.0),
        ];
        let got: Vec<(&str, f64)> = CONTROLS.iter().map(|c| (c.id, c.severity)).collect();
        let mut want = want.to_vec();
        let mut got2 = got.clone();
        want.sort_by(|a, b| a.0.cmp(b.0));
        got2.sort_by(|a, b| a.0.cmp(b.0));
        assert_eq!(got2, want);
        for c in CONTROLS {
            assert_eq!(c.aws_control, !c.id.starts_with("KB."), "{}", c.id);
            assert!(
                c.short.bytes().all(|b| b.is_ascii_alphanumeric()),
                "{}",
                c.short
            );
        }
    }

    #[test]
    fn shell_values_are_quoted_unless_tame() {
        assert_eq!(sh("db-1"), "db-1");
        assert_eq!(sh("a b"), "'a b'");
        assert_eq!(sh("x';rm -rf /;'"), r"'x'\'';rm -rf /;'\'''");
        assert_eq!(sh("$(id)"), "'$(id)'");
        assert_eq!(sh(""), "''");
    }
}
