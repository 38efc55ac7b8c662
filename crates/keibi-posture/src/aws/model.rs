//! The AWS resources a posture audit reads, in the shapes of the AWS CLI's JSON
//! output (`aws rds describe-db-instances`, `aws ec2 describe-security-groups` …).
//! Field names are the CLI's; the XML element names of the Query APIs (EC2's
//! `groups`, `entrySet`, `routeSet`, `associationSet`) and the lower-case JSON of
//! GuardDuty are aliases, so `keibi-aws` turns a live answer into the same values.
//! Every field the checks do not need is left out; unknown fields are ignored.
//!
//! Each list of an [`Inventory`] is `None` when it was not observed (a saved-file
//! audit given only `describe-db-instances`): the controls that need it are then not
//! evaluated, rather than failed.

use serde::Deserialize;

use crate::de;

/// What was observed of one AWS account in one region.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Inventory {
    /// The account id (STS GetCallerIdentity, an ARN in the data, or `--account`).
    pub account: Option<String>,
    pub region: Option<String>,
    /// Where the inventory was read: `aws` (live, with the region) or the files.
    pub source: String,
    pub db_instances: Option<Vec<DbInstance>>,
    pub db_clusters: Option<Vec<DbCluster>>,
    pub db_snapshots: Option<Vec<DbSnapshot>>,
    pub db_cluster_snapshots: Option<Vec<DbClusterSnapshot>>,
    /// DescribeDBSnapshotAttributes, one per snapshot.
    pub db_snapshot_attributes: Option<Vec<DbSnapshotAttributesResult>>,
    /// DescribeDBClusterSnapshotAttributes, one per cluster snapshot.
    pub db_cluster_snapshot_attributes: Option<Vec<DbClusterSnapshotAttributesResult>>,
    /// DescribeDBParameters per DB parameter group the instances use.
    pub db_parameter_groups: Option<Vec<ParameterGroup>>,
    /// DescribeDBClusterParameters per cluster parameter group the clusters use.
    pub db_cluster_parameter_groups: Option<Vec<ParameterGroup>>,
    pub security_groups: Option<Vec<SecurityGroup>>,
    pub network_acls: Option<Vec<NetworkAcl>>,
    pub route_tables: Option<Vec<RouteTable>>,
    pub subnets: Option<Vec<Subnet>>,
    /// DescribeTrails (trails visible from this region, shadow trails included).
    pub trails: Option<Vec<Trail>>,
    /// GetTrailStatus per trail.
    pub trail_status: Option<Vec<TrailStatus>>,
    /// GetEventSelectors per trail.
    pub event_selectors: Option<Vec<EventSelectors>>,
    /// GuardDuty ListDetectors + GetDetector.
    pub guardduty: Option<Vec<Detector>>,
}

