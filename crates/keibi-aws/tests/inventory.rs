//! The live posture inventory against moto server (PyPI), started by each test on a
//! free loopback port, with an insecure estate made by `tests/data/make_estate.py`
//! (boto3): a public, unencrypted PostgreSQL instance without deletion protection
//! in a security group open on 5432 to the world, its snapshot shared with `all`, an
//! Aurora cluster and its snapshot, a network ACL allowing 3306 from anywhere, an
//! internet route, a logging trail and a GuardDuty detector. Checks that keibi's
//! signed calls read every one of them back with its values, page by page, and that
//! an endpoint that is not there fails quickly and clearly.
//!
//! Skipped without the test venv unless `KEIBI_REQUIRE_SERVERS=1` (scripts/test.sh).

#[path = "../../keibi-notify/tests/common/mod.rs"]
mod common;
mod estate;

use std::net::TcpListener;
use std::sync::Once;
use std::time::{Duration, Instant};

use keibi_aws::inventory::{collect, collect_paged, InventoryOptions};
use keibi_posture::aws::Inventory;

fn testing_credentials() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| estate::credentials("testing", "testing"));
}

fn one(opts: &InventoryOptions, page: u32) -> (Inventory, Vec<String>) {
    testing_credentials();
    let (mut invs, problems) = collect_paged(opts, page).expect("inventory");
    assert_eq!(invs.len(), 1);
    (invs.remove(0), problems)
}

