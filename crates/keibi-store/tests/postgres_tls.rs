//! A PostgreSQL store over TLS (RDS for PostgreSQL requires it): a private server
//! with a certificate of a test authority. `sslmode=require` with that authority
//! in `$PGSSLROOTCERT` connects over TLS and works; without it the certificate is
//! refused (keibi verifies, unlike libpq's `require`); `sslmode=disable` stays
//! plain. Its own test binary: it sets `$PGSSLROOTCERT` for the process.

use std::path::Path;

use chrono::Utc;
use keibi_store::{Commit, FindingStore, Store};

#[test]
fn tls_is_verified_against_pgsslrootcert() {
    let ck = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()])
        .expect("a certificate");
    let Some(server) = keibi_store::testing::PrivateServer::start_tls(
        &ck.cert.pem(),
        &ck.signing_key.serialize_pem(),
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root.pem");
    std::fs::write(&root, ck.cert.pem()).unwrap();
    let url = server.new_schema();

    // Without the authority: refused, with the reason.
    std::env::remove_var("PGSSLROOTCERT");
    let err = Store::open(Path::new(&format!("{url}&sslmode=require"))).unwrap_err();
    assert!(
        err.to_string().to_ascii_lowercase().contains("certificate"),
        "{err}"
    );

    std::env::set_var("PGSSLROOTCERT", &root);
    let tls = format!("{url}&sslmode=require");
    let mut s = Store::open(Path::new(&tls)).unwrap();
    s.commit(&Commit::new(Utc::now())).unwrap();
    assert!(s.findings(&Default::default()).unwrap().is_empty());
    let mut c = postgres_ssl_of(&tls);
    assert!(c, "the store's connection is over TLS");
    c = postgres_ssl_of(&format!("{url}&sslmode=disable"));
    assert!(!c, "sslmode=disable stays plain");
}

/// Whether a connection the store's way (a store opened on `url`) runs over TLS,
/// as the server sees it.
fn postgres_ssl_of(url: &str) -> bool {
    let s = Store::open(Path::new(url)).unwrap();
    s.connection_uses_tls().unwrap()
}
