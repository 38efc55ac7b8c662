//! `keibi dashboard`, and the dashboard `keibi run` serves beside the daemon: the
//! `dashboard` settings turned into keibi-server's options, the bind rules applied,
//! the address bound before the serving thread starts (a port in use is an error
//! at start), the URL and the login modes said.

use std::io::Read;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, Context, Result};
use keibi_detect::iplist::IpList;
use keibi_engine::daemon::Control;
use keibi_engine::settings::{Listen, Settings};
use keibi_i18n::DisplayZone;
use keibi_i18n::Msg;
use keibi_server::auth::{authenticator, ProxyConfig, Role};
use keibi_server::pages::{LoadedList, RawLines, Reputation, Site};
use keibi_server::serve::{bind, tls_config, url_of, Dashboard, TlsFiles};
use keibi_server::{AppState, Db, Options};

use crate::cli::{DashboardArgs, Global};
use crate::locale::{said, say};
use crate::output::sanitize::terminal;

/// Store connections the dashboard keeps.
const CONNECTIONS: usize = 3;

pub fn run(args: &DashboardArgs, global: &Global) -> Result<u8> {
    let settings = match &args.config {
        Some(path) => match Settings::load(path) {
            Ok((s, _)) => s,
            Err(e) => {
                eprintln!("keibi: {}", terminal(&super::run::load_error_text(&e)));
                return Ok(2);
            }
        },
        None => Settings::default(),
    };
    crate::locale::resolve(global, Some(&settings.display))?;
    let store = args
        .store
        .clone()
        .unwrap_or_else(|| settings.store.path.clone());
    // A mistyped path would otherwise be served as a new, empty store.
    if !keibi_store::exists(&store) {
        eprintln!(
            "keibi: {}",
            say(Msg::new("dashboard-no-store").arg("path", keibi_store::shown(&store)))
        );
        return Ok(2);
    }
    let listen = match (args.listen, settings.dashboard.listen) {
        (Some(a), _) => a,
        (None, Listen::On(a)) => a,
        // Asked for by name: the usual address when the settings name none.
        (None, Listen::Off) => SocketAddr::from((
            [127, 0, 0, 1],
            keibi_engine::settings::dashboard::DEFAULT_PORT,
        )),
    };
    let started = start(&settings, &store, listen)?;
    println!(
        "{}",
        say(Msg::new("dashboard-serving").arg("url", started.url.as_str()))
    );
    for line in &started.notes {
        eprintln!("keibi: {line}");
    }
    let control = Control::signals().context("installing signal handlers")?;
    while !control.stop.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(200));
    }
    started.dashboard.stop();
    Ok(0)
}

/// A dashboard being served.
pub(crate) struct Started {
    pub dashboard: Dashboard,
    /// Where people reach it (`public_url`, else the address bound).
    pub url: String,
    /// What a person should know: who may log in, and when nobody can yet.
    pub notes: Vec<String>,
}

