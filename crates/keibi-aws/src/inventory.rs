//! The posture inventory: the describe calls of RDS, EC2, CloudTrail and GuardDuty,
//! per region, into `keibi_posture::aws::Inventory` (the AWS CLI's shapes).
//!
//! Calls per region, in order: STS GetCallerIdentity (the account); RDS
//! DescribeDBInstances, DescribeDBClusters, DescribeDBSnapshots,
//! DescribeDBClusterSnapshots, DescribeDBSnapshotAttributes per manual snapshot,
//! DescribeDBClusterSnapshotAttributes per manual cluster snapshot,
//! DescribeDBParameters per DB parameter group in use and
//! DescribeDBClusterParameters per cluster parameter group in use (only the
//! parameters of [`PARAMETERS`]); EC2 DescribeSecurityGroups, DescribeNetworkAcls,
//! DescribeRouteTables, DescribeSubnets; CloudTrail DescribeTrails, GetTrailStatus
//! and GetEventSelectors per trail; GuardDuty ListDetectors and GetDetector per
//! detector. Lists are read page by page (`Marker`, `NextToken`).
//!
//! A call that fails (denied, not implemented by the endpoint, throttled past its
//! retries) leaves its list `None`, so the controls that need it are not evaluated,
//! and adds a line to the problems; the audit goes on. A list made of per-resource
//! calls is `None` when any of them fails (a partial list would pass a control on
//! what was not read), except for a resource deleted in between (`…NotFound`).
//! No credentials, credentials the first call of a region (STS, which no policy
//! can deny) refuses, or an endpoint that cannot be reached, leaves the region
//! unread: a problem while another region is read, else an error.
//!
//! With `role_arn`, or per account of `accounts`, the calls are signed by a role
//! assumed with the chain's credentials ([`crate::sts`]); a role that refuses
//! leaves its account unread (a problem naming the role ARN) and the other
//! accounts are read.

use std::collections::BTreeSet;
use std::time::Duration;

use keibi_notify::text::{clip, one_line};
use keibi_posture::aws::model::{
    DbCluster, DbClusterSnapshot, DbClusterSnapshotAttributesResult, DbSnapshot,
    DbSnapshotAttributesResult, Detector, EventSelectors, NetworkAcl, Parameter, ParameterGroup,
    RouteTable, SecurityGroup, Subnet, Trail, TrailStatus,
};
use keibi_posture::aws::Inventory;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use crate::signed::{CallError, Client};
use crate::sts::{self, Role};
use crate::xml::items;

/// The parameters of a DB or cluster parameter group the controls read; the rest
/// are not asked for (DescribeDBParameters' `parameter-name` filter) nor kept.
pub const PARAMETERS: &[&str] = &[
    "rds.force_ssl",
    "require_secure_transport",
    "rds.require_secure_transport",
    "server_audit_logging",
    "server_audit_events",
    "log_connections",
    "log_disconnections",
    "pgaudit.log",
    "shared_preload_libraries",
];

/// Records (RDS) or results (EC2, GuardDuty) asked for per page.
pub const PAGE: u32 = 100;
/// Regions read at once.
const REGIONS_AT_ONCE: usize = 4;
/// Per-resource calls in flight at once (RDS throttles a burst of hundreds).
const AT_ONCE: usize = 4;
/// Pages read of one list at most (100 000 resources at the default page size): a
/// bound against an endpoint that never stops answering with a next token.
const MAX_PAGES: usize = 1000;

const RDS_VERSION: &str = "2014-10-31";
const EC2_VERSION: &str = "2016-11-15";
const STS_VERSION: &str = "2011-06-15";
const CLOUDTRAIL_TARGET: &str = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101";

/// Where and how to read.
#[derive(Debug, Clone, Default)]
pub struct InventoryOptions {
    /// Regions to read; empty: the standard chain's region.
    pub regions: Vec<String>,
    /// `--endpoint-url` (moto, a VPC endpoint).
    pub endpoint_url: Option<String>,
    /// `--profile`, else the standard chain.
    pub profile: Option<String>,
    /// Bound on each call.
    pub timeout: Duration,
    /// A role to assume (with the chain's or the profile's credentials) and read
    /// with, when `accounts` is empty.
    pub role_arn: Option<String>,
    /// The external id `role_arn`'s trust policy asks for.
    pub external_id: Option<String>,
    /// Several accounts, each read by its own role: a role that refuses costs
    /// only its account.
    pub accounts: Vec<Account>,
}