// ---- RDS ----------------------------------------------------------------------

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct DbInstance {
    #[serde(rename = "DBInstanceIdentifier")]
    pub id: String,
    #[serde(rename = "DBInstanceArn", default)]
    pub arn: Option<String>,
    #[serde(rename = "Engine", default)]
    pub engine: String,
    #[serde(rename = "EngineVersion", default)]
    pub engine_version: Option<String>,
    #[serde(rename = "DBInstanceStatus", default)]
    pub status: Option<String>,
    #[serde(rename = "MasterUsername", default)]
    pub master_username: Option<String>,
    #[serde(rename = "Endpoint", default)]
    pub endpoint: Option<Endpoint>,
    #[serde(rename = "DbInstancePort", default, deserialize_with = "de::opt_int")]
    pub db_instance_port: Option<i64>,
    #[serde(rename = "PubliclyAccessible", default, deserialize_with = "de::bool")]
    pub publicly_accessible: bool,
    #[serde(rename = "StorageEncrypted", default, deserialize_with = "de::bool")]
    pub storage_encrypted: bool,
    #[serde(rename = "MultiAZ", default, deserialize_with = "de::bool")]
    pub multi_az: bool,
    #[serde(
        rename = "MonitoringInterval",
        default,
        deserialize_with = "de::opt_int"
    )]
    pub monitoring_interval: Option<i64>,
    #[serde(rename = "DeletionProtection", default, deserialize_with = "de::bool")]
    pub deletion_protection: bool,
    #[serde(
        rename = "EnabledCloudwatchLogsExports",
        default,
        deserialize_with = "de::list"
    )]
    pub cloudwatch_logs_exports: Vec<String>,
    #[serde(
        rename = "IAMDatabaseAuthenticationEnabled",
        default,
        deserialize_with = "de::bool"
    )]
    pub iam_auth: bool,
    #[serde(
        rename = "BackupRetentionPeriod",
        default,
        deserialize_with = "de::opt_int"
    )]
    pub backup_retention_period: Option<i64>,
    #[serde(
        rename = "AutoMinorVersionUpgrade",
        default,
        deserialize_with = "de::bool"
    )]
    pub auto_minor_version_upgrade: bool,
    /// Set for an Aurora cluster's member instance.
    #[serde(rename = "DBClusterIdentifier", default)]
    pub cluster: Option<String>,
    #[serde(rename = "VpcSecurityGroups", default, deserialize_with = "de::list")]
    pub vpc_security_groups: Vec<VpcSecurityGroupMembership>,
    #[serde(rename = "DBSubnetGroup", default)]
    pub subnet_group: Option<DbSubnetGroup>,
    #[serde(rename = "DBParameterGroups", default, deserialize_with = "de::list")]
    pub parameter_groups: Vec<DbParameterGroupStatus>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Endpoint {
    #[serde(rename = "Address", default)]
    pub address: Option<String>,
    #[serde(rename = "Port", default, deserialize_with = "de::opt_int")]
    pub port: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct VpcSecurityGroupMembership {
    #[serde(rename = "VpcSecurityGroupId")]
    pub id: String,
    #[serde(rename = "Status", default)]
    pub status: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct DbSubnetGroup {
    #[serde(rename = "DBSubnetGroupName", default)]
    pub name: Option<String>,
    #[serde(rename = "VpcId", default)]
    pub vpc_id: Option<String>,
    #[serde(rename = "Subnets", default, deserialize_with = "de::list")]
    pub subnets: Vec<DbSubnet>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct DbSubnet {
    #[serde(rename = "SubnetIdentifier")]
    pub id: String,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct DbParameterGroupStatus {
    #[serde(rename = "DBParameterGroupName")]
    pub name: String,
    #[serde(rename = "ParameterApplyStatus", default)]
    pub apply_status: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct DbCluster {
    #[serde(rename = "DBClusterIdentifier")]
    pub id: String,
    #[serde(rename = "DBClusterArn", default)]
    pub arn: Option<String>,
    #[serde(rename = "Engine", default)]
    pub engine: String,
    #[serde(rename = "EngineVersion", default)]
    pub engine_version: Option<String>,
    #[serde(rename = "EngineMode", default)]
    pub engine_mode: Option<String>,
    #[serde(rename = "MasterUsername", default)]
    pub master_username: Option<String>,
    #[serde(rename = "Port", default, deserialize_with = "de::opt_int")]
    pub port: Option<i64>,
    #[serde(rename = "Endpoint", default)]
    pub endpoint: Option<String>,
    /// Multi-AZ DB clusters only; Aurora clusters leave it out (their instances say).
    #[serde(
        rename = "PubliclyAccessible",
        default,
        deserialize_with = "de::opt_bool"
    )]
    pub publicly_accessible: Option<bool>,
    #[serde(rename = "StorageEncrypted", default, deserialize_with = "de::bool")]
    pub storage_encrypted: bool,
    #[serde(rename = "DeletionProtection", default, deserialize_with = "de::bool")]
    pub deletion_protection: bool,
    #[serde(
        rename = "EnabledCloudwatchLogsExports",
        default,
        deserialize_with = "de::list"
    )]
    pub cloudwatch_logs_exports: Vec<String>,
    #[serde(
        rename = "IAMDatabaseAuthenticationEnabled",
        default,
        deserialize_with = "de::bool"
    )]
    pub iam_auth: bool,
    #[serde(
        rename = "BackupRetentionPeriod",
        default,
        deserialize_with = "de::opt_int"
    )]
    pub backup_retention_period: Option<i64>,
    #[serde(
        rename = "AutoMinorVersionUpgrade",
        default,
        deserialize_with = "de::opt_bool"
    )]
    pub auto_minor_version_upgrade: Option<bool>,
    #[serde(rename = "MultiAZ", default, deserialize_with = "de::bool")]
    pub multi_az: bool,
    #[serde(rename = "DBClusterParameterGroup", default)]
    pub parameter_group: Option<String>,
    #[serde(rename = "VpcSecurityGroups", default, deserialize_with = "de::list")]
    pub vpc_security_groups: Vec<VpcSecurityGroupMembership>,
    #[serde(rename = "DBClusterMembers", default, deserialize_with = "de::list")]
    pub members: Vec<DbClusterMember>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct DbClusterMember {
    #[serde(rename = "DBInstanceIdentifier")]
    pub instance: String,
    #[serde(rename = "IsClusterWriter", default, deserialize_with = "de::bool")]
    pub writer: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct DbSnapshot {
    #[serde(rename = "DBSnapshotIdentifier")]
    pub id: String,
    #[serde(rename = "DBSnapshotArn", default)]
    pub arn: Option<String>,
    #[serde(rename = "DBInstanceIdentifier", default)]
    pub instance: Option<String>,
    #[serde(rename = "Engine", default)]
    pub engine: Option<String>,
    #[serde(rename = "Encrypted", default, deserialize_with = "de::bool")]
    pub encrypted: bool,
    /// `manual`, `automated`, `shared`, `public`, `awsbackup`.
    #[serde(rename = "SnapshotType", default)]
    pub snapshot_type: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct DbClusterSnapshot {
    #[serde(rename = "DBClusterSnapshotIdentifier")]
    pub id: String,
    #[serde(rename = "DBClusterSnapshotArn", default)]
    pub arn: Option<String>,
    #[serde(rename = "DBClusterIdentifier", default)]
    pub cluster: Option<String>,
    #[serde(rename = "Engine", default)]
    pub engine: Option<String>,
    #[serde(rename = "StorageEncrypted", default, deserialize_with = "de::bool")]
    pub encrypted: bool,
    #[serde(rename = "SnapshotType", default)]
    pub snapshot_type: Option<String>,
}

/// `DBSnapshotAttributesResult` of DescribeDBSnapshotAttributes.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct DbSnapshotAttributesResult {
    #[serde(rename = "DBSnapshotIdentifier")]
    pub snapshot: String,
    #[serde(
        rename = "DBSnapshotAttributes",
        default,
        deserialize_with = "de::list"
    )]
    pub attributes: Vec<SnapshotAttribute>,
}

