//! Behavioural baselines: what is normal for each database user, each instance's
//! failed logins and each IAM principal, learned online from the events themselves,
//! and the AnomalousBehavior findings when something departs from it.
//!
//! * Per (instance, database user), from successful logins: source networks (/24,
//!   /48), ASN and country (with `--asn-db` / `--geoip-db`), client application family,
//!   authentication method, TLS, hours and days of the week ([`profile::LoginProfile`]).
//!   A departure raises `CredentialAccess:RDS/AnomalousBehavior.SuccessfulLogin`
//!   (`logins.rs`).
//! * Per instance, the usual hourly volume and sources of failed logins: an hour far
//!   above it raises `CredentialAccess:RDS/AnomalousBehavior.FailedLogin`.
//! * Per IAM principal, from CloudTrail: networks, ASNs, countries, user agent
//!   families, regions and the sensitive calls it makes. A destructive or exposing
//!   RDS/EC2 call from a source or tool never seen for it raises
//!   `Impact:IAMUser/AnomalousBehavior` (`principal.rs`).
//!
//! A profile judges nothing until it is mature (enough events over enough days,
//! [`crate::config::BaselineConfig`]). Events arrive in time order, so one long archive
//! both trains and detects; profiles live in a [`BaselineStore`] that the binary
//! persists (`--state`), so the next run starts mature. Every anomaly is explained in
//! plain words (`explain.rs`): which factors were new and what is usual.
//!
//! Ordinary novelty stays below Medium: a new server in a known /24 is not new at all;
//! a new version of a known client is the same family; a new tool or an odd hour from
//! a known network is Low; a brand-new user is silent until its profile matures.

pub mod explain;
pub mod habits;
mod logins;
mod principal;
pub mod profile;
mod store;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_principal;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use keibi_model::{Action, Event, SourceKind};

pub use store::{BaselineStore, Counts, ImportError, Profiles};

use crate::config::Config;
use crate::detector::{Context, Detector, Learning};
use profile::{Maturity, Secs};

/// The detector id (part of finding ids: never rename).
pub const ID: &str = "baseline";
pub const SUCCESS_TYPE: &str = "CredentialAccess:RDS/AnomalousBehavior.SuccessfulLogin";
pub const FAILED_TYPE: &str = "CredentialAccess:RDS/AnomalousBehavior.FailedLogin";
pub const IMPACT_TYPE: &str = "Impact:IAMUser/AnomalousBehavior";

/// The finding types this detector raises (see [`crate::catalog`]).
pub(crate) fn specs() -> Vec<keibi_model::FindingSpec> {
    vec![
        keibi_model::FindingSpec::new(
            SUCCESS_TYPE,
            7.0,
            &["T1078"],
            "Unusual successful login",
            "Ask the user whether the login was theirs; if not, end its sessions and lock the role until its password is changed.",
            &[keibi_model::ActionKind::EndSessions, keibi_model::ActionKind::LockRole],
        ),
        keibi_model::FindingSpec::new(
            FAILED_TYPE,
            5.0,
            &["T1110"],
            "Unusual failed logins",
            "Check where the failures come from; block addresses that are not yours and make sure the targeted users have strong passwords.",
            &[keibi_model::ActionKind::BlockAddress],
        ),
        keibi_model::FindingSpec::new(
            IMPACT_TYPE,
            7.0,
            &["T1078"],
            "Unusual destructive AWS call",
            "Ask the principal's owner about the call; if nobody made it, deactivate and rotate its credentials and undo the change.",
            &[keibi_model::ActionKind::RotateCredentials],
        ),
    ]
}

/// Where an address is on the Internet: its autonomous system and country. The binary
/// implements it over MaxMind-format databases (GeoLite2, DB-IP); keibi-detect only
/// asks, so detection stays free of I/O.
pub trait NetInfo: Send + Sync {
    /// The ASN and its organisation.
    fn asn(&self, ip: IpAddr) -> Option<(u32, String)>;
    /// The ISO 3166 country code (`JP`, `NL`).
    fn country(&self, ip: IpAddr) -> Option<String>;
}

/// An optional [`NetInfo`] among the [`crate::Services`].
#[derive(Clone, Default)]
pub struct NetInfoHandle(pub Option<Arc<dyn NetInfo>>);

impl std::fmt::Debug for NetInfoHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "NetInfo"
        } else {
            "no NetInfo"
        })
    }
}

