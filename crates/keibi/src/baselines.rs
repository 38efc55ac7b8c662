//! The effectful half of behavioural baselines (the detector itself is pure, in
//! `keibi_detect::detectors::baseline`): the state file (`--state`, keibi-state) that
//! profiles are loaded from and saved to, and the MaxMind-format databases
//! (`--asn-db`, `--geoip-db`: GeoLite2 or DB-IP `.mmdb`) that give addresses an ASN
//! and a country.

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use keibi_detect::detectors::baseline::{BaselineStore, Counts, NetInfo, NetInfoHandle};
use keibi_detect::{Config, Services};
use keibi_state::{Saved, StateFile};
use maxminddb::{PathElement, Reader};

use crate::locale::say;
use crate::output::sanitize::terminal;
use keibi_i18n::Msg;

/// ASN and country lookups over MaxMind-format databases, read into memory once.
pub struct Mmdb {
    asn: Option<Reader<Vec<u8>>>,
    geo: Option<Reader<Vec<u8>>>,
}

/// The largest `.mmdb` keibi reads into memory: GeoLite2-City is about 70 MB and
/// DB-IP's city database about 130 MB; the cap stops a wrong file (`/dev/zero`).
pub const MAX_MMDB_BYTES: usize = 512 << 20;

/// Opens a database and checks it is of the kind the flag expects (an ASN database
/// given as `--geoip-db` would silently answer nothing).
fn open_db(flag: &str, path: &Path, kinds: &[&str]) -> Result<Reader<Vec<u8>>> {
    let what = || format!("{flag} {}", path.display());
    let bytes = crate::cmd::read_capped(path, MAX_MMDB_BYTES, false).with_context(what)?;
    let r = Reader::from_source(bytes).with_context(what)?;
    let kind = r.metadata().database_type.clone();
    let lower = kind.to_ascii_lowercase();
    if !kinds.iter().any(|k| lower.contains(k)) {
        bail!(say(Msg::new("mmdb-wrong-kind")
            .arg("flag", flag)
            .arg("path", path.display().to_string())
            .arg("kind", terminal(&kind).into_owned())
            .arg("expected", kinds.join(" or "))));
    }
    Ok(r)
}

impl Mmdb {
    pub fn open(asn: Option<&Path>, geo: Option<&Path>) -> Result<Mmdb> {
        Ok(Mmdb {
            asn: asn.map(|p| open_db("--asn-db", p, &["asn"])).transpose()?,
            geo: geo
                .map(|p| open_db("--geoip-db", p, &["country", "city", "enterprise"]))
                .transpose()?,
        })
    }
}

impl NetInfo for Mmdb {
    fn asn(&self, ip: IpAddr) -> Option<(u32, String)> {
        let r = self.asn.as_ref()?.lookup(ip).ok()?;
        // GeoLite2 stores a uint32, other writers may use a wider integer.
        let n: u64 = r
            .decode_path(&[PathElement::Key("autonomous_system_number")])
            .ok()??;
        let n = u32::try_from(n).ok()?;
        let org: Option<String> = r
            .decode_path(&[PathElement::Key("autonomous_system_organization")])
            .ok()
            .flatten();
        Some((n, org.unwrap_or_default()))
    }

    fn country(&self, ip: IpAddr) -> Option<String> {
        let r = self.geo.as_ref()?.lookup(ip).ok()?;
        r.decode_path(&[PathElement::Key("country"), PathElement::Key("iso_code")])
            .ok()
            .flatten()
    }
}

/// The state file of a run and the profiles it fills, to save when the run ends.
pub struct Persist {
    file: StateFile,
    store: BaselineStore,
}

impl Persist {
    /// Writes the profiles changed since the last save (every profile when more were
    /// forgotten than can be named), in one crash-safe transaction.
    pub fn save(&self) -> Result<Saved> {
        let mut profiles = self.store.lock();
        let clear = profiles.needs_rewrite();
        let saved = self.file.write(clear, |b| {
            let removed = profiles.export(clear, |k, v| b.put(k, v));
            for k in &removed {
                b.delete(k);
            }
        })?;
        Ok(saved)
    }

    /// Writes every profile, replacing what the file held (a daemon's profiles, kept
    /// in its store, handed to `keibi scan --state`).
    pub fn save_all(&self) -> Result<Saved> {
        let mut profiles = self.store.lock();
        let saved = self.file.write(true, |b| {
            profiles.export(true, |k, v| b.put(k, v));
        })?;
        Ok(saved)
    }

    pub fn counts(&self) -> Counts {
        self.store.lock().counts()
    }

    pub fn path(&self) -> &Path {
        self.file.path()
    }
}

/// Applies `--state`, `--asn-db` and `--geoip-db` to the detectors' services: loads
/// the profiles into their store and gives them the lookups. Returns the state to
/// save after the run. Unreadable profiles are skipped with a warning (the rest still
/// load).
pub fn setup(
    config: &Config,
    services: &mut Services,
    state: Option<&Path>,
    asn_db: Option<&Path>,
    geoip_db: Option<&Path>,
    quiet: bool,
) -> Result<Option<Persist>> {
    if asn_db.is_some() || geoip_db.is_some() {
        let db = Mmdb::open(asn_db, geoip_db)?;
        services.net_info = NetInfoHandle(Some(Arc::new(db)));
    }
    let Some(path) = state else {
        return Ok(None);
    };
    let file = StateFile::open(path).context("--state")?;
    let store = services.baselines.clone();
    {
        let mut profiles = store.lock();
        profiles.set_max(config.baseline.max_profiles);
        let mut bad = 0u64;
        file.read(|k, v| {
            if let Err(e) = profiles.import(k, v) {
                bad += 1;
                if !quiet && bad <= 5 {
                    eprintln!(
                        "{}",
                        say(Msg::new("state-skipped-profile")
                            .arg("path", terminal(&path.display().to_string()).into_owned())
                            .arg("reason", terminal(&e.to_string()).into_owned()))
                    );
                }
            }
        })
        .context("--state")?;
    }
    Ok(Some(Persist { file, store }))
}

/// "3 user profiles (2 mature), 1 instance (1 mature), 0 principals".
pub fn summary(c: &Counts) -> String {
    say(Msg::new("learn-counts")
        .arg("logins", c.logins as u64)
        .arg("logins_mature", c.logins_mature as u64)
        .arg("instances", c.instances as u64)
        .arg("instances_mature", c.instances_mature as u64)
        .arg("principals", c.principals as u64)
        .arg("principals_mature", c.principals_mature as u64))
}