#[test]
fn the_inventory_reads_the_estate_back_exactly() {
    let Some(e) = estate::estate(&["--extra-instances", "4"]) else {
        return;
    };
    let m = &e.made;
    // Two records per page: five instances take three pages.
    let (inv, problems) = one(&estate::options(&e.endpoint, "us-east-1"), 2);
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(inv.account.as_deref(), Some("123456789012"));
    assert_eq!(inv.region.as_deref(), Some("us-east-1"));
    assert_eq!(inv.source, "aws");

    let dbs = inv.db_instances.as_ref().expect("instances read");
    let mut ids: Vec<&str> = dbs.iter().map(|d| d.id.as_str()).collect();
    ids.sort();
    assert_eq!(
        ids,
        [
            "keibi-pad-00",
            "keibi-pad-01",
            "keibi-pad-02",
            "keibi-pad-03",
            "keibi-public-pg"
        ],
        "every page read once"
    );
    let db = dbs.iter().find(|d| d.id == "keibi-public-pg").unwrap();
    assert_eq!(db.engine, "postgres");
    assert_eq!(db.arn.as_deref(), m["db_instance_arn"].as_str());
    assert!(db.publicly_accessible);
    assert!(!db.storage_encrypted);
    assert!(!db.deletion_protection);
    assert_eq!(db.master_username.as_deref(), Some("keibi_admin"));
    assert_eq!(db.endpoint.as_ref().and_then(|e| e.port), Some(5432));
    let sgs: Vec<&str> = db
        .vpc_security_groups
        .iter()
        .map(|g| g.id.as_str())
        .collect();
    assert_eq!(sgs, [m["security_group"].as_str().unwrap()]);
    let groups: Vec<&str> = db
        .parameter_groups
        .iter()
        .map(|g| g.name.as_str())
        .collect();
    assert_eq!(groups, ["keibi-pg15"]);
    let subnet_group = db.subnet_group.as_ref().expect("subnet group");
    assert_eq!(subnet_group.vpc_id.as_deref(), m["vpc"].as_str());
    let mut subnets: Vec<&str> = subnet_group.subnets.iter().map(|s| s.id.as_str()).collect();
    subnets.sort();
    let mut want: Vec<&str> = m["subnets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    want.sort();
    assert_eq!(subnets, want);
    let pad = dbs.iter().find(|d| d.id == "keibi-pad-00").unwrap();
    assert!(pad.storage_encrypted && pad.deletion_protection && !pad.publicly_accessible);

    // The DB parameter group: only the parameters the controls read (work_mem was
    // set too, and is left out).
    // The padding instances use the engine's default group: each group is read once.
    let pgs = inv
        .db_parameter_groups
        .as_ref()
        .expect("parameter groups read");
    let mut names: Vec<&str> = pgs.iter().map(|g| g.name.as_str()).collect();
    names.sort();
    let mut used: Vec<&str> = dbs
        .iter()
        .flat_map(|d| d.parameter_groups.iter().map(|g| g.name.as_str()))
        .collect();
    used.sort();
    used.dedup();
    assert_eq!(names, used);
    assert_eq!(names.len(), 2, "{names:?}");
    let pg = pgs.iter().find(|g| g.name == "keibi-pg15").unwrap();
    assert_eq!(pg.get("rds.force_ssl"), Some("0"));
    assert_eq!(pg.get("log_connections"), Some("1"));
    assert!(pg.parameters.iter().all(|p| p.name != "work_mem"));

    // Snapshots: the manual one and its `restore` = `all` attribute; automated ones
    // are listed but not asked about.
    let snaps = inv.db_snapshots.as_ref().expect("snapshots read");
    let snap = snaps.iter().find(|s| s.id == "keibi-public-snap").unwrap();
    assert_eq!(snap.snapshot_type.as_deref(), Some("manual"));
    assert_eq!(snap.instance.as_deref(), Some("keibi-public-pg"));
    assert!(!snap.encrypted);
    let attrs = inv
        .db_snapshot_attributes
        .as_ref()
        .expect("attributes read");
    let mut manual: Vec<&str> = snaps
        .iter()
        .filter(|s| s.snapshot_type.as_deref() == Some("manual"))
        .map(|s| s.id.as_str())
        .collect();
    manual.sort();
    assert_eq!(manual.len(), 5, "{manual:?}");
    let mut asked: Vec<&str> = attrs.iter().map(|a| a.snapshot.as_str()).collect();
    asked.sort();
    assert_eq!(asked, manual, "one answer per manual snapshot");
    let restore = |id: &str| -> Vec<String> {
        attrs
            .iter()
            .find(|a| a.snapshot == id)
            .and_then(|a| a.attributes.iter().find(|a| a.name == "restore"))
            .map(|a| a.values.clone())
            .unwrap_or_default()
    };
    assert_eq!(restore("keibi-public-snap"), ["all"]);
    assert!(restore("keibi-pad-00-snap").is_empty());

    // The Aurora cluster, its parameter group and its snapshot.
    let clusters = inv.db_clusters.as_ref().expect("clusters read");
    assert_eq!(clusters.len(), 1);
    let c = &clusters[0];
    assert_eq!(c.id, "keibi-aurora");
    assert_eq!(c.engine, "aurora-postgresql");
    assert!(!c.storage_encrypted && !c.deletion_protection);
    assert_eq!(c.parameter_group.as_deref(), Some("keibi-aurora-pg"));
    let cpgs = inv
        .db_cluster_parameter_groups
        .as_ref()
        .expect("cluster parameters read");
    assert_eq!(cpgs.len(), 1);
    assert_eq!(cpgs[0].name, "keibi-aurora-pg");
    assert_eq!(cpgs[0].get("rds.force_ssl"), Some("0"));
    let csnaps = inv
        .db_cluster_snapshots
        .as_ref()
        .expect("cluster snapshots read");
    assert!(csnaps
        .iter()
        .any(|s| s.id == "keibi-aurora-snap" && s.cluster.as_deref() == Some("keibi-aurora")));
    let cattrs = inv
        .db_cluster_snapshot_attributes
        .as_ref()
        .expect("cluster snapshot attributes read");
    assert!(cattrs.iter().any(|a| a.snapshot == "keibi-aurora-snap"));

    // The security group open on 5432 to the world (v4 and v6).
    let sgs = inv.security_groups.as_ref().expect("security groups read");
    let sg = sgs
        .iter()
        .find(|g| Some(g.id.as_str()) == m["security_group"].as_str())
        .expect("the open group");
    assert_eq!(sg.name.as_deref(), Some("keibi-open-pg"));
    assert_eq!(sg.vpc_id.as_deref(), m["vpc"].as_str());
    assert_eq!(sg.ingress.len(), 1, "{:?}", sg.ingress);
    let rule = &sg.ingress[0];
    assert_eq!(rule.protocol, "tcp");
    assert_eq!((rule.from_port, rule.to_port), (Some(5432), Some(5432)));
    let v4: Vec<&str> = rule.ip_ranges.iter().map(|r| r.cidr.as_str()).collect();
    let v6: Vec<&str> = rule.ipv6_ranges.iter().map(|r| r.cidr.as_str()).collect();
    assert_eq!((v4, v6), (vec!["0.0.0.0/0"], vec!["::/0"]));
    assert!(!sg.egress.is_empty(), "the default egress rule is read too");

    // The network ACL entry allowing 3306 from anywhere.
    let acls = inv.network_acls.as_ref().expect("network ACLs read");
    let acl = acls
        .iter()
        .find(|a| Some(a.id.as_str()) == m["network_acl"].as_str())
        .expect("the ACL");
    assert!(!acl.is_default);
    let entry = acl
        .entries
        .iter()
        .find(|e| e.rule_number == Some(100) && !e.egress)
        .expect("rule 100");
    assert_eq!(
        (
            entry.protocol.as_str(),
            entry.action.as_str(),
            entry.cidr.as_deref()
        ),
        ("6", "allow", Some("0.0.0.0/0"))
    );
    let range = entry.port_range.as_ref().expect("port range");
    assert_eq!((range.from, range.to), (Some(3306), Some(3306)));

    // The internet route and the subnets.
    let rts = inv.route_tables.as_ref().expect("route tables read");
    let rt = rts
        .iter()
        .find(|r| Some(r.id.as_str()) == m["route_table"].as_str())
        .expect("the route table");
    assert!(rt
        .routes
        .iter()
        .any(|r| r.destination.as_deref() == Some("0.0.0.0/0")
            && r.gateway_id.as_deref() == m["internet_gateway"].as_str()));
    assert!(rt
        .associations
        .iter()
        .any(|a| a.subnet_id.as_deref() == m["subnets"][0].as_str()));
    let subnets = inv.subnets.as_ref().expect("subnets read");
    assert!(subnets
        .iter()
        .any(|s| Some(s.id.as_str()) == m["subnets"][1].as_str()
            && s.cidr.as_deref() == Some("10.20.2.0/24")
            && s.vpc_id.as_deref() == m["vpc"].as_str()));

    // The trail, logging, with its event selectors; the detector, enabled.
    let trails = inv.trails.as_ref().expect("trails read");
    assert_eq!(trails.len(), 1);
    let t = &trails[0];
    assert_eq!(t.name, "keibi-trail");
    assert_eq!(t.arn.as_deref(), m["trail_arn"].as_str());
    assert_eq!(t.s3_bucket.as_deref(), Some("keibi-trail-bucket"));
    assert!(t.multi_region);
    let status = inv.trail_status.as_ref().expect("trail status read");
    assert_eq!(status.len(), 1);
    assert_eq!(Some(status[0].trail.as_str()), m["trail_arn"].as_str());
    assert!(status[0].is_logging);
    let sel = inv.event_selectors.as_ref().expect("event selectors read");
    assert_eq!(sel.len(), 1);
    assert_eq!(Some(sel[0].trail_arn.as_str()), m["trail_arn"].as_str());
    let gd = inv.guardduty.as_ref().expect("detectors read");
    assert_eq!(gd.len(), 1);
    assert_eq!(Some(gd[0].id.as_str()), m["detector"].as_str());
    assert_eq!(gd[0].status.as_deref(), Some("ENABLED"));

    // The default page size reads the same.
    testing_credentials();
    let (invs, problems) = collect(&estate::options(&e.endpoint, "us-east-1")).unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(invs, vec![inv]);
}

#[test]
fn each_region_is_read_on_its_own() {
    let Some(e) = estate::estate(&["--region", "eu-west-1"]) else {
        return;
    };
    testing_credentials();
    let mut opts = estate::options(&e.endpoint, "eu-west-1");
    opts.regions.push("ap-northeast-1".into());
    opts.regions.push("eu-west-1".into()); // given twice: read once
    let (invs, problems) = collect(&opts).expect("inventory");
    assert!(problems.is_empty(), "{problems:?}");
    let regions: Vec<_> = invs.iter().map(|i| i.region.as_deref().unwrap()).collect();
    assert_eq!(regions, ["eu-west-1", "ap-northeast-1"]);
    assert_eq!(invs[0].db_instances.as_ref().unwrap().len(), 1);
    assert_eq!(invs[1].db_instances.as_ref().unwrap().len(), 0);
    assert!(invs[1].guardduty.as_ref().unwrap().is_empty());
    // The multi-region trail is seen from the other region too (a shadow trail).
    assert_eq!(invs[1].trails.as_ref().unwrap().len(), 1);

    // A region that cannot be read is a problem while another is read.
    opts.regions = vec!["eu-west-1".into(), "Not/A Region".into()];
    let (invs, problems) = collect(&opts).expect("one region read");
    assert_eq!(invs.len(), 1);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].contains("\"Not/A Region\" is not an AWS region; the region is not audited"),
        "{problems:?}"
    );
    opts.regions = vec!["Not/A Region".into()];
    let err = collect(&opts).expect_err("no region read").to_string();
    assert!(err.contains("is not an AWS region"), "{err}");
}

