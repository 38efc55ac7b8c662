# Writes the fixture estates in the shapes the AWS CLI prints (aws ... --output json),
# written by hand from the AWS CLI reference's output descriptions. Kept so the
# fixtures can be read and changed in one place; the JSON files are what the tests
# read (run: python3 gen.py).
import json, os

def w(d, name, obj):
    with open(os.path.join(d, name), "w") as f:
        json.dump(obj, f, indent=4)
        f.write("\n")

def inst(acct, region, id, engine, version, port, public, enc, maz, mon, dp, logs, iam,
         backup, minor, user, sgs, subnets, vpc, pgroup, cluster=None):
    d = {
        "DBInstanceIdentifier": id,
        "DBInstanceClass": "db.t3.medium",
        "Engine": engine,
        "DBInstanceStatus": "available",
        "MasterUsername": user,
        "Endpoint": {"Address": f"{id}.abcdefghijkl.{region}.rds.amazonaws.com",
                     "Port": port, "HostedZoneId": "Z2R2ITUGPM61AM"},
        "AllocatedStorage": 20,
        "PreferredBackupWindow": "03:00-03:30",
        "BackupRetentionPeriod": backup,
        "DBSecurityGroups": [],
        "VpcSecurityGroups": [{"VpcSecurityGroupId": g, "Status": "active"} for g in sgs],
        "DBParameterGroups": [{"DBParameterGroupName": pgroup, "ParameterApplyStatus": "in-sync"}],
        "AvailabilityZone": region + "a",
        "DBSubnetGroup": {
            "DBSubnetGroupName": "db-subnets",
            "DBSubnetGroupDescription": "database subnets",
            "VpcId": vpc,
            "SubnetGroupStatus": "Complete",
            "Subnets": [{"SubnetIdentifier": s,
                         "SubnetAvailabilityZone": {"Name": region + "a"},
                         "SubnetStatus": "Active"} for s in subnets],
        },
        "MultiAZ": maz,
        "EngineVersion": version,
        "AutoMinorVersionUpgrade": minor,
        "PubliclyAccessible": public,
        "StorageType": "gp3",
        "DbInstancePort": 0,
        "StorageEncrypted": enc,
        "DbiResourceId": "db-" + id.upper().replace("-", ""),
        "MonitoringInterval": mon,
        "DBInstanceArn": f"arn:aws:rds:{region}:{acct}:db:{id}",
        "IAMDatabaseAuthenticationEnabled": iam,
        "DeletionProtection": dp,
        "EnabledCloudwatchLogsExports": logs,
    }
    if not logs:
        del d["EnabledCloudwatchLogsExports"]
    if enc:
        d["KmsKeyId"] = f"arn:aws:kms:{region}:{acct}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    if cluster:
        d["DBClusterIdentifier"] = cluster
    return d

def clus(acct, region, id, engine, port, enc, dp, logs, user, minor, pgroup, sgs, members):
    d = {
        "DBClusterIdentifier": id,
        "DBClusterParameterGroup": pgroup,
        "Status": "available",
        "Endpoint": f"{id}.cluster-abcdefghijkl.{region}.rds.amazonaws.com",
        "Engine": engine,
        "EngineVersion": "15.4" if "postgres" in engine else "8.0.mysql_aurora.3.05.2",
        "Port": port,
        "MasterUsername": user,
        "DBClusterMembers": [{"DBInstanceIdentifier": m, "IsClusterWriter": True,
                              "DBClusterParameterGroupStatus": "in-sync"} for m in members],
        "VpcSecurityGroups": [{"VpcSecurityGroupId": g, "Status": "active"} for g in sgs],
        "StorageEncrypted": enc,
        "DBClusterArn": f"arn:aws:rds:{region}:{acct}:cluster:{id}",
        "IAMDatabaseAuthenticationEnabled": False,
        "BackupRetentionPeriod": 7,
        "DeletionProtection": dp,
        "MultiAZ": False,
        "EngineMode": "provisioned",
    }
    if logs:
        d["EnabledCloudwatchLogsExports"] = logs
    if minor is not None:
        d["AutoMinorVersionUpgrade"] = minor
    return d

