//! Saved AWS CLI outputs (`aws rds describe-db-instances > instances.json`) into
//! inventories, so a team without live access from keibi's machine can audit too.
//!
//! Each file is recognised by its top-level keys, the way the AWS CLI writes them
//! (`DBInstances`, `SecurityGroups`, `trailList`, `IsLogging`, `DetectorIds` …); the
//! file name does not matter except where the output does not say what it is about:
//!
//! * DescribeDBParameters / DescribeDBClusterParameters (`Parameters`): the group is
//!   the longest parameter group name, among those the inventory's instances and
//!   clusters use, that the file name contains (`params-prod-pg15.json`);
//! * GetTrailStatus (`IsLogging`): the longest trail name the file name contains,
//!   else the only trail;
//! * GetDetector (`Status` with `Features` or `ServiceRole`): the detector id the
//!   file name contains (from a ListDetectors file, or 32 hex digits), else the only
//!   detector listed.
//!
//! Paginated dumps (pages written one after the other, or a JSON array of pages)
//! load as one. The account and region come from the ARNs in the data
//! (`arn:aws:rds:REGION:ACCOUNT:…`), `OwnerId` and availability zones; a file that
//! says neither takes its directory's (put each region's files in a directory of its
//! own), else the only one of all files. Files are merged into one inventory per
//! account and region.
//!
//! Memory stays near the size of the input: pages are read straight into the
//! model's types, one list element at a time, and unknown fields are skipped
//! without being kept.

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

use serde::de::{DeserializeOwned, Deserializer, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;

use crate::aws::model::*;
use crate::aws::Inventory;
use crate::de;

/// A file that could not be used, and why; the rest are still read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}: {reason}", path.display())]
pub struct LoadProblem {
    pub path: PathBuf,
    pub reason: String,
}

/// A saved file's content, the caller having read it (bounded) from `path`.
pub struct SavedFile<'a> {
    pub path: &'a Path,
    pub bytes: &'a [u8],
}