/// Settings copied out of the configuration at construction.
#[derive(Debug, Clone, Copy)]
struct Settings {
    logins: Maturity,
    calls: Maturity,
    settle: Secs,
    max_profiles: usize,
    failed_min: u32,
    failed_factor: u32,
    failures_before: u32,
    failures_before_secs: Secs,
    habits: Maturity,
}

/// Failures remembered per source address, for "failures came first".
const MAX_RECENT_FAILURES: usize = 16_384;
/// FailedLogin episodes whose final texts are pending.
const MAX_EPISODES: usize = 1_024;

/// The baselines detector. See the module documentation.
pub struct BaselineDetector {
    s: Settings,
    /// The profiles and lookups of the services last seen in the context.
    store: BaselineStore,
    net: Option<Arc<dyn NetInfo>>,
    synced: bool,
    /// Learn only: `keibi learn` trains profiles and raises nothing.
    learn_only: bool,
    /// `baseline.enabled`: when off, the detector ignores every event.
    enabled: bool,
    /// Failed logins per source address: (count, last time), bounded.
    recent_failures: HashMap<IpAddr, (u32, Secs)>,
    /// FailedLogin findings by id: what their final description needs.
    episodes: HashMap<String, logins::Episode>,
    /// The last address looked up, and its answer (logs repeat addresses).
    cache: Option<(IpAddr, Lookup)>,
    /// The last user agent and its family.
    agent_cache: Option<(String, Box<str>)>,
    /// Which service accounts' statements teach no habit (`activity.ignore_users`).
    activity: crate::config::ActivityConfig,
    /// Each user's catalog reads within the enumeration window (the catalog habit
    /// learns from episodes).
    catalog_windows: habits::CatalogWindows,
}

/// ASN and country of one address.
#[derive(Debug, Clone, Default)]
struct Lookup {
    asn: Option<profile::Asn>,
    country: Option<Box<str>>,
}

impl BaselineDetector {
    /// A detector that learns and raises findings, with the profiles and lookups of
    /// the services it is run with ([`crate::Services`], taken from its context).
    pub fn new(config: &Config) -> BaselineDetector {
        let b = &config.baseline;
        let days = |min_events| Maturity {
            min_events,
            min_days: b.min_days,
            min_active_days: b.min_active_days,
        };
        let s = Settings {
            logins: days(b.min_logins),
            calls: days(b.min_api_calls),
            settle: b.settle_secs.max(0),
            max_profiles: b.max_profiles,
            failed_min: b.failed_logins_min.max(1),
            failed_factor: b.failed_logins_factor.max(1),
            failures_before: b.failures_before.max(1),
            failures_before_secs: b.failures_before_secs.max(0),
            habits: habits::maturity(config),
        };
        BaselineDetector {
            s,
            store: BaselineStore::default(),
            net: None,
            synced: false,
            learn_only: false,
            enabled: b.enabled,
            recent_failures: HashMap::new(),
            episodes: HashMap::new(),
            cache: None,
            agent_cache: None,
            activity: config.activity.clone(),
            catalog_windows: habits::CatalogWindows::default(),
        }
    }

    /// A detector that only learns (`keibi learn`).
    pub fn learner(config: &Config) -> BaselineDetector {
        BaselineDetector {
            learn_only: true,
            ..BaselineDetector::new(config)
        }
    }