/// Serves the dashboard of `settings` over `store` on `listen`.
pub(crate) fn start(all: &Settings, store: &Path, listen: SocketAddr) -> Result<Started> {
    let settings = &all.dashboard;
    let tls = match (&settings.tls.cert, &settings.tls.key) {
        (Some(cert), Some(key)) => Some(TlsFiles {
            cert: cert.clone(),
            key: key.clone(),
        }),
        (None, None) => None,
        _ => return Err(anyhow!("dashboard.tls: give both cert and key, or neither")),
    };
    keibi_server::security::check_bind(listen, tls.is_some(), settings.allow_plain_http_on)?;
    let tls = match &tls {
        Some(f) => Some(tls_config(f).context("dashboard.tls")?),
        None => None,
    };
    let proxy = proxy_config(&settings.auth.proxy)?;
    let db = Db::open(store, CONNECTIONS)?;
    let users = db_users(store)?;
    let listener = bind(listen).context("dashboard.listen (--dashboard ADDR, or off)")?;
    let addr = listener.local_addr().context("dashboard.listen")?;
    let url = settings
        .public_url
        .clone()
        .unwrap_or_else(|| url_of(addr, tls.is_some()));
    let mut options = Options::new(store.to_path_buf(), url.clone());
    options.session = keibi_store::SessionLimits {
        idle: chrono::Duration::from_std(settings.session.idle.std())
            .unwrap_or(chrono::Duration::hours(12)),
        absolute: chrono::Duration::from_std(settings.session.absolute.std())
            .unwrap_or(chrono::Duration::days(7)),
    };
    options.login_failures = settings.login.max_failures.max(1);
    options.login_window = chrono::Duration::from_std(settings.login.window.std())
        .unwrap_or(chrono::Duration::minutes(15));
    options.local_login = settings.auth.local;
    options.proxy = proxy.is_some();
    let mut modes = Vec::new();
    if let Some(p) = &proxy {
        let trusted: Vec<String> = p.trusted.iter().map(|n| n.to_string()).collect();
        modes.push(say(Msg::new("dashboard-mode-proxy")
            .arg("header", p.header.as_str())
            .arg("trusted", trusted.join(", "))));
    }
    if settings.auth.local {
        modes.push(said("dashboard-mode-local"));
    }
    if modes.is_empty() {
        modes.push(said("dashboard-mode-none"));
    }
    let mut notes = vec![say(
        Msg::new("dashboard-auth-modes").arg("modes", modes.join(", "))
    )];
    if settings.auth.local && proxy.is_none() && users == 0 {
        notes.push(said("dashboard-no-user"));
    }
    let state = AppState {
        db,
        options: Arc::new(options),
        auth: authenticator(settings.auth.local, proxy),
        site: Arc::new(site_of(all)),
    };
    let dashboard = Dashboard::start(listener, keibi_server::router(state), tls)?;
    Ok(Started {
        dashboard,
        url,
        notes,
    })
}

/// How many users may log in (read-only: `Db::open` has just checked and migrated
/// the store, a second full check would only cost time on a large store).
fn db_users(store: &Path) -> Result<u64> {
    Ok(keibi_store::Store::open_read_only(store)?.active_users()?)
}

/// The proxy settings as keibi-server takes them; `None` without a header.
fn proxy_config(
    p: &keibi_engine::settings::dashboard::DashboardProxy,
) -> Result<Option<ProxyConfig>> {
    let Some(header) = &p.header else {
        return Ok(None);
    };
    let name = |h: &str, key: &str| {
        h.parse::<keibi_server::HeaderName>()
            .map_err(|_| anyhow!("dashboard.auth.proxy.{key}: {h:?} is not a header name"))
    };
    let role = |r: &str, key: &str| {
        Role::parse(r).ok_or_else(|| anyhow!("dashboard.auth.proxy.{key}: {r:?} is not a role"))
    };
    if p.trusted.is_empty() {
        return Err(anyhow!(
            "dashboard.auth.proxy.trusted: the proxies' addresses are required with a header"
        ));
    }
    let trusted = p
        .trusted
        .iter()
        .map(|c| {
            format!("{}/{}", c.addr, c.prefix)
                .parse::<ipnet::IpNet>()
                .map(|n| n.trunc())
                .map_err(|e| anyhow!("dashboard.auth.proxy.trusted: {e}"))
        })
        .collect::<Result<Vec<_>>>()?;
    let mut groups = Vec::new();
    for (g, r) in &p.groups {
        groups.push((g.clone(), role(r, "groups")?));
    }
    Ok(Some(ProxyConfig {
        header: name(header, "header")?,
        trusted,
        groups_header: p
            .groups_header
            .as_deref()
            .map(|h| name(h, "groups_header"))
            .transpose()?,
        groups,
        default_role: p
            .default_role
            .as_deref()
            .map(|r| role(r, "default_role"))
            .transpose()?,
    }))
}

