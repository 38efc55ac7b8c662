//! `keibi demo`: runs keibi on built-in data so a new user sees it work with one
//! command. The data is real server output (see `demo/README.md`), embedded in the binary.

use anyhow::{Context, Result};

use crate::cli::{DemoArgs, EventsArgs, Global, InputArgs};

/// Demo logs: (path under the demo directory, contents).
const FILES: &[(&str, &str)] = &[
    (
        "shop-postgres/postgresql.log.2026-11-28-15",
        include_str!("../../demo/postgresql-rds-prefix.log"),
    ),
    (
        "shop-postgres/postgresql.log.2026-11-28-16",
        include_str!("../../demo/postgresql-hydra-bruteforce.log"),
    ),
    (
        "shop-mariadb/audit/server_audit.log.1",
        include_str!("../../demo/mariadb-server_audit.log"),
    ),
    (
        "shop-mariadb/audit/server_audit.log",
        include_str!("../../demo/mariadb-hydra-bruteforce-audit.log"),
    ),
];

pub fn run(args: &DemoArgs, global: &Global) -> Result<u8> {
    let tmp;
    let dir = match &args.write_to {
        Some(d) => d.clone(),
        None => {
            tmp = tempfile::tempdir().context("creating a temporary directory")?;
            tmp.path().to_path_buf()
        }
    };
    for (name, body) in FILES {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        std::fs::write(&path, body).with_context(|| format!("writing {}", path.display()))?;
    }
    eprintln!(
        "keibi demo: reading real PostgreSQL and MariaDB logs written to {}",
        dir.display()
    );
    let events = EventsArgs {
        input: InputArgs {
            paths: vec![dir.to_string_lossy().into_owned()],
            log_format: None,
            pg_prefix: None,
            instance: None,
            log_timezone: "+00:00".into(),
            since: None,
            until: None,
        },
        format: Some(crate::cli::EventFormat::Table),
        fail_on_unparsed: false,
    };
    super::events::run(&events, global)
}