/// Recognises each file by its top-level keys and merges them into an inventory.
/// The files given together are one account and region (`keibi audit` calls this
/// once per `--aws-json` argument, a directory or a file).
pub fn load(files: &[SavedFile<'_>]) -> (Vec<Inventory>, Vec<LoadProblem>) {
    let mut loader = Loader::default();
    for f in files {
        loader.add(f);
    }
    loader.finish()
}

/// [`load`] one file at a time: a caller reads a file, [`Loader::add`]s it and
/// drops its bytes before reading the next, so memory holds one file's bytes and
/// the model's values of all (smaller than their JSON), never every file's bytes.
#[derive(Default)]
pub struct Loader {
    parsed: Vec<Parsed>,
    problems: Vec<LoadProblem>,
}

impl Loader {
    pub fn add(&mut self, f: &SavedFile<'_>) {
        match parse_file(f.bytes) {
            Ok(page) if page.recognised() => {
                let (account, region) = page.hints();
                self.parsed.push(Parsed {
                    path: f.path.to_path_buf(),
                    page,
                    account,
                    region,
                });
            }
            Ok(_) => self.problems.push(problem(
                f.path,
                "not a recognised AWS CLI output (expected the JSON of describe-db-instances, \
                 describe-db-clusters, describe-db-snapshots, describe-db-snapshot-attributes, \
                 describe-db-parameters, describe-security-groups, describe-network-acls, \
                 describe-route-tables, describe-subnets, describe-trails, get-trail-status, \
                 get-event-selectors, guardduty list-detectors or get-detector)",
            )),
            Err(e) => self
                .problems
                .push(problem(f.path, &format!("not AWS CLI JSON: {e}"))),
        }
    }

    /// A problem met reading a file before it could be added (too large, unreadable).
    pub fn problem(&mut self, p: LoadProblem) {
        self.problems.push(p);
    }

    /// The inventories, one per account and region in the order first seen, and the
    /// problems in the order met.
    pub fn finish(self) -> (Vec<Inventory>, Vec<LoadProblem>) {
        let Loader {
            mut parsed,
            mut problems,
        } = self;
        assign_scopes(&mut parsed);
        let mut groups: Vec<(Scope, Vec<Parsed>)> = Vec::new();
        for p in parsed {
            let key = (p.account.clone(), p.region.clone());
            match groups.iter_mut().find(|(k, _)| *k == key) {
                Some((_, v)) => v.push(p),
                None => groups.push((key, vec![p])),
            }
        }
        let mut out = Vec::new();
        for ((account, region), members) in groups {
            out.push(build(account, region, members, &mut problems));
        }
        (out, problems)
    }
}

fn problem(path: &Path, reason: &str) -> LoadProblem {
    LoadProblem {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    }
}

/// An inventory's account and region.
type Scope = (Option<String>, Option<String>);

struct Parsed {
    path: PathBuf,
    page: Page,
    account: Option<String>,
    region: Option<String>,
}

/// A file without its own account or region takes its directory's (when the
/// directory's files agree on one), else the only one all files agree on.
fn assign_scopes(parsed: &mut [Parsed]) {
    fn unique<'a>(it: impl Iterator<Item = &'a Option<String>>) -> Option<String> {
        let mut seen: Option<&String> = None;
        for v in it.flatten() {
            match seen {
                None => seen = Some(v),
                Some(s) if s == v => {}
                Some(_) => return None,
            }
        }
        seen.cloned()
    }
    let dir = |p: &Parsed| p.path.parent().map(Path::to_path_buf).unwrap_or_default();
    let all_accounts = unique(parsed.iter().map(|p| &p.account));
    let all_regions = unique(parsed.iter().map(|p| &p.region));
    let mut by_dir: BTreeMap<PathBuf, (Option<String>, Option<String>)> = BTreeMap::new();
    for d in parsed.iter().map(dir) {
        if by_dir.contains_key(&d) {
            continue;
        }
        let same: Vec<&Parsed> = parsed.iter().filter(|p| dir(p) == d).collect();
        let a = unique(same.iter().map(|p| &p.account));
        let r = unique(same.iter().map(|p| &p.region));
        by_dir.insert(d, (a, r));
    }
    for p in parsed.iter_mut() {
        let (a, r) = by_dir.get(&dir(p)).cloned().unwrap_or_default();
        if p.account.is_none() {
            p.account = a.or_else(|| all_accounts.clone());
        }
        if p.region.is_none() {
            p.region = r.or_else(|| all_regions.clone());
        }
    }
}

/// Extends an optional list, making it observed.
fn extend<T>(into: &mut Option<Vec<T>>, from: Option<Vec<T>>) {
    if let Some(v) = from {
        into.get_or_insert_with(Vec::new).extend(v);
    }
}