def params(pairs):
    out = []
    for name, value in pairs:
        p = {"ParameterName": name, "Description": name, "Source": "user",
             "ApplyType": "dynamic", "DataType": "boolean", "IsModifiable": True,
             "ApplyMethod": "pending-reboot"}
        if value is not None:
            p["ParameterValue"] = value
        out.append(p)
    return {"Parameters": out}

def snap(acct, region, id, inst, engine, enc):
    return {"DBSnapshotIdentifier": id, "DBInstanceIdentifier": inst, "Engine": engine,
            "SnapshotType": "manual", "Status": "available", "Port": 5432,
            "Encrypted": enc, "DBSnapshotArn": f"arn:aws:rds:{region}:{acct}:snapshot:{id}"}

def csnap(acct, region, id, cl, engine, enc):
    return {"DBClusterSnapshotIdentifier": id, "DBClusterIdentifier": cl, "Engine": engine,
            "SnapshotType": "manual", "Status": "available", "StorageEncrypted": enc,
            "DBClusterSnapshotArn": f"arn:aws:rds:{region}:{acct}:cluster-snapshot:{id}"}

def sg(acct, id, name, vpc, ingress, egress):
    return {"Description": name, "GroupName": name, "IpPermissions": ingress,
            "OwnerId": acct, "GroupId": id, "IpPermissionsEgress": egress, "VpcId": vpc}

def rule(proto, frm, to, v4=(), v6=(), groups=()):
    r = {"IpProtocol": proto, "IpRanges": [{"CidrIp": c} for c in v4],
         "Ipv6Ranges": [{"CidrIpv6": c} for c in v6], "PrefixListIds": [],
         "UserIdGroupPairs": [{"GroupId": g, "UserId": "123456789012"} for g in groups]}
    if frm is not None:
        r["FromPort"] = frm
        r["ToPort"] = to
    return r

EGRESS_ALL = [rule("-1", None, None, v4=["0.0.0.0/0"])]

def entry(n, proto, action, cidr, ports=None, egress=False):
    e = {"CidrBlock": cidr, "Egress": egress, "Protocol": proto, "RuleAction": action,
         "RuleNumber": n}
    if ports:
        e["PortRange"] = {"From": ports[0], "To": ports[1]}
    return e

def acl(acct, id, vpc, default, entries, subnets):
    return {"Associations": [{"NetworkAclAssociationId": "aclassoc-" + s[7:], "NetworkAclId": id,
                              "SubnetId": s} for s in subnets],
            "Entries": entries, "IsDefault": default, "NetworkAclId": id, "Tags": [],
            "VpcId": vpc, "OwnerId": acct}

def rtb(acct, id, vpc, routes, subnets, main=False):
    assoc = [{"Main": False, "RouteTableAssociationId": "rtbassoc-" + s[7:], "RouteTableId": id,
              "SubnetId": s, "AssociationState": {"State": "associated"}} for s in subnets]
    if main:
        assoc.append({"Main": True, "RouteTableAssociationId": "rtbassoc-main", "RouteTableId": id,
                      "AssociationState": {"State": "associated"}})
    return {"Associations": assoc, "PropagatingVgws": [], "RouteTableId": id, "Routes": routes,
            "Tags": [], "VpcId": vpc, "OwnerId": acct}

def route(dest, **target):
    r = {"DestinationCidrBlock": dest, "Origin": "CreateRoute", "State": "active"}
    r.update(target)
    return r

def subnet(acct, region, id, vpc, cidr):
    return {"AvailabilityZone": region + "a", "AvailableIpAddressCount": 250, "CidrBlock": cidr,
            "DefaultForAz": False, "MapPublicIpOnLaunch": False, "State": "available",
            "SubnetId": id, "VpcId": vpc, "OwnerId": acct,
            "SubnetArn": f"arn:aws:ec2:{region}:{acct}:subnet/{id}"}