/// What the pages show of the settings: the display zone, the settings with
/// secrets redacted, the address lists with their sizes (and a look-up of them for
/// the actor pages), the sources. Lists are read once, at start.
fn site_of(settings: &Settings) -> Site {
    let zone = settings
        .display
        .tz
        .as_deref()
        .and_then(|tz| DisplayZone::named(tz).ok())
        .unwrap_or_else(DisplayZone::utc);
    let shown = serde_json::to_value(settings)
        .map(|v| Site::settings_from_json(&v))
        .unwrap_or_default();
    let mut lists = Vec::new();
    let mut loaded = Vec::new();
    let kinds = [
        ("tor", &settings.lists.tor),
        ("threat", &settings.lists.threat),
        ("trusted", &settings.lists.trusted),
    ];
    for (kind, paths) in kinds {
        for path in paths.iter() {
            let name = format!(
                "{kind}: {}",
                path.file_name().map_or_else(
                    || path.display().to_string(),
                    |n| n.to_string_lossy().into_owned()
                )
            );
            let Ok(bytes) = std::fs::read(path) else {
                continue;
            };
            let Ok(list) = IpList::parse(name.clone(), &bytes) else {
                continue;
            };
            let loaded_at = std::fs::metadata(path)
                .and_then(|m| m.modified())
                .ok()
                .map(chrono::DateTime::<chrono::Utc>::from);
            loaded.push(LoadedList {
                name,
                entries: list.entries(),
                source: path.display().to_string(),
                loaded_at,
            });
            lists.push(list);
        }
    }
    let sources = settings
        .sources
        .inputs
        .iter()
        .map(|s| {
            if let Some(u) = &s.url {
                u.clone()
            } else if let Some(p) = &s.path {
                p.display().to_string()
            } else if let Some(g) = &s.glob {
                g.clone()
            } else if let Some(d) = &s.dir {
                format!("{}/", d.display())
            } else {
                "stdin".to_string()
            }
        })
        .collect();
    let roots = source_roots(settings);
    Site {
        zone,
        settings: shown,
        lists: loaded,
        sources,
        reputation: (!lists.is_empty()).then(|| Arc::new(Lists(lists)) as Arc<dyn Reputation>),
        raw_lines: (!roots.is_empty()).then(|| Arc::new(FileLines { roots }) as Arc<dyn RawLines>),
    }
}

/// The directories the configured sources read from: a file's directory, a
/// pattern's directory before its first wildcard, a directory. Rotated and
/// compressed siblings live there too.
fn source_roots(settings: &Settings) -> Vec<PathBuf> {
    let mut roots: Vec<PathBuf> = Vec::new();
    for s in &settings.sources.inputs {
        let dir = if let Some(p) = &s.path {
            p.parent().map(Path::to_path_buf)
        } else if let Some(g) = &s.glob {
            // `/var/log/pg/*.log` → `/var/log/pg`; `/var/log/pg-*/x.log` → `/var/log`.
            let literal = g.split(['*', '?', '[', '{']).next().unwrap_or("");
            let cut = literal.rfind('/').map_or("", |i| &literal[..i]);
            Some(PathBuf::from(
                if cut.is_empty() && literal.starts_with('/') {
                    "/"
                } else {
                    cut
                },
            ))
            .filter(|p| !p.as_os_str().is_empty())
        } else {
            s.dir.clone()
        };
        if let Some(dir) = dir.and_then(|d| d.canonicalize().ok()) {
            if !roots.contains(&dir) {
                roots.push(dir);
            }
        }
    }
    roots
}

/// Reads an evidence line from a file of the sources. A finding can name any path
/// (one imported with `keibi findings import`, say), so only files under the
/// sources' directories are read, after resolving links, and at most
/// [`FileLines::MAX_READ`] bytes into each.
struct FileLines {
    roots: Vec<PathBuf>,
}

impl FileLines {
    /// How far into a file (decompressed) a line is looked for.
    const MAX_READ: u64 = 256 << 20;
    /// Longest line returned.
    const MAX_LINE: usize = 16 << 10;
}