    /// Takes the profiles and lookups of the context's services when they are new
    /// (the first event, or a swap between batches).
    fn sync(&mut self, sv: &crate::Services) {
        if !self.synced || !self.store.same(&sv.baselines) {
            self.store = sv.baselines.clone();
            self.store.lock().set_max(self.s.max_profiles);
            self.synced = true;
        }
        let same_net = match (&self.net, &sv.net_info.0) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            (None, None) => true,
            _ => false,
        };
        if !same_net {
            self.net = sv.net_info.0.clone();
            self.cache = None;
        }
    }

    fn lookup(&mut self, ip: Option<IpAddr>) -> Lookup {
        let (Some(ip), Some(net)) = (ip, &self.net) else {
            return Lookup::default();
        };
        if let Some((at, l)) = &self.cache {
            if *at == ip {
                return l.clone();
            }
        }
        let l = Lookup {
            asn: net.asn(ip).map(|(n, org)| profile::Asn {
                n,
                org: profile::bounded(&org),
            }),
            country: net.country(ip).map(|c| profile::bounded(&c)),
        };
        self.cache = Some((ip, l.clone()));
        l
    }

    /// Counts a failed login from `ip` at `t` (an IPv6 address counts for its /64,
    /// as in the login detectors); the map stays bounded by dropping entries older
    /// than the window, then the oldest half.
    fn note_failure(&mut self, ip: IpAddr, t: Secs) {
        let ip = crate::detectors::login::source_of(ip);
        let window = self.s.failures_before_secs;
        if self.recent_failures.len() >= MAX_RECENT_FAILURES
            && !self.recent_failures.contains_key(&ip)
        {
            self.recent_failures
                .retain(|_, (_, last)| t - *last <= window);
            if self.recent_failures.len() >= MAX_RECENT_FAILURES / 2 {
                let mut lasts: Vec<Secs> = self.recent_failures.values().map(|v| v.1).collect();
                let mid = lasts.len() / 2;
                let (_, cut, _) = lasts.select_nth_unstable(mid);
                let cut = *cut;
                self.recent_failures.retain(|_, (_, last)| *last > cut);
            }
        }
        let e = self.recent_failures.entry(ip).or_insert((0, t));
        if t - e.1 > window {
            e.0 = 0;
        }
        e.0 = e.0.saturating_add(1);
        e.1 = t;
    }

    /// Learns a statement's habit (see [`habits`]): catalog reads on this thread;
    /// account and role statements too when only learning (`keibi learn` runs no
    /// rule; in a scan the Sigma detector learns them on its own thread).
    fn statement(&mut self, ev: &Event) {
        let Some((instance, user)) = habits::owner(ev) else {
            return;
        };
        if crate::detectors::activity::ignored(ev, &self.activity) {
            return;
        }
        let seen = habits::Seen::of(ev);
        let catalogs = self.catalog_windows.read(
            instance,
            user,
            ev.time.timestamp(),
            habits::catalog_read(ev),
            &self.activity,
        );
        let mut store = self.store.lock();
        if catalogs != 0 {
            habits::learn_catalogs(&mut store, instance, user, catalogs, seen, &self.s.habits);
        } else if let Some(k) = habits::command_kind(ev).filter(|_| self.learn_only) {
            habits::learn(&mut store, instance, user, k, seen, &self.s.habits);
        }
    }

    /// Failed logins from `ip` (its /64 for IPv6) within the window before `t`.
    fn failures_before(&self, ip: IpAddr, t: Secs) -> u32 {
        match self
            .recent_failures
            .get(&crate::detectors::login::source_of(ip))
        {
            Some((n, last)) if t - last <= self.s.failures_before_secs => *n,
            _ => 0,
        }
    }
}

impl Detector for BaselineDetector {
    fn id(&self) -> &'static str {
        ID
    }

    fn catalog(&self) -> Vec<crate::catalog::Entry> {
        crate::catalog::Entry::of_detector(self.id(), specs())
    }

    fn observe(&mut self, ev: &Event, cx: &mut Context<'_>) {
        if !self.enabled {
            return;
        }
        self.sync(cx.services);
        match ev.action {
            Action::LoginSuccess => self.login_success(ev, cx),
            Action::LoginFailure => self.login_failure(ev, cx),
            Action::ApiCall if ev.source == SourceKind::Cloudtrail => self.api_call(ev, cx),
            Action::Statement => self.statement(ev),
            _ => {}
        }
    }

    /// A successful login from a trusted address teaches the user's profile like any
    /// other (the office and the VPN are where habits are made); it is never judged.
    /// Trusted failures teach nothing: the instance's usual failures and "failures
    /// came first" are about addresses that are not trusted.
    fn learn_trusted(&mut self, ev: &Event, cx: &Learning<'_>) {
        if !self.enabled || ev.action != Action::LoginSuccess {
            return;
        }
        self.sync(cx.services);
        self.learn_login(ev);
    }

    fn render(&mut self, cx: &mut Context<'_>) {
        self.render_failed(cx);
    }

    /// The profiles are kept apart (a daemon's store); in memory only the failures
    /// per address that come before a login, within their window.
    fn replay_horizon(&self) -> Option<chrono::Duration> {
        Some(chrono::Duration::seconds(self.s.failures_before_secs))
    }
}

/// Whether an address is on the public Internet (not private, loopback, link-local,
/// carrier-grade NAT or unique-local). Documentation ranges count as public.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || (o[0] == 100 && (o[1] & 0xc0) == 64))
        }
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public(IpAddr::V4(v4)),
            None => {
                let s = v6.segments()[0];
                !(v6.is_loopback()
                    || v6.is_unspecified()
                    || (s & 0xfe00) == 0xfc00
                    || (s & 0xffc0) == 0xfe80)
            }
        },
    }
}