/// One account of an audit of several, reached by its role.
#[derive(Debug, Clone, Default)]
pub struct Account {
    pub role_arn: String,
    pub external_id: Option<String>,
    /// Its regions; empty: the audit's.
    pub regions: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    #[error("AWS inventory: {0}")]
    Failed(String),
}

/// Reads every region's inventory. A call that is denied or fails leaves its list
/// `None` (the controls that need it are then not evaluated) and is reported in
/// the second value; no credentials, or no region that could be read, is an
/// error.
pub fn collect(opts: &InventoryOptions) -> Result<(Vec<Inventory>, Vec<String>), InventoryError> {
    collect_paged(opts, PAGE)
}

/// [`collect`] asking for `page` records per page (tests page with small ones),
/// kept within what each API takes: RDS 1 to 100 (AWS itself refuses fewer than
/// 20, moto takes any), EC2 5 to 1000, GuardDuty 1 to 50.
pub fn collect_paged(
    opts: &InventoryOptions,
    page: u32,
) -> Result<(Vec<Inventory>, Vec<String>), InventoryError> {
    let failed = |s: String| InventoryError::Failed(s);
    let rt = crate::config::runtime()
        .map_err(|e| failed(format!("cannot start the AWS client's runtime: {e}")))?;
    rt.block_on(async {
        let timeout = if opts.timeout.is_zero() {
            Duration::from_secs(30)
        } else {
            opts.timeout
        };
        let conf = crate::config::load_with_profile(
            opts.regions.first().cloned(),
            opts.endpoint_url.clone(),
            opts.profile.clone(),
            timeout,
        )
        .await;
        let mut regions = dedup(&opts.regions);
        if regions.is_empty() {
            match conf.region() {
                Some(r) => regions.push(r.to_string()),
                None => {
                    return Err(failed(
                        "no region: give --region, or set AWS_REGION or the profile's region"
                            .into(),
                    ))
                }
            }
        }
        let Some(creds) = conf.credentials_provider() else {
            return Err(failed("no AWS credentials provider".into()));
        };
        let endpoint = opts
            .endpoint_url
            .clone()
            .or_else(|| conf.endpoint_url().map(str::to_string));
        let client = Client::new(creds.clone(), endpoint.as_deref(), timeout)
            .map_err(|e| failed(e.to_string()))?;
        client
            .credentials()
            .await
            .map_err(|e| match &opts.profile {
                Some(p) => failed(format!("profile {:?}: {e}", clip(&one_line(p), 100, "…"))),
                None => failed(e.to_string()),
            })?;
        // One target without `accounts` (the chain's own account, or the one
        // `role_arn` reaches); else one per account, each by its own role.
        let targets: Vec<(Option<Role>, Vec<String>)> = if opts.accounts.is_empty() {
            let role = opts
                .role_arn
                .as_deref()
                .map(|arn| Role::new(arn, opts.external_id.as_deref()));
            vec![(role, regions)]
        } else {
            opts.accounts
                .iter()
                .map(|a| {
                    let own = dedup(&a.regions);
                    (
                        Some(Role::new(&a.role_arn, a.external_id.as_deref())),
                        if own.is_empty() { regions.clone() } else { own },
                    )
                })
                .collect()
        };
        let several = targets.len() > 1;
        let mut out = Vec::new();
        let mut problems = Vec::new();
        let mut unread = Vec::new();
        for (role, regions) in targets {
            let shown = role.as_ref().map(Role::shown);
            let assumed;
            let client: &Client = match role {
                None => &client,
                Some(role) => match sts::client(
                    creds.clone(),
                    endpoint.as_deref(),
                    timeout,
                    &regions[0],
                    role,
                )
                .await
                {
                    Ok(c) => {
                        assumed = c;
                        &assumed
                    }
                    // A refused role costs its own account only.
                    Err(e) => {
                        unread.push(format!("{e}; the account is not audited"));
                        continue;
                    }
                },
            };
            let (mut invs, said, not_read) = read_regions(client, &regions, page).await;
            let name = |s: String| match (&shown, several) {
                (Some(r), true) => format!("{r}: {s}"),
                _ => s,
            };
            out.append(&mut invs);
            problems.extend(said.into_iter().map(name));
            unread.extend(not_read.into_iter().map(name));
        }
        // A region (or an account) that cannot be read at all (an opt-in region not
        // enabled refuses the keys, a role that refuses keibi) is a problem while
        // another is read; when none is, the audit fails.
        if out.is_empty() {
            return Err(failed(unread.join("; ")));
        }
        for e in unread {
            if e.ends_with("not audited") {
                problems.push(e);
            } else {
                problems.push(format!("{e}; the region is not audited"));
            }
        }
        Ok((out, problems))
    })
}

