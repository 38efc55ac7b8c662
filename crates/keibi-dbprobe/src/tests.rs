use super::*;

#[test]
fn redact_hides_the_password_and_keeps_the_rest() {
    assert_eq!(
        redact("postgres://audit:s3cret@db.example:5432/shop?sslmode=require"),
        "postgres://audit:***@db.example:5432/shop?sslmode=require"
    );
    assert_eq!(
        redact("mysql://root@127.0.0.1:3306/"),
        "mysql://root@127.0.0.1:3306/"
    );
    let r = redact("postgres://h/db?user=a&password=s3cret&sslpassword=k3y");
    assert!(!r.contains("s3cret") && !r.contains("k3y"), "{r}");
    assert!(r.contains("user=a"), "{r}");
}

#[test]
fn redact_of_a_broken_url_shows_no_credentials() {
    // A space in the host makes the URL invalid.
    let r = redact("postgres://audit:s3cret@bad host:5432/x");
    assert!(!r.contains("s3cret") && !r.contains("audit"), "{r}");
    assert!(r.starts_with("postgres://***@"), "{r}");
    assert_eq!(redact("s3cret"), "(not a valid URL)");
}

#[test]
fn target_is_the_server_only() {
    assert_eq!(
        target("postgresql://a:b@db.example/shop?sslmode=require"),
        "postgres://db.example:5432"
    );
    assert_eq!(target("mysql://a:b@[::1]:3307/"), "mysql://[::1]:3307");
    assert_eq!(target("mariadb://10.0.0.5"), "mysql://10.0.0.5:3306");
}

#[test]
fn scrub_replaces_the_password_in_driver_messages() {
    let m = scrub(
        "postgres://u:p%40ss@h/db",
        "error near p@ss and p%40ss".into(),
    );
    assert_eq!(m, "error near *** and ***");
}

#[test]
fn a_closed_port_is_an_error_naming_the_redacted_target() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("postgres://u:s3cret@127.0.0.1:{port}/db");
    let e = probe_postgres(&url, Duration::from_secs(5)).unwrap_err();
    let text = e.to_string();
    assert!(
        text.starts_with(&format!("postgres://u:***@127.0.0.1:{port}/db: ")),
        "{text}"
    );
    assert!(!text.contains("s3cret"), "{text}");
    let url = format!("mysql://u:s3cret@127.0.0.1:{port}/");
    let text = probe_mysql(&url, Duration::from_secs(5))
        .unwrap_err()
        .to_string();
    assert!(
        text.starts_with(&format!("mysql://u:***@127.0.0.1:{port}/: ")),
        "{text}"
    );
    assert!(!text.contains("s3cret"), "{text}");
}

#[test]
fn values_are_bounded_on_a_char_boundary() {
    let s = "é".repeat(MAX_VALUE);
    let b = bounded(s);
    assert!(b.len() <= MAX_VALUE && b.len() >= MAX_VALUE - 1);
    assert_eq!(bounded("abc".into()), "abc");
}