def trail(acct, region, name, multi, kms, valid, cw):
    t = {"Name": name, "S3BucketName": f"{name}-logs-{acct}", "IncludeGlobalServiceEvents": True,
         "IsMultiRegionTrail": multi, "HomeRegion": region,
         "TrailARN": f"arn:aws:cloudtrail:{region}:{acct}:trail/{name}",
         "LogFileValidationEnabled": valid, "HasCustomEventSelectors": False,
         "HasInsightSelectors": False, "IsOrganizationTrail": False}
    if kms:
        t["KmsKeyId"] = f"arn:aws:kms:{region}:{acct}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    if cw:
        t["CloudWatchLogsLogGroupArn"] = f"arn:aws:logs:{region}:{acct}:log-group:cloudtrail:*"
        t["CloudWatchLogsRoleArn"] = f"arn:aws:iam::{acct}:role/CloudTrail_CloudWatchLogs_Role"
    return t

def status(logging):
    return {"IsLogging": logging, "LatestDeliveryTime": "2026-12-01T09:00:00+00:00",
            "StartLoggingTime": "2026-01-01T00:00:00+00:00",
            "LatestDeliveryAttemptTime": "2026-12-01T09:00:00Z",
            "LatestDeliveryAttemptSucceeded": "2026-12-01T09:00:00Z",
            "TimeLoggingStarted": "2026-01-01T00:00:00Z"}

# ---- bad: every control fails somewhere ---------------------------------------------
A, R, V = "123456789012", "us-east-1", "vpc-0bad0000000000001"
d = "bad"
w(d, "describe-db-instances.json", {"DBInstances": [
    inst(A, R, "pg-public", "postgres", "15.4", 5432, True, False, False, 0, False, [], False,
         1, False, "postgres", ["sg-0db0000000000open"], ["subnet-0pub000000000000a", "subnet-0pub000000000000b"], V, "pg-insecure"),
    inst(A, R, "mysql-app", "mysql", "8.0.35", 3306, False, True, True, 60, True,
         ["audit", "error", "general", "slowquery"], True, 7, True, "dbowner", ["sg-0app00000000000001"],
         ["subnet-0pub000000000000b"], V, "mysql-insecure"),
    inst(A, R, "maria-app", "mariadb", "10.11.6", 3307, False, True, True, 60, True, [], True, 7,
         True, "dbowner", ["sg-0app00000000000001"], ["subnet-0pub000000000000b"], V, "maria-insecure"),
    inst(A, R, "aurora-pg-1", "aurora-postgresql", "15.4", 5432, False, False, False, 0, False, [], False,
         1, False, "postgres", ["sg-0db0000000000open"], ["subnet-0pub000000000000b"], V,
         "default.aurora-postgresql15", cluster="aurora-pg"),
    inst(A, R, "aurora-my-1", "aurora-mysql", "8.0.mysql_aurora.3.05.2", 3306, False, True, False, 0, False, [], False,
         1, False, "admin", ["sg-0app00000000000001"], ["subnet-0pub000000000000b"], V,
         "default.aurora-mysql8.0", cluster="aurora-my"),
]})
w(d, "describe-db-clusters.json", {"DBClusters": [
    clus(A, R, "aurora-pg", "aurora-postgresql", 5432, False, False, [], "postgres", False,
         "default.aurora-postgresql15", ["sg-0db0000000000open"], ["aurora-pg-1"]),
    clus(A, R, "aurora-my", "aurora-mysql", 3306, True, True, ["error"], "dbowner", None,
         "aurora-my-params", ["sg-0app00000000000001"], ["aurora-my-1"]),
]})
w(d, "db-parameters.pg-insecure.json", params([("rds.force_ssl", "0"), ("log_connections", "1")]))
w(d, "db-parameters.mysql-insecure.json", params([("require_secure_transport", "0")]))
w(d, "db-parameters.maria-insecure.json", params([("require_secure_transport", "OFF")]))
w(d, "db-cluster-parameters.aurora-my-params.json",
  params([("server_audit_logging", "0"), ("server_audit_events", None)]))