/// The regions given, trimmed, empty ones and repeats left out.
fn dedup(list: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in list {
        let r = r.trim().to_string();
        if !r.is_empty() && !out.contains(&r) {
            out.push(r);
        }
    }
    out
}

/// Every region's inventory with one client (one account): the inventories, the
/// problems, and the regions that could not be read at all, with why.
async fn read_regions(
    client: &Client,
    regions: &[String],
    page: u32,
) -> (Vec<Inventory>, Vec<String>, Vec<String>) {
    // Regions are read side by side, a few at a time, in the order given.
    use futures_util::stream::{self, StreamExt};
    let reads: Vec<(Result<Inventory, String>, Vec<String>)> = stream::iter(regions)
        .map(|region| async move {
            let mut r = Region {
                client,
                region,
                page,
                problems: Vec::new(),
            };
            let read = r.read().await;
            (read, r.problems)
        })
        .buffered(REGIONS_AT_ONCE)
        .collect()
        .await;
    let mut out = Vec::new();
    let mut problems = Vec::new();
    let mut unread = Vec::new();
    for (read, mut said) in reads {
        match read {
            Ok(inv) => {
                problems.append(&mut said);
                out.push(inv);
            }
            Err(e) => unread.push(e),
        }
    }
    (out, problems, unread)
}

/// One region's reading.
struct Region<'a> {
    client: &'a Client,
    region: &'a str,
    page: u32,
    problems: Vec<String>,
}

