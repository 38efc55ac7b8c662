//! GuardDuty.1 (a detector is enabled in the region) and GuardDuty.9 (its RDS
//! Protection, feature `RDS_LOGIN_EVENTS`, is on). Both are about the account in
//! the inventory's region.

use crate::aws::model::*;
use crate::aws::rds::aws;
use crate::aws::{resource, sh, src, Inventory};
use crate::control::Control;
use crate::outcome::Outcome;

pub const GD_1: Control = aws(
    "GuardDuty.1",
    "NotEnabled",
    7.0,
    "aws_account",
    &["T1562.001"],
    "pa-gd-1",
);
pub const GD_9: Control = aws(
    "GuardDuty.9",
    "RdsProtectionOff",
    7.0,
    "aws_account",
    &["T1562.001", "T1110"],
    "pa-gd-9",
);

pub fn check(inv: &Inventory, out: &mut Vec<Outcome>) {
    let Some(detectors) = inv.guardduty.as_ref() else {
        return;
    };
    out.extend(gd_1(inv, detectors));
    out.extend(gd_9(inv, detectors));
}

fn enabled(s: Option<&str>) -> Option<bool> {
    s.map(|s| s.trim().eq_ignore_ascii_case("enabled"))
}

fn outcome(inv: &Inventory, c: &'static Control, ok: bool, detector: Option<&Detector>) -> Outcome {
    let account = inv.account.as_deref().unwrap_or("-");
    let id = detector.map(|d| d.id.as_str()).unwrap_or("-");
    Outcome::judged(c, ok, resource(inv, "aws_account", account, None))
        .arg("detector", id)
        .arg("qdetector", sh(id))
        .arg("found", if detector.is_some() { "yes" } else { "no" })
}

const API: &str = "guardduty:GetDetector";

/// GuardDuty.1: passed when a detector is enabled; failed when there is none or
/// every one is disabled; not evaluated when a detector's status was not read.
fn gd_1(inv: &Inventory, detectors: &[Detector]) -> Option<Outcome> {
    if let Some(d) = detectors
        .iter()
        .find(|d| enabled(d.status.as_deref()) == Some(true))
    {
        return Some(
            outcome(inv, &GD_1, true, Some(d))
                .observed(src(inv, API), format!("{}: Status=ENABLED", d.id)),
        );
    }
    if detectors.iter().any(|d| d.status.is_none()) {
        return None;
    }
    let fact = match detectors.first() {
        None => "ListDetectors: no detector".to_string(),
        Some(d) => format!("{}: Status={}", d.id, d.status.as_deref().unwrap_or("-")),
    };
    Some(outcome(inv, &GD_1, false, detectors.first()).observed(src(inv, API), fact))
}

/// GuardDuty.9: an enabled detector has `RDS_LOGIN_EVENTS` enabled. Failed too when
/// GuardDuty is off (no detector, or all disabled); not evaluated when the status or
/// the features were not read.
fn gd_9(inv: &Inventory, detectors: &[Detector]) -> Option<Outcome> {
    let rds = |d: &Detector| {
        d.features
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case("RDS_LOGIN_EVENTS"))
            .map(|f| enabled(f.status.as_deref()) == Some(true))
    };
    let on: Vec<&Detector> = detectors
        .iter()
        .filter(|d| enabled(d.status.as_deref()) == Some(true))
        .collect();
    if let Some(d) = on.iter().find(|d| rds(d) == Some(true)) {
        return Some(
            outcome(inv, &GD_9, true, Some(d))
                .observed(src(inv, API), format!("{}: RDS_LOGIN_EVENTS=ENABLED", d.id)),
        );
    }
    if detectors.iter().any(|d| d.status.is_none()) || on.iter().any(|d| d.features.is_empty()) {
        return None;
    }
    let d = on.first().copied().or(detectors.first());
    let fact = match (d, on.is_empty()) {
        (None, _) => "ListDetectors: no detector".to_string(),
        (Some(d), true) => format!("{}: Status={}", d.id, d.status.as_deref().unwrap_or("-")),
        (Some(d), false) => format!(
            "{}: RDS_LOGIN_EVENTS={}",
            d.id,
            d.features
                .iter()
                .find(|f| f.name.eq_ignore_ascii_case("RDS_LOGIN_EVENTS"))
                .and_then(|f| f.status.as_deref())
                .unwrap_or("not listed")
        ),
    };
    Some(outcome(inv, &GD_9, false, d).observed(src(inv, API), fact))
}
