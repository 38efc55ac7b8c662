//! CloudTrail.1-5: is the account's API activity recorded, and can the record be
//! trusted?
//!
//! CloudTrail.1 and 3 are about the account (resource `aws_account`, judged in
//! each region's inventory, as Security Hub does); 2, 4 and 5 about each trail, in
//! its home region's inventory only (a multi-region trail is listed in every region).

use crate::aws::model::*;
use crate::aws::rds::aws;
use crate::aws::{resource, sh, src, Inventory};
use crate::control::Control;
use crate::outcome::Outcome;

const DEFENSE_EVASION: &[&str] = &["T1562.008"];

pub const CT_1: Control = aws(
    "CloudTrail.1",
    "NoMultiRegionTrail",
    7.0,
    "aws_account",
    DEFENSE_EVASION,
    "pa-ct-1",
);
pub const CT_2: Control = aws(
    "CloudTrail.2",
    "TrailNotEncrypted",
    5.0,
    "trail",
    &["T1530"],
    "pa-ct-2",
);
pub const CT_3: Control = aws(
    "CloudTrail.3",
    "NotEnabled",
    7.0,
    "aws_account",
    DEFENSE_EVASION,
    "pa-ct-3",
);
pub const CT_4: Control = aws(
    "CloudTrail.4",
    "LogValidationOff",
    2.0,
    "trail",
    &["T1565.001"],
    "pa-ct-4",
);
pub const CT_5: Control = aws(
    "CloudTrail.5",
    "NoCloudWatchLogs",
    2.0,
    "trail",
    DEFENSE_EVASION,
    "pa-ct-5",
);

pub fn check(inv: &Inventory, out: &mut Vec<Outcome>) {
    ct_1(inv, out);
    ct_3(inv, out);
    for t in own_trails(inv) {
        out.push(ct_2(inv, t));
        out.push(ct_4(inv, t));
        out.push(ct_5(inv, t));
    }
}

const TRAILS: &str = "cloudtrail:DescribeTrails";

/// The trails whose home region is this inventory's (all when either is unknown).
fn own_trails(inv: &Inventory) -> impl Iterator<Item = &Trail> {
    inv.trails.iter().flatten().filter(move |t| {
        match (t.home_region.as_deref(), inv.region.as_deref()) {
            (Some(h), Some(r)) => h == r,
            _ => true,
        }
    })
}

/// Whether the trail is logging: `None` when its status was not read.
fn logging(inv: &Inventory, t: &Trail) -> Option<bool> {
    inv.trail_status.as_ref()?.iter().find_map(|s| {
        let same = s.trail == t.name || t.arn.as_deref() == Some(s.trail.as_str());
        same.then_some(s.is_logging)
    })
}

/// Whether the trail records read and write management events: from its event
/// selectors (basic: `ReadWriteType` All with management events; advanced: a
/// selector on `eventCategory` Management with no `readOnly` condition), or, when
/// those were not read or are empty, from `HasCustomEventSelectors` false (the
/// default records all management events). `None` when it cannot be told.
fn all_management(inv: &Inventory, t: &Trail) -> Option<bool> {
    let selectors = inv.event_selectors.as_ref().and_then(|list| {
        list.iter()
            .find(|e| Some(e.trail_arn.as_str()) == t.arn.as_deref() || e.trail_arn == t.name)
    });
    let Some(es) = selectors else {
        return (!t.custom_event_selectors).then_some(true);
    };
    // No selector at all on a trail that never had custom ones: the default, which
    // records every management event (moto answers so; AWS lists the default).
    if es.selectors.is_empty() && es.advanced.is_empty() {
        return Some(!t.custom_event_selectors);
    }
    let basic = es.selectors.iter().any(|s| {
        s.include_management_events.unwrap_or(true)
            && s.read_write_type
                .as_deref()
                .is_none_or(|rw| rw.eq_ignore_ascii_case("all"))
    });
    let advanced = es.advanced.iter().any(|a| {
        let management = a
            .field_selectors
            .iter()
            .any(|f| f.field == "eventCategory" && f.equals.iter().any(|v| v == "Management"));
        let read_only_filter = a.field_selectors.iter().any(|f| f.field == "readOnly");
        management && !read_only_filter
    });
    Some(basic || advanced)
}