impl Region<'_> {
    async fn read(&mut self) -> Result<Inventory, String> {
        let mut inv = Inventory {
            region: Some(self.region.to_string()),
            source: "aws".into(),
            ..Inventory::default()
        };
        match self
            .client
            .query("sts", self.region, STS_VERSION, "GetCallerIdentity", &[])
            .await
        {
            Ok(v) => {
                inv.account = v["GetCallerIdentityResult"]["Account"]
                    .as_str()
                    .filter(|a| !a.is_empty())
                    .map(str::to_string);
            }
            Err(e @ (CallError::Transport(_) | CallError::Credentials(_))) => {
                return Err(format!("{}: STS GetCallerIdentity: {e}", self.region));
            }
            // No IAM policy can deny GetCallerIdentity: a refusal here is the keys
            // themselves, and every other call would be refused too.
            Err(e) if e.code().is_some_and(refused_credentials) => {
                return Err(format!(
                    "{}: STS GetCallerIdentity: the credentials were refused: {e}",
                    self.region
                ));
            }
            Err(e) => self.problem("STS GetCallerIdentity", &e),
        }

        inv.db_instances = self
            .rds_list("DescribeDBInstances", "DBInstances", vec![])
            .await;
        inv.db_clusters = self
            .rds_list::<DbCluster>("DescribeDBClusters", "DBClusters", vec![])
            .await;
        inv.db_snapshots = self
            .rds_list::<DbSnapshot>("DescribeDBSnapshots", "DBSnapshots", vec![])
            .await;
        inv.db_cluster_snapshots = self
            .rds_list::<DbClusterSnapshot>(
                "DescribeDBClusterSnapshots",
                "DBClusterSnapshots",
                vec![],
            )
            .await;
        if let Some(snaps) = &inv.db_snapshots {
            let ids = manual(snaps.iter().map(|s| (&s.id, &s.snapshot_type)));
            inv.db_snapshot_attributes = self
                .per_resource::<DbSnapshotAttributesResult>(
                    "DescribeDBSnapshotAttributes",
                    "DBSnapshotIdentifier",
                    "DBSnapshotAttributesResult",
                    &ids,
                )
                .await;
        }
        if let Some(snaps) = &inv.db_cluster_snapshots {
            let ids = manual(snaps.iter().map(|s| (&s.id, &s.snapshot_type)));
            inv.db_cluster_snapshot_attributes = self
                .per_resource::<DbClusterSnapshotAttributesResult>(
                    "DescribeDBClusterSnapshotAttributes",
                    "DBClusterSnapshotIdentifier",
                    "DBClusterSnapshotAttributesResult",
                    &ids,
                )
                .await;
        }
        if let Some(instances) = &inv.db_instances {
            let names: BTreeSet<&str> = instances
                .iter()
                .flat_map(|i| i.parameter_groups.iter().map(|g| g.name.as_str()))
                .collect();
            inv.db_parameter_groups = self
                .parameter_groups("DescribeDBParameters", "DBParameterGroupName", &names)
                .await;
        }
        if let Some(clusters) = &inv.db_clusters {
            let names: BTreeSet<&str> = clusters
                .iter()
                .filter_map(|c| c.parameter_group.as_deref())
                .collect();
            inv.db_cluster_parameter_groups = self
                .parameter_groups(
                    "DescribeDBClusterParameters",
                    "DBClusterParameterGroupName",
                    &names,
                )
                .await;
        }

        inv.security_groups = self
            .ec2_list::<SecurityGroup>("DescribeSecurityGroups", "SecurityGroupInfo")
            .await;
        inv.network_acls = self
            .ec2_list::<NetworkAcl>("DescribeNetworkAcls", "NetworkAclSet")
            .await;
        inv.route_tables = self
            .ec2_list::<RouteTable>("DescribeRouteTables", "RouteTableSet")
            .await;
        inv.subnets = self
            .ec2_list::<Subnet>("DescribeSubnets", "SubnetSet")
            .await;

        self.cloudtrail(&mut inv).await;
        inv.guardduty = self.guardduty().await;

        if inv.account.is_none() {
            inv.account = account_from_arns(&inv);
        }
        Ok(inv)
    }

    fn problem(&mut self, what: &str, e: &CallError) {
        self.problems.push(clip(
            &one_line(&format!("{} {what}: {e}", self.region)),
            600,
            "…",
        ));
    }

    /// Elements that do not read as the model's type are skipped, and said.
    fn read_items<T: DeserializeOwned>(&mut self, what: &str, list: &Value, into: &mut Vec<T>) {
        let mut bad = 0usize;
        for v in items(list) {
            match serde_json::from_value::<T>(v) {
                Ok(t) => into.push(t),
                Err(_) => bad += 1,
            }
        }
        if bad > 0 {
            self.problems.push(format!(
                "{} {what}: entries that could not be read were left out: {bad}",
                self.region
            ));
        }
    }

    /// A paged RDS describe call (`MaxRecords`, `Marker`).
    async fn rds_list<T: DeserializeOwned>(
        &mut self,
        action: &str,
        list: &str,
        params: Vec<(String, String)>,
    ) -> Option<Vec<T>> {
        let mut out = Vec::new();
        let mut marker: Option<String> = None;
        let what = format!("RDS {action}");
        for _ in 0..MAX_PAGES {
            let mut p = params.clone();
            p.push(("MaxRecords".into(), self.page.clamp(1, 100).to_string()));
            if let Some(m) = &marker {
                p.push(("Marker".into(), m.clone()));
            }
            let v = match self
                .client
                .query("rds", self.region, RDS_VERSION, action, &p)
                .await
            {
                Ok(v) => v,
                Err(e) => {
                    self.problem(&what, &e);
                    return None;
                }
            };
            // A 200 without the action's result element is not RDS's answer (a
            // proxy's page, another service): unread, not an empty list.
            let result = &v[format!("{action}Result").as_str()];
            if !(result.is_object() || result.as_str().is_some_and(|s| s.trim().is_empty())) {
                self.problem(&what, &not_the_answer());
                return None;
            }
            self.read_items(&what, &result[list], &mut out);
            match next_token(&result["Marker"], &marker) {
                Next::Done => return Some(out),
                Next::Page(m) => marker = Some(m),
                Next::Repeated => {
                    self.problems.push(format!(
                        "{} {what}: the endpoint gave the same page marker twice; the list is left unread",
                        self.region
                    ));
                    return None;
                }
            }
        }
        self.problems.push(format!(
            "{} {what}: more than {MAX_PAGES} pages; the list is left unread",
            self.region
        ));
        None
    }

    /// A paged EC2 describe call (`MaxResults`, `NextToken`).
    async fn ec2_list<T: DeserializeOwned>(&mut self, action: &str, list: &str) -> Option<Vec<T>> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        let what = format!("EC2 {action}");
        for _ in 0..MAX_PAGES {
            let mut p = vec![(
                "MaxResults".to_string(),
                self.page.clamp(5, 1000).to_string(),
            )];
            if let Some(t) = &token {
                p.push(("NextToken".into(), t.clone()));
            }
            let v = match self
                .client
                .query("ec2", self.region, EC2_VERSION, action, &p)
                .await
            {
                Ok(v) => v,
                Err(e) => {
                    self.problem(&what, &e);
                    return None;
                }
            };
            if !v.is_object() {
                self.problem(&what, &not_the_answer());
                return None;
            }
            self.read_items(&what, &v[list], &mut out);
            match next_token(&v["NextToken"], &token) {
                Next::Done => return Some(out),
                Next::Page(t) => token = Some(t),
                Next::Repeated => {
                    self.problems.push(format!(
                        "{} {what}: the endpoint gave the same page token twice; the list is left unread",
                        self.region
                    ));
                    return None;
                }
            }
        }
        self.problems.push(format!(
            "{} {what}: more than {MAX_PAGES} pages; the list is left unread",
            self.region
        ));
        None
    }

    /// One RDS call per resource (snapshot attributes), [`AT_ONCE`] at a time.
    async fn per_resource<T: DeserializeOwned>(
        &mut self,
        action: &str,
        id_param: &str,
        result_key: &str,
        ids: &[String],
    ) -> Option<Vec<T>> {
        use futures_util::stream::{self, StreamExt};
        let what = format!("RDS {action}");
        let (client, region) = (self.client, self.region);
        let answers: Vec<(&String, Result<Value, CallError>)> = stream::iter(ids)
            .map(|id| async move {
                let p = vec![(id_param.to_string(), id.clone())];
                (
                    id,
                    client.query("rds", region, RDS_VERSION, action, &p).await,
                )
            })
            .buffered(AT_ONCE)
            .collect()
            .await;
        let mut out = Vec::new();
        for (id, answer) in answers {
            match answer {
                Ok(v) => {
                    let one = &v[format!("{action}Result").as_str()][result_key];
                    match serde_json::from_value::<T>(one.clone()) {
                        Ok(t) => out.push(t),
                        Err(e) => {
                            self.problems.push(clip(
                                &one_line(&format!(
                                    "{} {what} {id}: unreadable answer ({e}); the list is left unread",
                                    self.region
                                )),
                                600,
                                "…",
                            ));
                            return None;
                        }
                    }
                }
                Err(e) if e.is_not_found() => {}
                Err(e) => {
                    self.problem(&format!("{what} {id}"), &e);
                    return None;
                }
            }
        }
        Some(out)
    }

    /// The parameters of [`PARAMETERS`] of each group, by name. RDS filters by
    /// parameter name; an endpoint that refuses the filter is asked again without it,
    /// and only those parameters are kept either way.
    async fn parameter_groups(
        &mut self,
        action: &str,
        name_param: &str,
        names: &BTreeSet<&str>,
    ) -> Option<Vec<ParameterGroup>> {
        let mut filter = vec![("Filters.Filter.1.Name".to_string(), "parameter-name".into())];
        for (i, p) in PARAMETERS.iter().enumerate() {
            filter.push((
                format!("Filters.Filter.1.Values.Value.{}", i + 1),
                p.to_string(),
            ));
        }
        let mut groups = Vec::new();
        for name in names {
            let base = vec![(name_param.to_string(), name.to_string())];
            let mut with_filter = base.clone();
            with_filter.extend(filter.iter().cloned());
            let before = self.problems.len();
            let params = match self
                .rds_list::<Parameter>(action, "Parameters", with_filter)
                .await
            {
                Some(p) => p,
                None => {
                    self.problems.truncate(before);
                    self.rds_list::<Parameter>(action, "Parameters", base)
                        .await?
                }
            };
            groups.push(ParameterGroup {
                name: name.to_string(),
                parameters: params
                    .into_iter()
                    .filter(|p| PARAMETERS.iter().any(|n| n.eq_ignore_ascii_case(&p.name)))
                    .collect(),
            });
        }
        Some(groups)
    }

    async fn trail_call(&mut self, op: &str, input: Value) -> Result<Value, CallError> {
        self.client
            .json11(
                "cloudtrail",
                self.region,
                &format!("{CLOUDTRAIL_TARGET}.{op}"),
                &input,
            )
            .await
    }

    async fn cloudtrail(&mut self, inv: &mut Inventory) {
        let v = match self.trail_call("DescribeTrails", json!({})).await {
            Ok(v) => v,
            Err(e) => {
                self.problem("CloudTrail DescribeTrails", &e);
                return;
            }
        };
        let mut trails: Vec<Trail> = Vec::new();
        self.read_items("CloudTrail DescribeTrails", &v["trailList"], &mut trails);
        let mut status = Some(Vec::new());
        let mut selectors = Some(Vec::new());
        for t in &trails {
            let id = t.arn.clone().unwrap_or_else(|| t.name.clone());
            if status.is_some() {
                match self
                    .trail_call("GetTrailStatus", json!({ "Name": id }))
                    .await
                    .and_then(object::<TrailStatus>)
                {
                    Ok(mut s) => {
                        s.trail = id.clone();
                        if let Some(list) = status.as_mut() {
                            list.push(s);
                        }
                    }
                    Err(e) if e.is_not_found() => {}
                    Err(e) => {
                        self.problem(&format!("CloudTrail GetTrailStatus {id}"), &e);
                        status = None;
                    }
                }
            }
            if selectors.is_some() {
                match self
                    .trail_call("GetEventSelectors", json!({ "TrailName": id }))
                    .await
                    .and_then(object::<EventSelectors>)
                {
                    Ok(mut s) => {
                        if s.trail_arn.is_empty() {
                            s.trail_arn = id.clone();
                        }
                        if let Some(list) = selectors.as_mut() {
                            list.push(s);
                        }
                    }
                    Err(e) if e.is_not_found() => {}
                    Err(e) => {
                        self.problem(&format!("CloudTrail GetEventSelectors {id}"), &e);
                        selectors = None;
                    }
                }
            }
        }
        inv.trails = Some(trails);
        inv.trail_status = status;
        inv.event_selectors = selectors;
    }

    async fn guardduty(&mut self) -> Option<Vec<Detector>> {
        let mut ids: Vec<String> = Vec::new();
        let mut token: Option<String> = None;
        for page in 0..=MAX_PAGES {
            if page == MAX_PAGES {
                self.problems.push(format!(
                    "{} GuardDuty ListDetectors: more than {MAX_PAGES} pages; the list is left unread",
                    self.region
                ));
                return None;
            }
            let mut path = format!("/detector?maxResults={}", self.page.clamp(1, 50));
            if let Some(t) = &token {
                path.push_str("&nextToken=");
                path.push_str(&crate::signed::form_escape(t));
            }
            let v = match self.client.rest_get("guardduty", self.region, &path).await {
                Ok(v) => v,
                Err(e) => {
                    self.problem("GuardDuty ListDetectors", &e);
                    return None;
                }
            };
            for id in items(&v["detectorIds"]) {
                if let Some(id) = id.as_str() {
                    ids.push(id.to_string());
                }
            }
            match next_token(&v["nextToken"], &token) {
                Next::Done => break,
                Next::Page(t) => token = Some(t),
                Next::Repeated => {
                    self.problems.push(format!(
                        "{} GuardDuty ListDetectors: the endpoint gave the same page token twice; the list is left unread",
                        self.region
                    ));
                    return None;
                }
            }
        }
        let mut out = Vec::new();
        for id in ids {
            let path = format!("/detector/{}", crate::signed::form_escape(&id));
            match self
                .client
                .rest_get("guardduty", self.region, &path)
                .await
                .and_then(object::<Detector>)
            {
                Ok(mut d) => {
                    d.id = id;
                    out.push(d);
                }
                Err(e) if e.is_not_found() => {}
                Err(e) => {
                    self.problem(&format!("GuardDuty GetDetector {id}"), &e);
                    return None;
                }
            }
        }
        Some(out)
    }
}