impl RawLines for FileLines {
    fn line(&self, source: &str, line: u64) -> Option<String> {
        let path = Path::new(source).canonicalize().ok()?;
        if !self.roots.iter().any(|r| path.starts_with(r)) || !path.is_file() || line == 0 {
            return None;
        }
        let file = std::fs::File::open(&path).ok()?;
        let reader: Box<dyn std::io::Read> = match path.extension().and_then(|e| e.to_str()) {
            Some("gz") => Box::new(flate2::read::MultiGzDecoder::new(file)),
            Some("bz2" | "zst" | "zip") => return None,
            _ => Box::new(file),
        };
        nth_line(reader.take(Self::MAX_READ), line, Self::MAX_LINE)
    }
}

/// Line `n` (1-based) of `r`, cut to `max` bytes, without its line end.
fn nth_line(r: impl std::io::Read, n: u64, max: usize) -> Option<String> {
    use std::io::BufRead;
    let mut r = std::io::BufReader::with_capacity(256 << 10, r);
    let mut at = 1u64;
    // Skip to the start of line n, counting line ends a buffer at a time.
    while at < n {
        let buf = r.fill_buf().ok()?;
        if buf.is_empty() {
            return None;
        }
        let mut used = buf.len();
        for i in memchr::memchr_iter(b'\n', buf) {
            at += 1;
            if at == n {
                used = i + 1;
                break;
            }
        }
        r.consume(used);
    }
    let mut out = Vec::new();
    loop {
        let buf = r.fill_buf().ok()?;
        if buf.is_empty() {
            break;
        }
        let end = memchr::memchr(b'\n', buf);
        let take = end.unwrap_or(buf.len());
        let room = max.saturating_sub(out.len());
        out.extend_from_slice(&buf[..take.min(room)]);
        r.consume(end.map_or(take, |e| e + 1));
        if end.is_some() || out.len() >= max {
            break;
        }
    }
    if out.last() == Some(&b'\r') {
        out.pop();
    }
    Some(String::from_utf8_lossy(&out).into_owned())
}

/// The settings' address lists, for the actor pages' "on these lists".
struct Lists(Vec<IpList>);

impl Reputation for Lists {
    fn lists_of(&self, ip: std::net::IpAddr) -> Vec<String> {
        self.0
            .iter()
            .filter(|l| l.contains(ip))
            .map(|l| l.name().to_string())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nth_line_counts_across_buffers_and_bounds_the_line() {
        let text: String = (1..=100_000).map(|i| format!("line {i}\n")).collect();
        assert_eq!(nth_line(text.as_bytes(), 1, 100).as_deref(), Some("line 1"));
        assert_eq!(
            nth_line(text.as_bytes(), 77_777, 100).as_deref(),
            Some("line 77777")
        );
        assert_eq!(nth_line(text.as_bytes(), 100_001, 100).as_deref(), Some(""));
        assert_eq!(nth_line(text.as_bytes(), 100_002, 100), None);
        assert_eq!(
            nth_line(&b"a\r\nbbbbbbbb"[..], 2, 3).as_deref(),
            Some("bbb")
        );
    }

    #[test]
    fn only_files_of_the_sources_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let logs = dir.path().join("logs");
        std::fs::create_dir(&logs).unwrap();
        std::fs::write(logs.join("pg.log"), "one\ntwo\n").unwrap();
        std::fs::write(dir.path().join("secret"), "key\n").unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, b"x\ny\n").unwrap();
        std::fs::write(logs.join("pg.log.1.gz"), gz.finish().unwrap()).unwrap();
        let mut settings = Settings::default();
        settings
            .sources
            .inputs
            .push(keibi_engine::settings::Source {
                glob: Some(format!("{}/*.log", logs.display())),
                ..Default::default()
            });
        let lines = FileLines {
            roots: source_roots(&settings),
        };
        let at = |p: &Path, n| lines.line(&p.display().to_string(), n);
        assert_eq!(at(&logs.join("pg.log"), 2).as_deref(), Some("two"));
        assert_eq!(at(&logs.join("pg.log.1.gz"), 2).as_deref(), Some("y"));
        assert_eq!(at(&dir.path().join("secret"), 1), None);
        assert_eq!(at(&logs.join("../secret"), 1), None);
        std::os::unix::fs::symlink(dir.path().join("secret"), logs.join("link.log")).unwrap();
        assert_eq!(at(&logs.join("link.log"), 1), None);
    }
}