fn build(
    account: Option<String>,
    region: Option<String>,
    members: Vec<Parsed>,
    problems: &mut Vec<LoadProblem>,
) -> Inventory {
    let mut inv = Inventory {
        account,
        region,
        ..Inventory::default()
    };
    inv.source = source_of(&members);
    // Lists first: the names the other files are matched against.
    let mut rest = Vec::new();
    let mut detector_ids: Vec<String> = Vec::new();
    for m in members {
        let Parsed { path, mut page, .. } = m;
        extend(&mut inv.db_instances, page.db_instances.take());
        extend(&mut inv.db_clusters, page.db_clusters.take());
        extend(&mut inv.db_snapshots, page.db_snapshots.take());
        extend(
            &mut inv.db_cluster_snapshots,
            page.db_cluster_snapshots.take(),
        );
        extend(
            &mut inv.db_snapshot_attributes,
            page.db_snapshot_attributes.take().map(|a| vec![a]),
        );
        extend(
            &mut inv.db_cluster_snapshot_attributes,
            page.db_cluster_snapshot_attributes.take().map(|a| vec![a]),
        );
        extend(&mut inv.security_groups, page.security_groups.take());
        extend(&mut inv.network_acls, page.network_acls.take());
        extend(&mut inv.route_tables, page.route_tables.take());
        extend(&mut inv.subnets, page.subnets.take());
        extend(&mut inv.trails, page.trails.take());
        if let Some(ids) = page.detector_ids.take() {
            detector_ids.extend(ids);
            inv.guardduty.get_or_insert_with(Vec::new);
        }
        if page.is_event_selectors() {
            let es = EventSelectors {
                trail_arn: page.trail_arn.take().unwrap_or_default(),
                selectors: page.event_selectors.take().unwrap_or_default(),
                advanced: page.advanced_event_selectors.take().unwrap_or_default(),
            };
            inv.event_selectors.get_or_insert_with(Vec::new).push(es);
        }
        rest.push((path, page));
    }
    let stem = |p: &Path| {
        p.file_name()
            .map(|n| n.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default()
    };
    // Detectors listed without a GetDetector file stay with an unknown status.
    let mut detectors: Vec<Detector> = detector_ids
        .iter()
        .map(|id| Detector {
            id: id.clone(),
            ..Detector::default()
        })
        .collect();
    for (path, mut page) in rest {
        let name = stem(&path);
        if let Some(params) = page.parameters.take() {
            let mut instance_groups: Vec<&str> = inv
                .db_instances
                .iter()
                .flatten()
                .flat_map(|i| i.parameter_groups.iter().map(|g| g.name.as_str()))
                .collect();
            let cluster_groups: Vec<&str> = inv
                .db_clusters
                .iter()
                .flatten()
                .filter_map(|c| c.parameter_group.as_deref())
                .collect();
            instance_groups.extend(cluster_groups.iter().copied());
            match longest_in(&name, instance_groups.iter().copied()) {
                Some(group) => {
                    let pg = ParameterGroup {
                        name: group.to_string(),
                        parameters: params,
                    };
                    let is_cluster = cluster_groups.contains(&group);
                    let is_instance = inv
                        .db_instances
                        .iter()
                        .flatten()
                        .any(|i| i.parameter_groups.iter().any(|g| g.name == group));
                    if is_instance {
                        inv.db_parameter_groups
                            .get_or_insert_with(Vec::new)
                            .push(pg.clone());
                    }
                    if is_cluster {
                        inv.db_cluster_parameter_groups
                            .get_or_insert_with(Vec::new)
                            .push(pg);
                    }
                }
                None => problems.push(problem(
                    &path,
                    "describe-db-parameters output does not name its parameter group: the file \
                     name must contain the name of a parameter group that an instance or cluster \
                     of the same inventory uses (describe-db-instances or describe-db-clusters)",
                )),
            }
        }
        if let Some(logging) = page.is_logging {
            let trails: Vec<&Trail> = inv.trails.iter().flatten().collect();
            let named = longest_in(&name, trails.iter().map(|t| t.name.as_str()));
            let trail = named
                .map(str::to_string)
                .or_else(|| match trails.as_slice() {
                    [only] => Some(only.name.clone()),
                    _ => None,
                });
            match trail {
                Some(t) => inv
                    .trail_status
                    .get_or_insert_with(Vec::new)
                    .push(TrailStatus {
                        trail: t,
                        is_logging: logging,
                    }),
                None => problems.push(problem(
                    &path,
                    "get-trail-status output does not name its trail: the file name must contain \
                     the name of a trail listed by describe-trails in the same inventory",
                )),
            }
        }
        if page.is_detector() {
            let named = longest_in(&name, detector_ids.iter().map(String::as_str))
                .map(str::to_string)
                .or_else(|| hex_id(&name))
                .or_else(|| match detector_ids.as_slice() {
                    [only] => Some(only.clone()),
                    _ => None,
                });
            match named {
                Some(id) => {
                    let d = Detector {
                        id: id.clone(),
                        status: page.status.clone(),
                        features: page.features.clone().unwrap_or_default(),
                    };
                    match detectors.iter_mut().find(|x| x.id == id) {
                        Some(x) => *x = d,
                        None => detectors.push(d),
                    }
                }
                None => problems.push(problem(
                    &path,
                    "guardduty get-detector output does not name its detector: the file name \
                     must contain the detector id (from guardduty list-detectors)",
                )),
            }
        }
    }
    if !detectors.is_empty() || inv.guardduty.is_some() {
        inv.guardduty = Some(detectors);
    }
    inv
}

fn source_of(members: &[Parsed]) -> String {
    let mut dirs: Vec<String> = members
        .iter()
        .map(|m| {
            m.path
                .parent()
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        })
        .collect();
    dirs.dedup();
    match dirs.as_slice() {
        [one] if members.len() > 1 => format!("{} files in {}", members.len(), one),
        _ if members.len() == 1 => members[0].path.display().to_string(),
        _ => format!("{} files", members.len()),
    }
}

/// The longest of `names` that `hay` (a lower-cased file name) contains.
fn longest_in<'a>(hay: &str, names: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    names
        .filter(|n| !n.is_empty() && hay.contains(&n.to_ascii_lowercase()))
        .max_by_key(|n| n.len())
}