w(d, "describe-db-snapshots.json", {"DBSnapshots": [snap(A, R, "pg-public-before-upgrade", "pg-public", "postgres", False)]})
w(d, "describe-db-cluster-snapshots.json", {"DBClusterSnapshots": [csnap(A, R, "aurora-pg-export", "aurora-pg", "aurora-postgresql", False)]})
w(d, "describe-db-snapshot-attributes.pg-public-before-upgrade.json", {"DBSnapshotAttributesResult": {
    "DBSnapshotIdentifier": "pg-public-before-upgrade",
    "DBSnapshotAttributes": [{"AttributeName": "restore", "AttributeValues": ["all"]}]}})
w(d, "describe-db-cluster-snapshot-attributes.aurora-pg-export.json", {"DBClusterSnapshotAttributesResult": {
    "DBClusterSnapshotIdentifier": "aurora-pg-export",
    "DBClusterSnapshotAttributes": [{"AttributeName": "restore", "AttributeValues": ["444455556666"]}]}})
w(d, "describe-security-groups.json", {"SecurityGroups": [
    sg(A, "sg-0def0000000000001", "default", V, [rule("-1", None, None, groups=["sg-0def0000000000001"])], EGRESS_ALL),
    sg(A, "sg-0db0000000000open", "db-open", V,
       [rule("tcp", 5432, 5432, v4=["0.0.0.0/0"]), rule("tcp", 22, 22, v4=["203.0.113.0/24"], v6=["::/0"])], EGRESS_ALL),
    sg(A, "sg-0app00000000000001", "app-db", V,
       [rule("tcp", 3306, 3307, v4=["10.0.0.0/16"])], EGRESS_ALL),
]})
w(d, "describe-network-acls.json", {"NetworkAcls": [
    acl(A, "acl-0db00000000000001", V, True,
        [entry(100, "-1", "allow", "0.0.0.0/0"), entry(32767, "-1", "deny", "0.0.0.0/0"),
         entry(100, "-1", "allow", "0.0.0.0/0", egress=True), entry(32767, "-1", "deny", "0.0.0.0/0", egress=True)],
        ["subnet-0pub000000000000a", "subnet-0pub000000000000b"]),
]})
w(d, "describe-route-tables.json", {"RouteTables": [
    rtb(A, "rtb-0pub0000000000001", V,
        [route("10.0.0.0/16", GatewayId="local"), route("0.0.0.0/0", GatewayId="igw-0bad000000000001")],
        ["subnet-0pub000000000000a"]),
    rtb(A, "rtb-0main000000000001", V, [route("10.0.0.0/16", GatewayId="local")], [], main=True),
]})
w(d, "describe-subnets.json", {"Subnets": [
    subnet(A, R, "subnet-0pub000000000000a", V, "10.0.1.0/24"),
    subnet(A, R, "subnet-0pub000000000000b", V, "10.0.2.0/24"),
]})
w(d, "describe-trails.json", {"trailList": [trail(A, R, "audit-trail", False, False, False, False)]})
w(d, "get-trail-status.audit-trail.json", status(False))
w(d, "guardduty-list-detectors.json", {"DetectorIds": []})