fn account_outcome(inv: &Inventory, c: &'static Control, ok: bool) -> Outcome {
    let account = inv.account.as_deref().unwrap_or("-");
    Outcome::judged(c, ok, resource(inv, "aws_account", account, None))
}

/// CloudTrail.1: a multi-region trail that is logging and records read and write
/// management events.
fn ct_1(inv: &Inventory, out: &mut Vec<Outcome>) {
    let Some(trails) = inv.trails.as_ref() else {
        return;
    };
    let mut undecided = false;
    let mut good = None;
    for t in trails.iter().filter(|t| t.multi_region) {
        match (logging(inv, t), all_management(inv, t)) {
            (Some(true), Some(true)) => {
                good = Some(t);
                break;
            }
            (Some(false), _) | (_, Some(false)) => {}
            _ => undecided = true,
        }
    }
    let o = match good {
        Some(t) => account_outcome(inv, &CT_1, true).observed(
            src(inv, TRAILS),
            format!("{}: multi-region, logging, all management events", t.name),
        ),
        None if undecided => return,
        None => account_outcome(inv, &CT_1, false).observed(
            src(inv, TRAILS),
            format!(
                "{} trails, {} multi-region; none logging read and write management events",
                trails.len(),
                trails.iter().filter(|t| t.multi_region).count()
            ),
        ),
    };
    out.push(o.arg("trails", trails.len()));
}

/// CloudTrail.3: at least one trail is logging.
fn ct_3(inv: &Inventory, out: &mut Vec<Outcome>) {
    let Some(trails) = inv.trails.as_ref() else {
        return;
    };
    let states: Vec<Option<bool>> = trails.iter().map(|t| logging(inv, t)).collect();
    let o = if let Some(t) = trails.iter().find(|t| logging(inv, t) == Some(true)) {
        account_outcome(inv, &CT_3, true).observed(
            src(inv, "cloudtrail:GetTrailStatus"),
            format!("{}: IsLogging=true", t.name),
        )
    } else if states.iter().all(|s| *s == Some(false)) {
        let fact = if trails.is_empty() {
            "no trail".to_string()
        } else {
            format!("{} trails, none logging", trails.len())
        };
        account_outcome(inv, &CT_3, false).observed(src(inv, TRAILS), fact)
    } else {
        return;
    };
    out.push(o.arg("trails", trails.len()));
}

fn trail_outcome(inv: &Inventory, c: &'static Control, t: &Trail, ok: bool) -> Outcome {
    let id = t.arn.as_deref().unwrap_or(&t.name);
    let mut r = resource(inv, "trail", id, None);
    if let Some(h) = &t.home_region {
        r.region = Some(h.clone());
    }
    Outcome::judged(c, ok, r)
        .arg("trail", t.name.as_str())
        .arg("qtrail", sh(&t.name))
}

/// CloudTrail.2: the trail's logs are encrypted with a KMS key.
fn ct_2(inv: &Inventory, t: &Trail) -> Outcome {
    trail_outcome(inv, &CT_2, t, t.kms_key_id.is_some()).observed(
        src(inv, TRAILS),
        format!("KmsKeyId={}", t.kms_key_id.as_deref().unwrap_or("-")),
    )
}

/// CloudTrail.4: log file validation.
fn ct_4(inv: &Inventory, t: &Trail) -> Outcome {
    trail_outcome(inv, &CT_4, t, t.log_file_validation).observed(
        src(inv, TRAILS),
        format!("LogFileValidationEnabled={}", t.log_file_validation),
    )
}

/// CloudTrail.5: the trail sends to CloudWatch Logs.
fn ct_5(inv: &Inventory, t: &Trail) -> Outcome {
    trail_outcome(inv, &CT_5, t, t.cloudwatch_logs_group.is_some()).observed(
        src(inv, TRAILS),
        format!(
            "CloudWatchLogsLogGroupArn={}",
            t.cloudwatch_logs_group.as_deref().unwrap_or("-")
        ),
    )
}