/// A GuardDuty detector id in a file name: a run of 32 or more hex digits.
fn hex_id(name: &str) -> Option<String> {
    name.split(|c: char| !c.is_ascii_hexdigit())
        .find(|run| run.len() >= 32 && run.len() <= 64)
        .map(str::to_string)
}

/// The pages of one file: one JSON object, objects written one after the other
/// (`--no-paginate` off and the output appended), or an array of them.
fn parse_file(bytes: &[u8]) -> Result<Page, String> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let pages: Vec<Page> = match first {
        None => return Err("the file is empty".into()),
        Some(b'[') => serde_json::from_slice::<Vec<Page>>(bytes).map_err(|e| e.to_string())?,
        Some(_) => serde_json::Deserializer::from_slice(bytes)
            .into_iter::<Page>()
            .collect::<Result<_, _>>()
            .map_err(|e| e.to_string())?,
    };
    let mut all = Page::default();
    for p in pages {
        all.merge(p);
    }
    Ok(all)
}

/// One page of any output keibi reads; each field is `None` when its key is absent.
#[derive(Debug, Default, Deserialize)]
struct Page {
    #[serde(rename = "DBInstances", default, deserialize_with = "seq")]
    db_instances: Option<Vec<DbInstance>>,
    #[serde(rename = "DBClusters", default, deserialize_with = "seq")]
    db_clusters: Option<Vec<DbCluster>>,
    #[serde(rename = "DBSnapshots", default, deserialize_with = "seq")]
    db_snapshots: Option<Vec<DbSnapshot>>,
    #[serde(rename = "DBClusterSnapshots", default, deserialize_with = "seq")]
    db_cluster_snapshots: Option<Vec<DbClusterSnapshot>>,
    #[serde(
        rename = "DBSnapshotAttributesResult",
        default,
        deserialize_with = "one"
    )]
    db_snapshot_attributes: Option<DbSnapshotAttributesResult>,
    #[serde(
        rename = "DBClusterSnapshotAttributesResult",
        default,
        deserialize_with = "one"
    )]
    db_cluster_snapshot_attributes: Option<DbClusterSnapshotAttributesResult>,
    #[serde(rename = "Parameters", default, deserialize_with = "seq")]
    parameters: Option<Vec<Parameter>>,
    #[serde(rename = "SecurityGroups", default, deserialize_with = "seq")]
    security_groups: Option<Vec<SecurityGroup>>,
    #[serde(rename = "NetworkAcls", default, deserialize_with = "seq")]
    network_acls: Option<Vec<NetworkAcl>>,
    #[serde(rename = "RouteTables", default, deserialize_with = "seq")]
    route_tables: Option<Vec<RouteTable>>,
    #[serde(rename = "Subnets", default, deserialize_with = "seq")]
    subnets: Option<Vec<Subnet>>,
    #[serde(rename = "trailList", default, deserialize_with = "seq")]
    trails: Option<Vec<Trail>>,
    #[serde(rename = "IsLogging", default, deserialize_with = "de::opt_bool")]
    is_logging: Option<bool>,
    #[serde(rename = "TrailARN", default, deserialize_with = "de::opt_string")]
    trail_arn: Option<String>,
    #[serde(rename = "EventSelectors", default, deserialize_with = "seq")]
    event_selectors: Option<Vec<EventSelector>>,
    #[serde(rename = "AdvancedEventSelectors", default, deserialize_with = "seq")]
    advanced_event_selectors: Option<Vec<AdvancedEventSelector>>,
    #[serde(rename = "DetectorIds", default, deserialize_with = "seq")]
    detector_ids: Option<Vec<String>>,
    #[serde(rename = "Status", default, deserialize_with = "de::opt_string")]
    status: Option<String>,
    #[serde(rename = "Features", default, deserialize_with = "seq")]
    features: Option<Vec<DetectorFeature>>,
    #[serde(rename = "ServiceRole", default, deserialize_with = "de::opt_string")]
    service_role: Option<String>,
}

