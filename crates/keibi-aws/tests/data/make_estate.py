#!/usr/bin/env python3
"""Makes an insecure AWS estate on a moto server, for keibi's posture inventory and
`keibi audit --aws` tests. Written for keibi (Apache-2.0); needs boto3 (installed
with moto).

    make_estate.py ENDPOINT [--region REGION] [--extra-instances N] [--extra-groups N]
                   [--deny ACTION,ACTION...]

prints one JSON object: the ids of what it made (see the end of main). Credentials:
any (moto takes all); the script sets `testing` when none are in the environment.

What it makes, in REGION (default us-east-1):
* a VPC with two subnets, an internet gateway and a route table sending 0.0.0.0/0
  to it, associated with the first subnet;
* security group `keibi-open-pg` allowing 5432/tcp from 0.0.0.0/0 (and ::/0);
* a network ACL whose ingress rule 100 allows 3306/tcp from 0.0.0.0/0;
* DB parameter group `keibi-pg15` (postgres15: rds.force_ssl 0, log_connections 1);
* PostgreSQL instance `keibi-public-pg`: publicly accessible, unencrypted, no
  deletion protection, in that security group, subnets and parameter group;
* its manual snapshot `keibi-public-snap`, shared with `all` (public);
* an Aurora PostgreSQL cluster `keibi-aurora` (cluster parameter group
  `keibi-aurora-pg`: rds.force_ssl 0) and its manual snapshot `keibi-aurora-snap`;
* a CloudTrail trail `keibi-trail` (to bucket `keibi-trail-bucket`), logging;
* a GuardDuty detector, enabled;
* N more PostgreSQL instances `keibi-pad-NN` (encrypted, private, each with a
  private manual snapshot `keibi-pad-NN-snap`) and security groups `keibi-pad-NN`
  (so listing them takes more than one page).

With --deny (IAM actions, e.g. `ec2:DescribeNetworkAcls`), it last makes IAM user
`keibi-auditor` allowed everything but those actions, prints its access key as
`access_key_id` and `secret_access_key`, and turns on moto's IAM checking (POST
/moto-api/reset-auth): from then on only that key (or another IAM user's) works.
"""

import json
import os
import sys

import boto3