#[test]
fn an_endpoint_that_is_not_there_fails_clearly_and_quickly() {
    testing_credentials();
    // Nothing listens: refused at once.
    let port = common::free_port();
    let started = Instant::now();
    let err = collect(&estate::options(
        &format!("http://127.0.0.1:{port}"),
        "us-east-1",
    ))
    .expect_err("no endpoint")
    .to_string();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert!(err.contains("cannot connect"), "{err}");
    assert!(err.contains(&format!("127.0.0.1:{port}")), "{err}");
    assert!(err.contains("STS GetCallerIdentity"), "{err}");

    // Something accepts and never answers: bounded by the time-out (two tries).
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = silent.local_addr().unwrap();
    let mut opts = estate::options(&format!("http://{addr}"), "us-east-1");
    opts.timeout = Duration::from_secs(1);
    let started = Instant::now();
    let err = collect(&opts).expect_err("no answer").to_string();
    let took = started.elapsed();
    assert!(
        took >= Duration::from_secs(1) && took < Duration::from_secs(8),
        "{took:?}"
    );
    assert!(err.contains("no answer in time"), "{err}");

    // Not a URL at all.
    let err = collect(&estate::options("not a url", "us-east-1"))
        .expect_err("bad URL")
        .to_string();
    assert!(err.contains("not a URL"), "{err}");
}