impl Page {
    fn is_detector(&self) -> bool {
        self.status.is_some() && (self.features.is_some() || self.service_role.is_some())
    }

    /// GetEventSelectors (GetInsightSelectors also names a `TrailARN`).
    fn is_event_selectors(&self) -> bool {
        self.trail_arn.is_some()
            && (self.event_selectors.is_some() || self.advanced_event_selectors.is_some())
    }

    fn recognised(&self) -> bool {
        self.db_instances.is_some()
            || self.db_clusters.is_some()
            || self.db_snapshots.is_some()
            || self.db_cluster_snapshots.is_some()
            || self.db_snapshot_attributes.is_some()
            || self.db_cluster_snapshot_attributes.is_some()
            || self.parameters.is_some()
            || self.security_groups.is_some()
            || self.network_acls.is_some()
            || self.route_tables.is_some()
            || self.subnets.is_some()
            || self.trails.is_some()
            || self.is_logging.is_some()
            || self.is_event_selectors()
            || self.detector_ids.is_some()
            || self.is_detector()
    }

    fn merge(&mut self, o: Page) {
        extend(&mut self.db_instances, o.db_instances);
        extend(&mut self.db_clusters, o.db_clusters);
        extend(&mut self.db_snapshots, o.db_snapshots);
        extend(&mut self.db_cluster_snapshots, o.db_cluster_snapshots);
        self.db_snapshot_attributes = self
            .db_snapshot_attributes
            .take()
            .or(o.db_snapshot_attributes);
        self.db_cluster_snapshot_attributes = self
            .db_cluster_snapshot_attributes
            .take()
            .or(o.db_cluster_snapshot_attributes);
        extend(&mut self.parameters, o.parameters);
        extend(&mut self.security_groups, o.security_groups);
        extend(&mut self.network_acls, o.network_acls);
        extend(&mut self.route_tables, o.route_tables);
        extend(&mut self.subnets, o.subnets);
        extend(&mut self.trails, o.trails);
        self.is_logging = self.is_logging.or(o.is_logging);
        self.trail_arn = self.trail_arn.take().or(o.trail_arn);
        extend(&mut self.event_selectors, o.event_selectors);
        extend(
            &mut self.advanced_event_selectors,
            o.advanced_event_selectors,
        );
        extend(&mut self.detector_ids, o.detector_ids);
        self.status = self.status.take().or(o.status);
        extend(&mut self.features, o.features);
        self.service_role = self.service_role.take().or(o.service_role);
    }

    /// The account and region the data names: RDS ARNs first (`arn:aws:rds:REGION:
    /// ACCOUNT:…`), then subnet ARNs and availability zones, then `OwnerId`. A
    /// trail's ARN gives its account only: its region is the trail's home region,
    /// and a multi-region trail is listed in every region.
    fn hints(&self) -> (Option<String>, Option<String>) {
        let mut arns: Vec<&str> = Vec::new();
        let mut owners: Vec<&str> = Vec::new();
        for i in self.db_instances.iter().flatten() {
            arns.extend(i.arn.as_deref());
        }
        for c in self.db_clusters.iter().flatten() {
            arns.extend(c.arn.as_deref());
        }
        for s in self.db_snapshots.iter().flatten() {
            arns.extend(s.arn.as_deref());
        }
        for s in self.db_cluster_snapshots.iter().flatten() {
            arns.extend(s.arn.as_deref());
        }
        for s in self.subnets.iter().flatten() {
            arns.extend(s.arn.as_deref());
            owners.extend(s.owner.as_deref());
        }
        for g in self.security_groups.iter().flatten() {
            arns.extend(g.arn.as_deref());
            owners.extend(g.owner.as_deref());
        }
        for a in self.network_acls.iter().flatten() {
            owners.extend(a.owner.as_deref());
        }
        for r in self.route_tables.iter().flatten() {
            owners.extend(r.owner.as_deref());
        }
        let mut account = None;
        let mut region = None;
        for arn in arns {
            if let Some((r, a)) = arn_scope(arn) {
                region = region.or(r);
                account = account.or(a);
            }
            if account.is_some() && region.is_some() {
                break;
            }
        }
        if region.is_none() {
            region = self
                .subnets
                .iter()
                .flatten()
                .find_map(|s| s.availability_zone.as_deref().and_then(az_region));
        }
        if account.is_none() {
            account = owners
                .into_iter()
                .find(|o| is_account(o))
                .map(str::to_string);
        }
        if account.is_none() {
            let trail_arns = self
                .trails
                .iter()
                .flatten()
                .filter_map(|t| t.arn.as_deref())
                .chain(self.trail_arn.as_deref());
            account = trail_arns.filter_map(arn_scope).find_map(|(_, a)| a);
        }
        (account, region)
    }
}

