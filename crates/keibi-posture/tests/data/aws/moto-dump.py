import json, os, datetime, sys
from moto import mock_aws
import boto3

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
def w(name, resp):
    resp = dict(resp); resp.pop("ResponseMetadata", None)
    def d(o):
        if isinstance(o, datetime.datetime): return o.isoformat()
        return str(o)
    with open(os.path.join(out, name), "w") as f:
        json.dump(resp, f, indent=4, default=d)

R = "us-east-1"
with mock_aws():
    ec2 = boto3.client("ec2", region_name=R)
    rds = boto3.client("rds", region_name=R)
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    s1 = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24", AvailabilityZone=R+"a")["Subnet"]["SubnetId"]
    s2 = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.2.0/24", AvailabilityZone=R+"b")["Subnet"]["SubnetId"]
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    rt = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=rt, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    ec2.associate_route_table(RouteTableId=rt, SubnetId=s1)
    sg = ec2.create_security_group(GroupName="db-open", Description="db", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[{"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    rds.create_db_subnet_group(DBSubnetGroupName="dbsub", DBSubnetGroupDescription="x", SubnetIds=[s1, s2])
    rds.create_db_parameter_group(DBParameterGroupName="pg-moto", DBParameterGroupFamily="postgres16", Description="x")
    rds.modify_db_parameter_group(DBParameterGroupName="pg-moto", Parameters=[{"ParameterName": "rds.force_ssl", "ParameterValue": "0", "ApplyMethod": "immediate"}])
    rds.create_db_instance(DBInstanceIdentifier="moto-pg", DBInstanceClass="db.t3.micro", Engine="postgres",
        MasterUsername="postgres", MasterUserPassword="x"*12, AllocatedStorage=20, PubliclyAccessible=True,
        VpcSecurityGroupIds=[sg], DBSubnetGroupName="dbsub", DBParameterGroupName="pg-moto", Port=5432)
    rds.create_db_snapshot(DBInstanceIdentifier="moto-pg", DBSnapshotIdentifier="moto-snap")
    rds.modify_db_snapshot_attribute(DBSnapshotIdentifier="moto-snap", AttributeName="restore", ValuesToAdd=["all"])
    w("describe-db-instances.json", rds.describe_db_instances())
    w("describe-db-snapshots.json", rds.describe_db_snapshots())
    w("describe-db-snapshot-attributes.moto-snap.json", rds.describe_db_snapshot_attributes(DBSnapshotIdentifier="moto-snap"))
    w("describe-db-parameters.pg-moto.json", rds.describe_db_parameters(DBParameterGroupName="pg-moto"))
    w("describe-security-groups.json", ec2.describe_security_groups())
    w("describe-network-acls.json", ec2.describe_network_acls())
    w("describe-route-tables.json", ec2.describe_route_tables())
    w("describe-subnets.json", ec2.describe_subnets())
    ct = boto3.client("cloudtrail", region_name=R)
    s3 = boto3.client("s3", region_name=R)
    s3.create_bucket(Bucket="trail-bucket-moto")
    ct.create_trail(Name="moto-trail", S3BucketName="trail-bucket-moto", IsMultiRegionTrail=True)
    ct.start_logging(Name="moto-trail")
    w("describe-trails.json", ct.describe_trails())
    w("get-trail-status.moto-trail.json", ct.get_trail_status(Name="moto-trail"))
    w("get-event-selectors.moto-trail.json", ct.get_event_selectors(TrailName="moto-trail"))
    gd = boto3.client("guardduty", region_name=R)
    det = gd.create_detector(Enable=True)["DetectorId"]
    w("guardduty-list-detectors.json", gd.list_detectors())
    w(f"guardduty-get-detector.{det}.json", gd.get_detector(DetectorId=det))
