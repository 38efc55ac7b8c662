//! `keibi learn`: reads archived logs like `keibi scan`, but only trains behavioural
//! profiles and saves them to the state file, so that `keibi scan --state` (or a
//! daemon) judges logins and API calls from its first event instead of after weeks.

use anyhow::{Context, Result};
use keibi_detect::detectors::baseline::BaselineDetector;
use keibi_detect::{Scanner, Services};
use keibi_engine::pipeline::{Lane, Pipeline};

use crate::baselines;
use crate::cli::{Global, LearnArgs};
use crate::locale::say;
use crate::output::sanitize::terminal;
use keibi_i18n::Msg;

pub fn run(args: &LearnArgs, global: &Global) -> Result<u8> {
    let config = super::scan::load_config(args.config.as_deref())?;
    let mut services = Services::default();
    let persist = baselines::setup(
        &config,
        &mut services,
        Some(&args.state),
        args.asn_db.as_deref(),
        args.geoip_db.as_deref(),
        global.quiet,
    )?
    .context("--state")?;
    let before = persist.counts();
    let learner = BaselineDetector::learner(&config);
    let scanner = Scanner::with_detectors(config, services, vec![Box::new(learner)]);
    let out = Pipeline::new()
        .lane(Lane::new("learn", scanner))
        .run(|sink| super::read_inputs(&args.input, global, sink));
    let report = out.source?;
    let saved = persist.save()?;
    let code = super::events::summarize(&report, false);
    let after = persist.counts();
    eprintln!(
        "{}",
        say(Msg::new("learn-done")
            .arg("after", baselines::summary(&after))
            .arg("before", baselines::summary(&before))
            .arg("saved", saved.written as u64)
            .arg(
                "path",
                terminal(&persist.path().display().to_string()).into_owned()
            ))
    );
    Ok(code)
}