# ---- good: every control passes ---------------------------------------------------
A, R, V = "210987654321", "eu-west-1", "vpc-0good000000000001"
d = "good"
LOGS_MY = ["audit", "error", "general", "slowquery"]
w(d, "describe-db-instances.json", {"DBInstances": [
    inst(A, R, "pg-private", "postgres", "16.3", 15432, False, True, True, 60, True, ["postgresql", "upgrade"],
         True, 14, True, "pgowner", ["sg-0db00000000000001"], ["subnet-0priv00000000000a"], V, "pg-strict"),
    inst(A, R, "mysql-private", "mysql", "8.0.35", 13306, False, True, True, 60, True, LOGS_MY,
         True, 7, True, "dbowner", ["sg-0db00000000000001"], ["subnet-0priv00000000000a"], V, "mysql-strict"),
    inst(A, R, "maria-private", "mariadb", "10.11.6", 13307, False, True, True, 60, True, LOGS_MY,
         True, 7, True, "dbowner", ["sg-0db00000000000001"], ["subnet-0priv00000000000a"], V, "maria-strict"),
    inst(A, R, "aurora-pg-1", "aurora-postgresql", "16.3", 15433, False, True, False, 60, False, [], True,
         1, True, "pgowner", ["sg-0db00000000000001"], ["subnet-0priv00000000000a"], V,
         "default.aurora-postgresql16", cluster="aurora-pg"),
    inst(A, R, "aurora-my-1", "aurora-mysql", "8.0.mysql_aurora.3.05.2", 13308, False, True, False, 60, False, [], True,
         1, True, "dbowner", ["sg-0db00000000000001"], ["subnet-0priv00000000000a"], V,
         "default.aurora-mysql8.0", cluster="aurora-my"),
]})
w(d, "describe-db-clusters.json", {"DBClusters": [
    clus(A, R, "aurora-pg", "aurora-postgresql", 15433, True, True, ["postgresql"], "pgowner", True,
         "default.aurora-postgresql16", ["sg-0db00000000000001"], ["aurora-pg-1"]),
    clus(A, R, "aurora-my", "aurora-mysql", 13308, True, True, ["audit", "error"], "dbowner", None,
         "aurora-my-audit", ["sg-0db00000000000001"], ["aurora-my-1"]),
]})
w(d, "db-parameters.pg-strict.json", params([("rds.force_ssl", "1")]))
w(d, "db-parameters.mysql-strict.json", params([("require_secure_transport", "1")]))
w(d, "db-parameters.maria-strict.json", params([("require_secure_transport", "ON")]))
w(d, "db-cluster-parameters.aurora-my-audit.json",
  params([("server_audit_logging", "1"), ("server_audit_events", "CONNECT,QUERY_DCL,QUERY_DDL")]))
w(d, "describe-db-snapshots.json", {"DBSnapshots": [snap(A, R, "pg-private-weekly", "pg-private", "postgres", True)]})
w(d, "describe-db-cluster-snapshots.json", {"DBClusterSnapshots": [csnap(A, R, "aurora-pg-weekly", "aurora-pg", "aurora-postgresql", True)]})
w(d, "describe-db-snapshot-attributes.pg-private-weekly.json", {"DBSnapshotAttributesResult": {
    "DBSnapshotIdentifier": "pg-private-weekly",
    "DBSnapshotAttributes": [{"AttributeName": "restore", "AttributeValues": []}]}})
w(d, "describe-db-cluster-snapshot-attributes.aurora-pg-weekly.json", {"DBClusterSnapshotAttributesResult": {
    "DBClusterSnapshotIdentifier": "aurora-pg-weekly",
    "DBClusterSnapshotAttributes": [{"AttributeName": "restore", "AttributeValues": ["111122223333"]}]}})
