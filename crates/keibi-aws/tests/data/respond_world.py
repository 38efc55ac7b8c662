#!/usr/bin/env python3
"""The world keibi's AWS response executors act on, on a moto server made by
make_estate.py, and how it stands, read with boto3 (not with keibi's own client, so
the tests check keibi's changes independently). Written for keibi (Apache-2.0).

    respond_world.py setup ENDPOINT ACL SUBNET,SUBNET SG
        associates the estate's network ACL ACL with both subnets (so it is the ACL
        of the instance's subnets) and gives it its own ingress deny of
        203.0.113.9/32 at rule 60 (outside keibi's range 1-50); adds to security group SG the rules
        tcp 5000-6000 from 0.0.0.0/0 ("wide", covers 5432) and tcp 5432 from
        198.51.100.0/24 ("partner"); shares the Aurora snapshot with all,
        111122223333 and 444455556666; makes IAM user `mallory` with an active and
        an inactive key, role `app-role`, role `ops-role` holding an older
        `keibi-revoke-older-sessions` policy; stops the trail's logging. Prints the
        ids as JSON.
    respond_world.py show ENDPOINT ACL SG
        prints one JSON object: the ACL's ingress entries, the instance's
        PubliclyAccessible, both snapshots' restore values, SG's ingress rules,
        mallory's keys, the roles' inline policies, whether the trail logs.
"""

import json
import os
import sys
import urllib.parse

import boto3

os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
POLICY = "keibi-revoke-older-sessions"


def clients(endpoint):
    def c(name):
        return boto3.client(name, region_name="us-east-1", endpoint_url=endpoint)
    return c("ec2"), c("rds"), c("iam"), c("cloudtrail")


def setup(endpoint, acl, subnets, sg):
    ec2, rds, iam, ct = clients(endpoint)
    for subnet in subnets.split(","):
        assoc = ec2.describe_network_acls(Filters=[{"Name": "association.subnet-id", "Values": [subnet]}])
        for a in assoc["NetworkAcls"]:
            for x in a["Associations"]:
                if x["SubnetId"] == subnet:
                    ec2.replace_network_acl_association(AssociationId=x["NetworkAclAssociationId"], NetworkAclId=acl)
    ec2.create_network_acl_entry(
        NetworkAclId=acl, RuleNumber=60, Protocol="-1", RuleAction="deny",
        Egress=False, CidrBlock="203.0.113.9/32")
    ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 5000, "ToPort": 6000, "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": "wide"}]},
        {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "IpRanges": [{"CidrIp": "198.51.100.0/24", "Description": "partner"}]},
    ])
    rds.modify_db_cluster_snapshot_attribute(
        DBClusterSnapshotIdentifier="keibi-aurora-snap", AttributeName="restore",
        ValuesToAdd=["all", "111122223333", "444455556666"])
    iam.create_user(UserName="mallory")
    active = iam.create_access_key(UserName="mallory")["AccessKey"]["AccessKeyId"]
    inactive = iam.create_access_key(UserName="mallory")["AccessKey"]["AccessKeyId"]
    iam.update_access_key(UserName="mallory", AccessKeyId=inactive, Status="Inactive")
    iam.create_role(RoleName="app-role", AssumeRolePolicyDocument="{}")
    iam.create_role(RoleName="ops-role", AssumeRolePolicyDocument="{}")
    older = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*",
             "Condition": {"DateLessThan": {"aws:TokenIssueTime": "2020-01-01T00:00:00Z"}}}]}
    iam.put_role_policy(RoleName="ops-role", PolicyName=POLICY, PolicyDocument=json.dumps(older))
    ct.stop_logging(Name="keibi-trail")
    print(json.dumps({"active_key": active, "inactive_key": inactive, "older_policy": older}))


def policy(iam, kind, name):
    try:
        if kind == "role":
            doc = iam.get_role_policy(RoleName=name, PolicyName=POLICY)["PolicyDocument"]
        else:
            doc = iam.get_user_policy(UserName=name, PolicyName=POLICY)["PolicyDocument"]
    except iam.exceptions.NoSuchEntityException:
        return None
    if isinstance(doc, str):
        doc = json.loads(urllib.parse.unquote(doc))
    return doc


def show(endpoint, acl, sg):
    ec2, rds, iam, ct = clients(endpoint)
    entries = ec2.describe_network_acls(NetworkAclIds=[acl])["NetworkAcls"][0]["Entries"]
    ingress = sorted(
        [{"rule": e["RuleNumber"], "action": e["RuleAction"], "protocol": e["Protocol"],
          "cidr": e.get("CidrBlock") or e.get("Ipv6CidrBlock")} for e in entries if not e["Egress"]],
        key=lambda e: e["rule"])
    db = rds.describe_db_instances(DBInstanceIdentifier="keibi-public-pg")["DBInstances"][0]
    def restore(attrs):
        return sorted(v for a in attrs if a["AttributeName"] == "restore" for v in a["AttributeValues"])
    snap = rds.describe_db_snapshot_attributes(DBSnapshotIdentifier="keibi-public-snap")
    csnap = rds.describe_db_cluster_snapshot_attributes(DBClusterSnapshotIdentifier="keibi-aurora-snap")
    rules = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [sg]}])["SecurityGroupRules"]
    sg_rules = sorted(
        [{"protocol": r["IpProtocol"], "from": r["FromPort"], "to": r["ToPort"],
          "cidr": r.get("CidrIpv4") or r.get("CidrIpv6"), "description": r.get("Description")}
         for r in rules if not r["IsEgress"]],
        key=lambda r: (r["from"], r["to"], r["cidr"] or ""))
    keys = {k["AccessKeyId"]: k["Status"] for k in iam.list_access_keys(UserName="mallory")["AccessKeyMetadata"]}
    print(json.dumps({
        "acl_ingress": ingress,
        "publicly_accessible": db["PubliclyAccessible"],
        "snapshot_restore": restore(snap["DBSnapshotAttributesResult"]["DBSnapshotAttributes"]),
        "cluster_snapshot_restore": restore(csnap["DBClusterSnapshotAttributesResult"]["DBClusterSnapshotAttributes"]),
        "sg_ingress": sg_rules,
        "mallory_keys": keys,
        "mallory_policy": policy(iam, "user", "mallory"),
        "app_role_policy": policy(iam, "role", "app-role"),
        "ops_role_policy": policy(iam, "role", "ops-role"),
        "trail_logging": ct.get_trail_status(Name="keibi-trail")["IsLogging"],
    }))


def main():
    args = sys.argv[1:]
    if len(args) == 5 and args[0] == "setup":
        setup(*args[1:])
    elif len(args) == 4 and args[0] == "show":
        show(*args[1:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
