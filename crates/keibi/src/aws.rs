//! The AWS edge (`crates/keibi-aws`), compiled in with the `aws` feature (on by
//! default). Without it everything else builds and runs; what needs AWS says so.

use keibi_notify::channels::MakeSns;

/// The hook `keibi_notify::channels::build` makes SNS channels with, or `None` when
/// keibi is built without the `aws` feature (an SNS channel is then a clear error).
pub fn sns() -> Option<MakeSns<'static>> {
    #[cfg(feature = "aws")]
    {
        Some(&keibi_aws::sns::build)
    }
    #[cfg(not(feature = "aws"))]
    {
        None
    }
}

/// Reads the AWS inventory live, or says that this keibi was built without AWS.
pub fn inventory(
    opts: &AwsInventory,
) -> anyhow::Result<(Vec<keibi_posture::aws::Inventory>, Vec<String>)> {
    #[cfg(feature = "aws")]
    {
        let o = keibi_aws::inventory::InventoryOptions {
            regions: opts.regions.clone(),
            endpoint_url: opts.endpoint_url.clone(),
            profile: opts.profile.clone(),
            timeout: opts.timeout,
        };
        Ok(keibi_aws::inventory::collect(&o)?)
    }
    #[cfg(not(feature = "aws"))]
    {
        let _ = opts;
        anyhow::bail!("this keibi was built without AWS (the `aws` feature): use --aws-json with saved AWS CLI outputs")
    }
}

/// What `inventory` reads: the binary's own copy of the options, so callers need
/// not know whether the AWS edge is compiled in.
#[derive(Debug, Clone, Default)]
pub struct AwsInventory {
    pub regions: Vec<String>,
    pub endpoint_url: Option<String>,
    pub profile: Option<String>,
    pub timeout: std::time::Duration,
}

/// Where and how `keibi findings export --to securityhub` sends.
#[derive(Debug, Clone, Default)]
pub struct HubTarget {
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
    pub profile: Option<String>,
    pub timeout: std::time::Duration,
    /// Also set each finding's workflow status (BatchUpdateFindings).
    pub set_workflow: bool,
}

/// What an import into Security Hub did: the account and region, how many findings
/// were taken, each refused one (id, error code, message) and the calls made.
#[derive(Debug, Clone, Default)]
pub struct HubReport {
    pub account: String,
    pub region: String,
    pub imported: usize,
    pub refused: Vec<(String, String, String)>,
    pub calls: usize,
    pub workflow_set: usize,
    pub workflow_refused: Vec<(String, String, String)>,
    pub workflow_calls: usize,
}

/// Imports the ASFF findings `make(account, region)` writes into Security Hub, or
/// says that this keibi was built without AWS.
pub fn securityhub_import(
    target: &HubTarget,
    make: impl FnOnce(&str, &str) -> Vec<serde_json::Value>,
) -> anyhow::Result<HubReport> {
    #[cfg(feature = "aws")]
    {
        let o = keibi_aws::securityhub::ImportOptions {
            region: target.region.clone(),
            endpoint_url: target.endpoint_url.clone(),
            profile: target.profile.clone(),
            timeout: target.timeout,
            set_workflow: target.set_workflow,
        };
        let r = keibi_aws::securityhub::import(&o, make)?;
        let triple = |x: keibi_aws::securityhub::Refused| (x.id, x.code, x.message);
        Ok(HubReport {
            account: r.account,
            region: r.region,
            imported: r.imported,
            refused: r.refused.into_iter().map(triple).collect(),
            calls: r.calls,
            workflow_set: r.workflow_set,
            workflow_refused: r.workflow_refused.into_iter().map(triple).collect(),
            workflow_calls: r.workflow_calls,
        })
    }
    #[cfg(not(feature = "aws"))]
    {
        let _ = (target, make);
        anyhow::bail!("this keibi was built without AWS (the `aws` feature): use --format asff and import the file with the AWS CLI")
    }
}

#[cfg(test)]
mod tests {
    use keibi_notify::channels::{build, ChannelKind, ChannelSpec, SnsSpec};
    use keibi_notify::text::Style;

    #[test]
    fn sns_channels_build_only_with_the_aws_feature() {
        let spec = ChannelSpec {
            name: "ops-sns".into(),
            lang: None,
            rate_limit: 30,
            kind: ChannelKind::Sns(SnsSpec {
                topic_arn: "arn:aws:sns:ap-northeast-1:123456789012:keibi".into(),
                region: None,
                endpoint_url: Some("http://127.0.0.1:9".into()),
            }),
        };
        let built = build(&spec, &Style::default(), super::sns());
        if cfg!(feature = "aws") {
            assert!(built.is_ok());
        } else {
            let e = built.err().expect("refused").to_string();
            assert!(e.contains("`aws` feature"), "{e}");
        }
    }
}