fn not_the_answer() -> CallError {
    CallError::Answer("unreadable answer: not the action's result".into())
}

/// A JSON answer as the model's type: an object, or the call's answer is unreadable
/// (a default value would pass or fail a control on nothing).
fn object<T: DeserializeOwned>(v: Value) -> Result<T, CallError> {
    if !v.is_object() {
        return Err(CallError::Answer(
            "unreadable answer: not a JSON object".into(),
        ));
    }
    serde_json::from_value(v).map_err(|e| CallError::Answer(format!("unreadable answer: {e}")))
}

/// Error codes that mean the keys themselves are refused (unknown, expired, badly
/// signed), not that an action is denied.
fn refused_credentials(code: &str) -> bool {
    matches!(
        code,
        "InvalidClientTokenId"
            | "SignatureDoesNotMatch"
            | "ExpiredToken"
            | "ExpiredTokenException"
            | "UnrecognizedClientException"
            | "AuthFailure"
            | "InvalidAccessKeyId"
            | "IncompleteSignature"
            | "MissingAuthenticationToken"
    )
}

enum Next {
    Done,
    Page(String),
    Repeated,
}

fn next_token(v: &Value, previous: &Option<String>) -> Next {
    match v.as_str().map(str::trim) {
        None | Some("") => Next::Done,
        Some(t) if previous.as_deref() == Some(t) => Next::Repeated,
        Some(t) => Next::Page(t.to_string()),
    }
}

