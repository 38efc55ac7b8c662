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

    #[test]
    fn shell_values_are_quoted_unless_tame() {
        assert_eq!(sh("db-1"), "db-1");
        assert_eq!(sh("a b"), "'a b'");
        assert_eq!(sh("x';rm -rf /;'"), r"'x'\'';rm -rf /;'\'''");
        assert_eq!(sh("$(id)"), "'$(id)'");
        assert_eq!(sh(""), "''");
    }
}
