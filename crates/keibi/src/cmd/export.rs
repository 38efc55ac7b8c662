//! `keibi findings export --to securityhub`: the store's findings as ASFF
//! (`output::asff`), with their workflow status, imported into Security Hub in the
//! caller's account through the AWS edge (`aws::securityhub_import`). Importing
//! again updates the same findings there: the store's status is mirrored.

use std::time::Duration;

use anyhow::Result;
use keibi_i18n::Msg;
use keibi_store::{FindingStore, Query, Status, Store};

use crate::cli::{ExportArgs, ExportTo};
use crate::locale::say;
use crate::output::asff::{finding, Target};
use crate::output::sanitize::terminal;

/// Refused findings listed one a line at most; the rest are counted.
const MAX_REFUSED_LINES: usize = 20;

pub fn run(store: &Store, args: &ExportArgs) -> Result<u8> {
    let statuses = args
        .status
        .iter()
        .map(|s| s.parse::<Status>())
        .collect::<Result<Vec<_>, _>>()?;
    let found = store.findings(&Query {
        statuses,
        min_severity: args.min_severity,
        types: Vec::new(),
        limit: None,
    })?;
    if found.is_empty() {
        eprintln!("{}", say(Msg::new("export-none")));
        return Ok(0);
    }
    match args.to {
        ExportTo::Securityhub => {
            let hub = crate::aws::HubTarget {
                region: args.region.clone(),
                endpoint_url: args.endpoint_url.clone(),
                profile: args.profile.clone(),
                timeout: Duration::from_secs(30),
                set_workflow: args.set_workflow,
            };
            let report = crate::aws::securityhub_import(&hub, |account, region| {
                let t = Target {
                    account: account.to_string(),
                    region: region.to_string(),
                };
                found
                    .iter()
                    .map(|s| finding(&s.finding, s.status.as_str(), s.updated_at, &t))
                    .collect()
            })?;
            let hub_region = report.region.clone();
            for (id, code, message) in report.refused.iter().take(MAX_REFUSED_LINES) {
                eprintln!(
                    "{}",
                    say(Msg::new("export-refused")
                        .arg("id", terminal(id).into_owned())
                        .arg("code", terminal(code).into_owned())
                        .arg("message", terminal(message).into_owned()))
                );
            }
            eprintln!(
                "{}",
                say(Msg::new("export-done")
                    .arg("imported", report.imported)
                    .arg("refused", report.refused.len())
                    .arg("account", report.account)
                    .arg("region", report.region.clone())
                    .arg("calls", report.calls))
            );
            if args.set_workflow {
                for (id, code, message) in report.workflow_refused.iter().take(MAX_REFUSED_LINES) {
                    eprintln!(
                        "{}",
                        say(Msg::new("export-workflow-refused")
                            .arg("id", terminal(id).into_owned())
                            .arg("code", terminal(code).into_owned())
                            .arg("message", terminal(message).into_owned()))
                    );
                }
                eprintln!(
                    "{}",
                    say(Msg::new("export-workflow-done")
                        .arg("set", report.workflow_set)
                        .arg("refused", report.workflow_refused.len())
                        .arg("calls", report.workflow_calls))
                );
            }
            crate::aws::say_usage(Some(&hub_region), false);
            Ok(u8::from(
                !report.refused.is_empty() || !report.workflow_refused.is_empty(),
            ))
        }
    }
}