w(d, "describe-security-groups.json", {"SecurityGroups": [
    sg(A, "sg-0def0000000000002", "default", V, [], []),
    sg(A, "sg-0db00000000000001", "db", V,
       [rule("tcp", 15432, 15433, v4=["10.1.0.0/16"]), rule("tcp", 13306, 13308, groups=["sg-0app00000000000002"])],
       EGRESS_ALL),
    sg(A, "sg-0web00000000000001", "web", V, [rule("tcp", 443, 443, v4=["0.0.0.0/0"], v6=["::/0"])], EGRESS_ALL),
]})
w(d, "describe-network-acls.json", {"NetworkAcls": [
    acl(A, "acl-0db00000000000002", V, False,
        [entry(90, "6", "deny", "0.0.0.0/0", (15432, 15433)),
         entry(100, "6", "allow", "10.1.0.0/16", (1024, 65535)),
         entry(200, "6", "allow", "0.0.0.0/0", (443, 443)),
         entry(32767, "-1", "deny", "0.0.0.0/0"),
         entry(100, "-1", "allow", "0.0.0.0/0", egress=True)],
        ["subnet-0priv00000000000a"]),
    acl(A, "acl-0web00000000000001", V, True,
        [entry(100, "-1", "allow", "0.0.0.0/0"), entry(32767, "-1", "deny", "0.0.0.0/0")],
        ["subnet-0web000000000000a"]),
]})
w(d, "describe-route-tables.json", {"RouteTables": [
    rtb(A, "rtb-0main000000000002", V,
        [route("10.1.0.0/16", GatewayId="local"), route("0.0.0.0/0", NatGatewayId="nat-0good00000000001")], [], main=True),
    rtb(A, "rtb-0web0000000000001", V,
        [route("10.1.0.0/16", GatewayId="local"), route("0.0.0.0/0", GatewayId="igw-0good00000000001")],
        ["subnet-0web000000000000a"]),
]})
w(d, "describe-subnets.json", {"Subnets": [
    subnet(A, R, "subnet-0priv00000000000a", V, "10.1.1.0/24"),
    subnet(A, R, "subnet-0web000000000000a", V, "10.1.100.0/24"),
]})
w(d, "describe-trails.json", {"trailList": [trail(A, R, "main-trail", True, True, True, True)]})
w(d, "get-trail-status.main-trail.json", status(True))
w(d, "get-event-selectors.main-trail.json", {
    "TrailARN": f"arn:aws:cloudtrail:{R}:{A}:trail/main-trail",
    "EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": True,
                        "DataResources": [], "ExcludeManagementEventSources": []}]})
DET = "6ec5f1e8c0a94e1c9b4b2b2a4a1c0d0e"
w(d, "guardduty-list-detectors.json", {"DetectorIds": [DET]})
w(d, f"guardduty-get-detector.{DET}.json", {
    "CreatedAt": "2026-01-01T00:00:00.000Z", "FindingPublishingFrequency": "SIX_HOURS",
    "ServiceRole": f"arn:aws:iam::{A}:role/aws-service-role/guardduty.amazonaws.com/AWSServiceRoleForAmazonGuardDuty",
    "Status": "ENABLED", "UpdatedAt": "2026-01-01T00:00:00.000Z",
    "DataSources": {"CloudTrail": {"Status": "ENABLED"}},
    "Tags": {},
    "Features": [{"Name": "CLOUD_TRAIL", "Status": "ENABLED", "UpdatedAt": "2026-01-01T00:00:00+00:00"},
                 {"Name": "RDS_LOGIN_EVENTS", "Status": "ENABLED", "UpdatedAt": "2026-01-01T00:00:00+00:00"}]})

# ---- small: one public PostgreSQL instance, for the CLI test (crates/keibi/tests/audit_json.rs)
A, R, V = "333344445555", "ap-northeast-1", "vpc-0small00000000001"
d = "small"
os.makedirs(d, exist_ok=True)
w(d, "describe-db-instances.json", {"DBInstances": [
    inst(A, R, "shop-db", "postgres", "16.3", 5432, True, True, True, 60, True, ["postgresql", "upgrade"],
         True, 7, True, "shopadmin", ["sg-0shop0000000000001"], ["subnet-0shop00000000000a"], V, "shop-pg16"),
]})
w(d, "describe-security-groups.json", {"SecurityGroups": [
    sg(A, "sg-0shop0000000000001", "shop-db", V, [rule("tcp", 5432, 5432, v4=["0.0.0.0/0"])], EGRESS_ALL),
]})
w(d, "describe-route-tables.json", {"RouteTables": [
    rtb(A, "rtb-0shop000000000001", V,
        [route("10.2.0.0/16", GatewayId="local"), route("0.0.0.0/0", GatewayId="igw-0shop00000000001")], [], main=True),
]})