/// `DBClusterSnapshotAttributesResult` of DescribeDBClusterSnapshotAttributes.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct DbClusterSnapshotAttributesResult {
    #[serde(rename = "DBClusterSnapshotIdentifier")]
    pub snapshot: String,
    #[serde(
        rename = "DBClusterSnapshotAttributes",
        default,
        deserialize_with = "de::list"
    )]
    pub attributes: Vec<SnapshotAttribute>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct SnapshotAttribute {
    /// `restore` is the one that shares.
    #[serde(rename = "AttributeName")]
    pub name: String,
    /// Account ids, or `all` (public).
    #[serde(rename = "AttributeValues", default, deserialize_with = "de::list")]
    pub values: Vec<String>,
}

/// A parameter group's parameters (DescribeDBParameters / DescribeDBClusterParameters
/// output), with the group's name (not in the CLI output: the loader takes it from
/// the file name, the live path from the call).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParameterGroup {
    pub name: String,
    pub parameters: Vec<Parameter>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Parameter {
    #[serde(rename = "ParameterName")]
    pub name: String,
    /// Absent when the parameter has no value set (the engine's default applies).
    #[serde(
        rename = "ParameterValue",
        default,
        deserialize_with = "de::opt_string"
    )]
    pub value: Option<String>,
    #[serde(rename = "Source", default)]
    pub source: Option<String>,
}

impl ParameterGroup {
    /// The value of a parameter, when set.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.parameters
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
            .and_then(|p| p.value.as_deref())
    }
}

