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
