# A large synthetic estate for the scale test (tests/aws.rs, scale): python3 big.py N DIR
import json, sys, os
N = int(sys.argv[1]); out = sys.argv[2]
os.makedirs(out, exist_ok=True)
A, R, V = "123456789012", "us-east-1", "vpc-1"
insts = []
for i in range(N):
    insts.append({"DBInstanceIdentifier": f"db-{i}", "Engine": "postgres", "EngineVersion": "16.3",
        "MasterUsername": "postgres", "Endpoint": {"Address": f"db-{i}.x.rds.amazonaws.com", "Port": 1024 + i % 60000},
        "PubliclyAccessible": True, "BackupRetentionPeriod": 1, "MonitoringInterval": 0,
        "VpcSecurityGroups": [{"VpcSecurityGroupId": f"sg-{i % 1000}", "Status": "active"}],
        "DBParameterGroups": [{"DBParameterGroupName": "pg"}],
        "DBSubnetGroup": {"VpcId": V, "Subnets": [{"SubnetIdentifier": f"subnet-{i % 500}"}]},
        "DBInstanceArn": f"arn:aws:rds:{R}:{A}:db:db-{i}"})
json.dump({"DBInstances": insts}, open(f"{out}/i.json", "w"))
sgs = [{"GroupId": f"sg-{g}", "GroupName": f"g{g}", "OwnerId": A, "VpcId": V,
        "IpPermissions": [{"IpProtocol": "tcp", "FromPort": p, "ToPort": p, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]} for p in range(100, 160)]
         + [{"IpProtocol": "tcp", "FromPort": 1024 + g, "ToPort": 1024 + g, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]}
       for g in range(1000)]
json.dump({"SecurityGroups": sgs}, open(f"{out}/sg.json", "w"))
acls = [{"NetworkAclId": f"acl-{a}", "VpcId": V, "IsDefault": False,
         "Associations": [{"SubnetId": f"subnet-{a}"}],
         "Entries": [{"RuleNumber": n, "Protocol": "6", "RuleAction": "deny", "Egress": False, "CidrBlock": "0.0.0.0/0", "PortRange": {"From": n, "To": n}} for n in range(1, 41)]
                   + [{"RuleNumber": 32767, "Protocol": "-1", "RuleAction": "allow", "Egress": False, "CidrBlock": "0.0.0.0/0"}]} for a in range(500)]
json.dump({"NetworkAcls": acls}, open(f"{out}/acl.json", "w"))
rts = [{"RouteTableId": f"rtb-{a}", "VpcId": V, "Associations": [{"SubnetId": f"subnet-{a}", "Main": False}],
        "Routes": [{"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": "igw-1", "State": "active"}]} for a in range(500)]
json.dump({"RouteTables": rts}, open(f"{out}/rt.json", "w"))