// ---- EC2 / VPC ----------------------------------------------------------------

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct SecurityGroup {
    #[serde(rename = "GroupId", alias = "groupId")]
    pub id: String,
    #[serde(rename = "GroupName", default)]
    pub name: Option<String>,
    #[serde(rename = "VpcId", default)]
    pub vpc_id: Option<String>,
    #[serde(rename = "OwnerId", default)]
    pub owner: Option<String>,
    #[serde(rename = "SecurityGroupArn", default)]
    pub arn: Option<String>,
    #[serde(rename = "IpPermissions", default, deserialize_with = "de::list")]
    pub ingress: Vec<IpPermission>,
    #[serde(rename = "IpPermissionsEgress", default, deserialize_with = "de::list")]
    pub egress: Vec<IpPermission>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct IpPermission {
    /// `tcp`, `udp`, `icmp`, a protocol number (`6`), or `-1` (all).
    #[serde(rename = "IpProtocol", default)]
    pub protocol: String,
    #[serde(rename = "FromPort", default, deserialize_with = "de::opt_int")]
    pub from_port: Option<i64>,
    #[serde(rename = "ToPort", default, deserialize_with = "de::opt_int")]
    pub to_port: Option<i64>,
    #[serde(rename = "IpRanges", default, deserialize_with = "de::list")]
    pub ip_ranges: Vec<IpRange>,
    #[serde(rename = "Ipv6Ranges", default, deserialize_with = "de::list")]
    pub ipv6_ranges: Vec<Ipv6Range>,
    #[serde(
        rename = "UserIdGroupPairs",
        alias = "Groups",
        default,
        deserialize_with = "de::list"
    )]
    pub groups: Vec<UserIdGroupPair>,
    #[serde(rename = "PrefixListIds", default, deserialize_with = "de::list")]
    pub prefix_lists: Vec<PrefixListId>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct IpRange {
    #[serde(rename = "CidrIp")]
    pub cidr: String,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Ipv6Range {
    #[serde(rename = "CidrIpv6")]
    pub cidr: String,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct UserIdGroupPair {
    #[serde(rename = "GroupId", default)]
    pub group_id: Option<String>,
    #[serde(rename = "UserId", default)]
    pub user_id: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct PrefixListId {
    #[serde(rename = "PrefixListId")]
    pub id: String,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct NetworkAcl {
    #[serde(rename = "NetworkAclId")]
    pub id: String,
    #[serde(rename = "VpcId", default)]
    pub vpc_id: Option<String>,
    #[serde(rename = "OwnerId", default)]
    pub owner: Option<String>,
    #[serde(
        rename = "IsDefault",
        alias = "Default",
        default,
        deserialize_with = "de::bool"
    )]
    pub is_default: bool,
    #[serde(
        rename = "Entries",
        alias = "EntrySet",
        default,
        deserialize_with = "de::list"
    )]
    pub entries: Vec<NetworkAclEntry>,
    #[serde(
        rename = "Associations",
        alias = "AssociationSet",
        default,
        deserialize_with = "de::list"
    )]
    pub associations: Vec<NetworkAclAssociation>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct NetworkAclEntry {
    #[serde(rename = "RuleNumber", default, deserialize_with = "de::opt_int")]
    pub rule_number: Option<i64>,
    /// `-1` (all), `6` (TCP), `17` (UDP) …
    #[serde(rename = "Protocol", default)]
    pub protocol: String,
    /// `allow` or `deny`.
    #[serde(rename = "RuleAction", default)]
    pub action: String,
    #[serde(rename = "Egress", default, deserialize_with = "de::bool")]
    pub egress: bool,
    #[serde(rename = "CidrBlock", default)]
    pub cidr: Option<String>,
    #[serde(rename = "Ipv6CidrBlock", default)]
    pub ipv6_cidr: Option<String>,
    #[serde(rename = "PortRange", default)]
    pub port_range: Option<PortRange>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct PortRange {
    #[serde(rename = "From", default, deserialize_with = "de::opt_int")]
    pub from: Option<i64>,
    #[serde(rename = "To", default, deserialize_with = "de::opt_int")]
    pub to: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct NetworkAclAssociation {
    #[serde(rename = "SubnetId", default)]
    pub subnet_id: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct RouteTable {
    #[serde(rename = "RouteTableId")]
    pub id: String,
    #[serde(rename = "VpcId", default)]
    pub vpc_id: Option<String>,
    #[serde(rename = "OwnerId", default)]
    pub owner: Option<String>,
    #[serde(
        rename = "Routes",
        alias = "RouteSet",
        default,
        deserialize_with = "de::list"
    )]
    pub routes: Vec<Route>,
    #[serde(
        rename = "Associations",
        alias = "AssociationSet",
        default,
        deserialize_with = "de::list"
    )]
    pub associations: Vec<RouteTableAssociation>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Route {
    #[serde(rename = "DestinationCidrBlock", default)]
    pub destination: Option<String>,
    #[serde(rename = "DestinationIpv6CidrBlock", default)]
    pub destination_ipv6: Option<String>,
    /// `igw-…` for an internet gateway, `local`, `vgw-…` …
    #[serde(rename = "GatewayId", default)]
    pub gateway_id: Option<String>,
    /// `active` or `blackhole`.
    #[serde(rename = "State", default)]
    pub state: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct RouteTableAssociation {
    #[serde(rename = "SubnetId", default)]
    pub subnet_id: Option<String>,
    /// The VPC's main route table (used by subnets with no explicit association).
    #[serde(rename = "Main", default, deserialize_with = "de::bool")]
    pub main: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Subnet {
    #[serde(rename = "SubnetId")]
    pub id: String,
    #[serde(rename = "VpcId", default)]
    pub vpc_id: Option<String>,
    #[serde(rename = "CidrBlock", default)]
    pub cidr: Option<String>,
    #[serde(rename = "MapPublicIpOnLaunch", default, deserialize_with = "de::bool")]
    pub map_public_ip_on_launch: bool,
    #[serde(rename = "SubnetArn", default)]
    pub arn: Option<String>,
    #[serde(rename = "OwnerId", default)]
    pub owner: Option<String>,
    #[serde(rename = "AvailabilityZone", default)]
    pub availability_zone: Option<String>,
}

// ---- CloudTrail -----------------------------------------------------------------

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Trail {
    #[serde(rename = "Name")]
    pub name: String,
    #[serde(rename = "TrailARN", default)]
    pub arn: Option<String>,
    #[serde(rename = "HomeRegion", default)]
    pub home_region: Option<String>,
    #[serde(rename = "S3BucketName", default)]
    pub s3_bucket: Option<String>,
    #[serde(rename = "IsMultiRegionTrail", default, deserialize_with = "de::bool")]
    pub multi_region: bool,
    #[serde(rename = "IsOrganizationTrail", default, deserialize_with = "de::bool")]
    pub organization: bool,
    #[serde(
        rename = "IncludeGlobalServiceEvents",
        default,
        deserialize_with = "de::bool"
    )]
    pub global_service_events: bool,
    #[serde(
        rename = "LogFileValidationEnabled",
        default,
        deserialize_with = "de::bool"
    )]
    pub log_file_validation: bool,
    #[serde(rename = "CloudWatchLogsLogGroupArn", default)]
    pub cloudwatch_logs_group: Option<String>,
    #[serde(rename = "KmsKeyId", default)]
    pub kms_key_id: Option<String>,
    #[serde(
        rename = "HasCustomEventSelectors",
        default,
        deserialize_with = "de::bool"
    )]
    pub custom_event_selectors: bool,
}