/// The manual snapshots' ids (automated ones cannot be shared; a missing type is
/// asked about too).
fn manual<'a>(snaps: impl Iterator<Item = (&'a String, &'a Option<String>)>) -> Vec<String> {
    snaps
        .filter(|(_, t)| {
            t.as_deref()
                .is_none_or(|t| t.eq_ignore_ascii_case("manual"))
        })
        .map(|(id, _)| id.clone())
        .collect()
}

/// The account of the first ARN read, when STS did not say.
fn account_from_arns(inv: &Inventory) -> Option<String> {
    let arns = inv
        .db_instances
        .iter()
        .flatten()
        .filter_map(|i| i.arn.as_deref())
        .chain(inv.trails.iter().flatten().filter_map(|t| t.arn.as_deref()));
    for arn in arns {
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        if parts.len() == 6 && parts[4].len() == 12 && parts[4].bytes().all(|b| b.is_ascii_digit())
        {
            return Some(parts[4].to_string());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_tokens_end_or_repeat() {
        assert!(matches!(next_token(&Value::Null, &None), Next::Done));
        assert!(matches!(next_token(&json!(" "), &None), Next::Done));
        assert!(matches!(next_token(&json!("a"), &None), Next::Page(t) if t == "a"));
        assert!(matches!(
            next_token(&json!("a"), &Some("a".into())),
            Next::Repeated
        ));
    }

    #[test]
    fn only_manual_snapshots_are_asked_about() {
        let snaps = [
            ("a".to_string(), Some("manual".to_string())),
            ("b".to_string(), Some("automated".to_string())),
            ("c".to_string(), None),
        ];
        assert_eq!(manual(snaps.iter().map(|(a, b)| (a, b))), ["a", "c"]);
    }
}