/// `arn:PARTITION:SERVICE:REGION:ACCOUNT:…` → (region, account), each when well formed.
fn arn_scope(arn: &str) -> Option<(Option<String>, Option<String>)> {
    let mut parts = arn.splitn(6, ':');
    if parts.next()? != "arn" {
        return None;
    }
    let _partition = parts.next()?;
    let _service = parts.next()?;
    let region = parts.next()?;
    let account = parts.next()?;
    parts.next()?;
    let region = is_region(region).then(|| region.to_string());
    let account = is_account(account).then(|| account.to_string());
    Some((region, account))
}

fn is_account(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// `us-east-1`, `ap-northeast-1`, `us-gov-west-1`: lower-case words and a number.
fn is_region(s: &str) -> bool {
    (4..=32).contains(&s.len())
        && s.contains('-')
        && s.bytes().last().is_some_and(|b| b.is_ascii_digit())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// `eu-west-1a` → `eu-west-1`.
fn az_region(az: &str) -> Option<String> {
    let r = az.trim_end_matches(|c: char| c.is_ascii_lowercase());
    is_region(r).then(|| r.to_string())
}

/// A list read element by element (each element on its own, so an odd one is
/// skipped and no copy of the whole list is made); a wrapper object (`{"item": […]}`)
/// or a single element goes through [`de::list_of`].
fn seq<'de, D: Deserializer<'de>, T: DeserializeOwned>(d: D) -> Result<Option<Vec<T>>, D::Error> {
    struct V<T>(PhantomData<T>);
    impl<'de, T: DeserializeOwned> Visitor<'de> for V<T> {
        type Value = Vec<T>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a list")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<Vec<T>, A::Error> {
            let mut out = Vec::new();
            while let Some(v) = s.next_element::<Value>()? {
                if let Ok(t) = serde_json::from_value::<T>(v) {
                    out.push(t);
                }
            }
            Ok(out)
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, m: A) -> Result<Vec<T>, A::Error> {
            let v = Value::deserialize(serde::de::value::MapAccessDeserializer::new(m))?;
            Ok(de::list_of(v))
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Vec<T>, E> {
            Ok(Vec::new())
        }
        fn visit_none<E: serde::de::Error>(self) -> Result<Vec<T>, E> {
            Ok(Vec::new())
        }
        fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Vec<T>, E> {
            Ok(de::list_of(Value::String(s.to_string())))
        }
        fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<Vec<T>, E> {
            Ok(Vec::new())
        }
        fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Vec<T>, E> {
            Ok(Vec::new())
        }
        fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<Vec<T>, E> {
            Ok(Vec::new())
        }
        fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Vec<T>, E> {
            Ok(Vec::new())
        }
    }
    d.deserialize_any(V(PhantomData)).map(Some)
}

/// One object; something else under the key is read as absent-but-seen (`None`
/// would make the file unrecognised, which it is not).
fn one<'de, D: Deserializer<'de>, T: DeserializeOwned>(d: D) -> Result<Option<T>, D::Error> {
    let v = Value::deserialize(d)?;
    Ok(serde_json::from_value::<T>(v).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load1(name: &str, json: &str) -> (Vec<Inventory>, Vec<LoadProblem>) {
        load(&[SavedFile {
            path: Path::new(name),
            bytes: json.as_bytes(),
        }])
    }

    #[test]
    fn instances_with_account_and_region_from_the_arn() {
        let (inv, probs) = load1(
            "d/i.json",
            r#"{"DBInstances":[{"DBInstanceIdentifier":"db1","Engine":"postgres",
               "DBInstanceArn":"arn:aws:rds:eu-west-1:123456789012:db:db1","PubliclyAccessible":true}]}"#,
        );
        assert!(probs.is_empty(), "{probs:?}");
        assert_eq!(inv.len(), 1);
        assert_eq!(inv[0].account.as_deref(), Some("123456789012"));
        assert_eq!(inv[0].region.as_deref(), Some("eu-west-1"));
        let dbs = inv[0].db_instances.as_ref().unwrap();
        assert!(dbs[0].publicly_accessible);
        assert!(inv[0].security_groups.is_none());
    }

    #[test]
    fn pages_concatenated_or_in_an_array_load_as_one() {
        let page = |id: &str| {
            format!(r#"{{"SecurityGroups":[{{"GroupId":"{id}","OwnerId":"111122223333"}}]}}"#)
        };
        let cat = format!("{}\n{}", page("sg-1"), page("sg-2"));
        let (inv, p) = load1("sg.json", &cat);
        assert!(p.is_empty());
        assert_eq!(inv[0].security_groups.as_ref().unwrap().len(), 2);
        assert_eq!(inv[0].account.as_deref(), Some("111122223333"));
        let arr = format!("[{},{}]", page("sg-1"), page("sg-2"));
        let (inv, p) = load1("sg.json", &arr);
        assert!(p.is_empty());
        assert_eq!(inv[0].security_groups.as_ref().unwrap().len(), 2);
    }

    #[test]
    fn bad_files_are_problems_and_the_rest_still_load() {
        let files = [
            SavedFile {
                path: Path::new("a/notjson.json"),
                bytes: b"\x00\xffnot json",
            },
            SavedFile {
                path: Path::new("a/other.json"),
                bytes: br#"{"Buckets":[]}"#,
            },
            SavedFile {
                path: Path::new("a/empty.json"),
                bytes: b"  ",
            },
            SavedFile {
                path: Path::new("a/sg.json"),
                bytes: br#"{"SecurityGroups":[{"GroupId":"sg-1"}, 42, {"nope":1}]}"#,
            },
        ];
        let (inv, probs) = load(&files);
        assert_eq!(probs.len(), 3, "{probs:?}");
        assert!(probs[0]
            .to_string()
            .starts_with("a/notjson.json: not AWS CLI JSON"));
        assert!(probs[1].reason.contains("not a recognised"));
        assert_eq!(inv.len(), 1);
        assert_eq!(inv[0].security_groups.as_ref().unwrap().len(), 1);
    }

    #[test]
    fn parameters_take_the_longest_group_name_in_the_file_name() {
        let files = [
            SavedFile {
                path: Path::new("x/instances.json"),
                bytes: br#"{"DBInstances":[{"DBInstanceIdentifier":"a","Engine":"postgres",
                    "DBParameterGroups":[{"DBParameterGroupName":"pg"}]},
                    {"DBInstanceIdentifier":"b","Engine":"postgres",
                    "DBParameterGroups":[{"DBParameterGroupName":"pg-strict"}]}]}"#,
            },
            SavedFile {
                path: Path::new("x/params-PG-STRICT.json"),
                bytes:
                    br#"{"Parameters":[{"ParameterName":"rds.force_ssl","ParameterValue":"1"}]}"#,
            },
            SavedFile {
                path: Path::new("x/params-unknown.json"),
                bytes: br#"{"Parameters":[]}"#,
            },
        ];
        let (inv, probs) = load(&files);
        assert_eq!(probs.len(), 1, "{probs:?}");
        assert!(probs[0].path.ends_with("params-unknown.json"));
        let groups = inv[0].db_parameter_groups.as_ref().unwrap();
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].name, "pg-strict");
        assert_eq!(groups[0].get("rds.force_ssl"), Some("1"));
    }

    #[test]
    fn trail_status_and_detectors_by_file_name_or_the_only_one() {
        let files = [
            SavedFile {
                path: Path::new("t/trails.json"),
                bytes: br#"{"trailList":[{"Name":"main","TrailARN":"arn:aws:cloudtrail:us-east-1:123456789012:trail/main"}]}"#,
            },
            SavedFile {
                path: Path::new("t/status.json"),
                bytes: br#"{"IsLogging":true,"LatestDeliveryTime":"2026-01-01T00:00:00Z"}"#,
            },
            SavedFile {
                path: Path::new("t/gd-list.json"),
                bytes: br#"{"DetectorIds":["12abc34d567e8fa901bc2d34e56789f0","aaaabbbbccccddddeeeeffff00001111"]}"#,
            },
            SavedFile {
                path: Path::new("t/get-detector-12abc34d567e8fa901bc2d34e56789f0.json"),
                bytes: br#"{"Status":"ENABLED","ServiceRole":"x","Features":[{"Name":"RDS_LOGIN_EVENTS","Status":"ENABLED"}]}"#,
            },
        ];
        let (inv, probs) = load(&files);
        assert!(probs.is_empty(), "{probs:?}");
        assert_eq!(inv.len(), 1);
        assert_eq!(inv[0].account.as_deref(), Some("123456789012"));
        let st = inv[0].trail_status.as_ref().unwrap();
        assert_eq!(st[0].trail, "main");
        assert!(st[0].is_logging);
        let gd = inv[0].guardduty.as_ref().unwrap();
        assert_eq!(gd.len(), 2);
        assert_eq!(gd[0].status.as_deref(), Some("ENABLED"));
        assert_eq!(gd[1].status, None);
    }

    #[test]
    fn two_regions_in_two_directories_are_two_inventories() {
        let inst = |r: &str| {
            format!(
                r#"{{"DBInstances":[{{"DBInstanceIdentifier":"db","DBInstanceArn":"arn:aws:rds:{r}:123456789012:db:db"}}]}}"#
            )
        };
        let a = inst("us-east-1");
        let b = inst("eu-west-1");
        let files = [
            SavedFile {
                path: Path::new("us/i.json"),
                bytes: a.as_bytes(),
            },
            SavedFile {
                path: Path::new("us/nacl.json"),
                bytes: br#"{"NetworkAcls":[]}"#,
            },
            SavedFile {
                path: Path::new("eu/i.json"),
                bytes: b.as_bytes(),
            },
        ];
        let (inv, probs) = load(&files);
        assert!(probs.is_empty());
        assert_eq!(inv.len(), 2);
        assert_eq!(inv[0].region.as_deref(), Some("us-east-1"));
        assert!(inv[0].network_acls.is_some());
        assert!(inv[1].network_acls.is_none());
    }

    #[test]
    fn insight_selectors_are_not_event_selectors() {
        let (inv, probs) = load1(
            "t/insights.json",
            r#"{"TrailARN":"arn:aws:cloudtrail:us-east-1:123456789012:trail/t","InsightSelectors":[]}"#,
        );
        assert!(inv.is_empty());
        assert_eq!(probs.len(), 1);
        let (inv, probs) = load1(
            "t/selectors.json",
            r#"{"TrailARN":"arn:aws:cloudtrail:us-east-1:123456789012:trail/t","EventSelectors":[]}"#,
        );
        assert!(probs.is_empty());
        assert_eq!(inv[0].event_selectors.as_ref().unwrap().len(), 1);
    }

    #[test]
    fn arn_parts_are_checked() {
        assert_eq!(
            arn_scope("arn:aws:rds:ap-northeast-1:123456789012:db:x"),
            Some((Some("ap-northeast-1".into()), Some("123456789012".into())))
        );
        assert_eq!(
            arn_scope("arn:aws:rds:../../etc:12345:db:x"),
            Some((None, None))
        );
        assert_eq!(arn_scope("nope"), None);
        assert_eq!(az_region("eu-west-1b").as_deref(), Some("eu-west-1"));
    }
}