/// GetTrailStatus output, with the trail it is for (name or ARN; not in the CLI
/// output: the loader takes it from the file name, the live path from the call).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct TrailStatus {
    #[serde(rename = "Trail", default)]
    pub trail: String,
    #[serde(rename = "IsLogging", default, deserialize_with = "de::bool")]
    pub is_logging: bool,
}

/// GetEventSelectors output.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct EventSelectors {
    #[serde(rename = "TrailARN", default)]
    pub trail_arn: String,
    #[serde(rename = "EventSelectors", default, deserialize_with = "de::list")]
    pub selectors: Vec<EventSelector>,
    #[serde(
        rename = "AdvancedEventSelectors",
        default,
        deserialize_with = "de::list"
    )]
    pub advanced: Vec<AdvancedEventSelector>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct EventSelector {
    /// `All`, `ReadOnly`, `WriteOnly`.
    #[serde(rename = "ReadWriteType", default)]
    pub read_write_type: Option<String>,
    #[serde(
        rename = "IncludeManagementEvents",
        default,
        deserialize_with = "de::opt_bool"
    )]
    pub include_management_events: Option<bool>,
    #[serde(
        rename = "ExcludeManagementEventSources",
        default,
        deserialize_with = "de::list"
    )]
    pub exclude_management_event_sources: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct AdvancedEventSelector {
    #[serde(rename = "Name", default)]
    pub name: Option<String>,
    #[serde(rename = "FieldSelectors", default, deserialize_with = "de::list")]
    pub field_selectors: Vec<AdvancedFieldSelector>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct AdvancedFieldSelector {
    /// `eventCategory`, `readOnly`, `eventSource` …
    #[serde(rename = "Field")]
    pub field: String,
    #[serde(rename = "Equals", default, deserialize_with = "de::list")]
    pub equals: Vec<String>,
    #[serde(rename = "NotEquals", default, deserialize_with = "de::list")]
    pub not_equals: Vec<String>,
}

// ---- GuardDuty --------------------------------------------------------------------

/// A GuardDuty detector (GetDetector output, with its id from ListDetectors).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Detector {
    #[serde(rename = "DetectorId", alias = "detectorId", default)]
    pub id: String,
    /// `ENABLED` or `DISABLED`.
    #[serde(rename = "Status", alias = "status", default)]
    pub status: Option<String>,
    #[serde(
        rename = "Features",
        alias = "features",
        default,
        deserialize_with = "de::list"
    )]
    pub features: Vec<DetectorFeature>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct DetectorFeature {
    /// `RDS_LOGIN_EVENTS` is RDS Protection.
    #[serde(rename = "Name", alias = "name", default)]
    pub name: String,
    #[serde(rename = "Status", alias = "status", default)]
    pub status: Option<String>,
}
