//! What the inventory tests share: a moto server started on a free loopback port
//! with the insecure estate of `tests/data/make_estate.py` made in it.

#![allow(dead_code)] // each test file uses part of it

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::common::{free_port, python_with, Service};

pub struct Estate {
    _svc: Service,
    pub endpoint: String,
    /// What make_estate.py printed: the ids it made.
    pub made: Value,
}

/// A moto server with the estate made in `region` (`extra`: arguments of
/// make_estate.py), or `None` (skipped) without the test venv.
pub fn estate(extra: &[&str]) -> Option<Estate> {
    let python = python_with("moto")?;
    let port = free_port();
    let mut cmd = Command::new(python.with_file_name("moto_server"));
    cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
    let svc = Service::start(cmd, port, "Running on", "moto_server");
    let endpoint = format!("http://127.0.0.1:{port}");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/make_estate.py");
    let out = Command::new(&python)
        .arg(script)
        .arg(&endpoint)
        .args(extra)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .output()
        .expect("run make_estate.py");
    assert!(
        out.status.success(),
        "make_estate.py {extra:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(Estate {
        _svc: svc,
        endpoint,
        made: serde_json::from_slice(&out.stdout).expect("make_estate.py JSON"),
    })
}

/// Credentials through the standard chain's environment variables, set before any
/// client reads them: each test binary sets them once (the denied test's binary
/// sets its IAM user's), and no profile or instance metadata is looked at.
pub fn credentials(key: &str, secret: &str) {
    std::env::set_var("AWS_ACCESS_KEY_ID", key);
    std::env::set_var("AWS_SECRET_ACCESS_KEY", secret);
    std::env::remove_var("AWS_SESSION_TOKEN");
    std::env::remove_var("AWS_PROFILE");
    std::env::remove_var("AWS_ENDPOINT_URL");
    std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
    std::env::set_var("AWS_CONFIG_FILE", "/nonexistent/keibi-test/config");
    std::env::set_var(
        "AWS_SHARED_CREDENTIALS_FILE",
        "/nonexistent/keibi-test/credentials",
    );
}

pub fn options(endpoint: &str, region: &str) -> keibi_aws::inventory::InventoryOptions {
    keibi_aws::inventory::InventoryOptions {
        regions: vec![region.to_string()],
        endpoint_url: Some(endpoint.to_string()),
        profile: None,
        timeout: Duration::from_secs(20),
        ..Default::default()
    }
}