def main():
    args = sys.argv[1:]
    if not args:
        sys.exit(__doc__)
    endpoint = args[0]
    region = "us-east-1"
    extra_instances = 0
    extra_groups = 0
    deny = []
    i = 1
    while i < len(args):
        if args[i] == "--region":
            region = args[i + 1]
        elif args[i] == "--extra-instances":
            extra_instances = int(args[i + 1])
        elif args[i] == "--extra-groups":
            extra_groups = int(args[i + 1])
        elif args[i] == "--deny":
            deny = [a for a in args[i + 1].split(",") if a]
        else:
            sys.exit(f"unknown argument {args[i]}")
        i += 2
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")

    def client(name):
        return boto3.client(name, region_name=region, endpoint_url=endpoint)

    ec2 = client("ec2")
    rds = client("rds")
    s3 = client("s3")
    ct = client("cloudtrail")
    gd = client("guardduty")
    sts = client("sts")

    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    sub_a = ec2.create_subnet(VpcId=vpc, CidrBlock="10.20.1.0/24", AvailabilityZone=region + "a")["Subnet"]["SubnetId"]
    sub_b = ec2.create_subnet(VpcId=vpc, CidrBlock="10.20.2.0/24", AvailabilityZone=region + "b")["Subnet"]["SubnetId"]
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    rtb = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=rtb, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    ec2.associate_route_table(RouteTableId=rtb, SubnetId=sub_a)

    sg = ec2.create_security_group(GroupName="keibi-open-pg", Description="5432 open to the world", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=sg,
        IpPermissions=[{
            "IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432,
            "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
            "Ipv6Ranges": [{"CidrIpv6": "::/0"}],
        }],
    )
    pads = []
    for n in range(extra_groups):
        pads.append(ec2.create_security_group(GroupName=f"keibi-pad-{n:02d}", Description="padding", VpcId=vpc)["GroupId"])

    acl = ec2.create_network_acl(VpcId=vpc)["NetworkAcl"]["NetworkAclId"]
    ec2.create_network_acl_entry(
        NetworkAclId=acl, RuleNumber=100, Protocol="6", RuleAction="allow",
        Egress=False, CidrBlock="0.0.0.0/0", PortRange={"From": 3306, "To": 3306},
    )

    rds.create_db_subnet_group(DBSubnetGroupName="keibi-subnets", DBSubnetGroupDescription="keibi", SubnetIds=[sub_a, sub_b])
    rds.create_db_parameter_group(DBParameterGroupName="keibi-pg15", DBParameterGroupFamily="postgres15", Description="keibi")
    rds.modify_db_parameter_group(
        DBParameterGroupName="keibi-pg15",
        Parameters=[
            {"ParameterName": "rds.force_ssl", "ParameterValue": "0", "ApplyMethod": "immediate"},
            {"ParameterName": "log_connections", "ParameterValue": "1", "ApplyMethod": "immediate"},
            {"ParameterName": "work_mem", "ParameterValue": "4096", "ApplyMethod": "immediate"},
        ],
    )
    db = rds.create_db_instance(
        DBInstanceIdentifier="keibi-public-pg", DBInstanceClass="db.t3.micro",
        Engine="postgres", EngineVersion="15.4", AllocatedStorage=20,
        MasterUsername="keibi_admin", MasterUserPassword="not-a-secret-1",
        PubliclyAccessible=True, StorageEncrypted=False, DeletionProtection=False,
        VpcSecurityGroupIds=[sg], DBSubnetGroupName="keibi-subnets",
        DBParameterGroupName="keibi-pg15", Port=5432,
    )["DBInstance"]
    for n in range(extra_instances):
        rds.create_db_instance(
            DBInstanceIdentifier=f"keibi-pad-{n:02d}", DBInstanceClass="db.t3.micro",
            Engine="postgres", AllocatedStorage=20, MasterUsername="pad",
            MasterUserPassword="not-a-secret-1", StorageEncrypted=True,
            DeletionProtection=True, PubliclyAccessible=False,
        )
        rds.create_db_snapshot(DBSnapshotIdentifier=f"keibi-pad-{n:02d}-snap", DBInstanceIdentifier=f"keibi-pad-{n:02d}")
    rds.create_db_snapshot(DBSnapshotIdentifier="keibi-public-snap", DBInstanceIdentifier="keibi-public-pg")
    rds.modify_db_snapshot_attribute(DBSnapshotIdentifier="keibi-public-snap", AttributeName="restore", ValuesToAdd=["all"])

    rds.create_db_cluster_parameter_group(DBClusterParameterGroupName="keibi-aurora-pg", DBParameterGroupFamily="aurora-postgresql15", Description="keibi")
    rds.modify_db_cluster_parameter_group(
        DBClusterParameterGroupName="keibi-aurora-pg",
        Parameters=[{"ParameterName": "rds.force_ssl", "ParameterValue": "0", "ApplyMethod": "immediate"}],
    )
    cluster = rds.create_db_cluster(
        DBClusterIdentifier="keibi-aurora", Engine="aurora-postgresql", EngineVersion="15.4",
        MasterUsername="keibi_admin", MasterUserPassword="not-a-secret-1",
        DBClusterParameterGroupName="keibi-aurora-pg", VpcSecurityGroupIds=[sg],
        StorageEncrypted=False, DeletionProtection=False,
    )["DBCluster"]
    rds.create_db_cluster_snapshot(DBClusterSnapshotIdentifier="keibi-aurora-snap", DBClusterIdentifier="keibi-aurora")

    s3.create_bucket(Bucket="keibi-trail-bucket") if region == "us-east-1" else s3.create_bucket(
        Bucket="keibi-trail-bucket", CreateBucketConfiguration={"LocationConstraint": region})
    trail = ct.create_trail(Name="keibi-trail", S3BucketName="keibi-trail-bucket", IsMultiRegionTrail=True)
    ct.start_logging(Name="keibi-trail")

    detector = gd.create_detector(Enable=True)["DetectorId"]

    account = sts.get_caller_identity()["Account"]
    made = {}
    if deny:
        iam = client("iam")
        iam.create_user(UserName="keibi-auditor")
        iam.put_user_policy(
            UserName="keibi-auditor", PolicyName="audit",
            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "*", "Resource": "*"},
                {"Effect": "Deny", "Action": deny, "Resource": "*"},
            ]}),
        )
        key = iam.create_access_key(UserName="keibi-auditor")["AccessKey"]
        made = {"access_key_id": key["AccessKeyId"], "secret_access_key": key["SecretAccessKey"]}
        import urllib.request
        urllib.request.urlopen(urllib.request.Request(
            endpoint.rstrip("/") + "/moto-api/reset-auth", data=b"0", method="POST",
            headers={"Content-Type": "text/plain"})).read()

    print(json.dumps({
        **made,
        "region": region,
        "account": account,
        "vpc": vpc, "subnets": [sub_a, sub_b], "internet_gateway": igw, "route_table": rtb,
        "security_group": sg, "pad_groups": pads, "network_acl": acl,
        "db_instance": db["DBInstanceIdentifier"], "db_instance_arn": db["DBInstanceArn"],
        "db_snapshot": "keibi-public-snap", "db_cluster": cluster["DBClusterIdentifier"],
        "db_cluster_snapshot": "keibi-aurora-snap", "parameter_group": "keibi-pg15",
        "cluster_parameter_group": "keibi-aurora-pg",
        "trail": trail["Name"], "trail_arn": trail["TrailARN"], "detector": detector,
    }, indent=1))


if __name__ == "__main__":
    main()
