//! CloudTrail delivery files: gzip of `{"Records":[...]}` with realistic 1-2 KB records
//! (RDS Describe/Modify calls, security-group changes, IAM, STS, S3 data events,
//! console sign-ins), laid out as CloudTrail writes them to S3.

use std::fmt::Write as _;
use std::io::Write as _;

use flate2::write::GzEncoder;
use flate2::Compression;

use crate::{Civil, Clock, Rng};

pub const ACCOUNT: &str = "123456789012";
pub const REGION: &str = "us-east-1";

const ROLES: &[&str] = &[
    "app-server-role",
    "etl-batch",
    "ci-deploy",
    "rds-monitoring",
];
const IAM_USERS: &[&str] = &["alice", "bob", "carol", "terraform", "backup-bot"];
const DB_IDS: &[&str] = &[
    "production-db",
    "production-mysql",
    "analytics-pg",
    "staging-db",
];
const BUCKETS: &[&str] = &["acme-app-assets", "acme-exports", "acme-db-backups"];
const AGENTS: &[&str] = &[
    "aws-cli/2.15.30 Python/3.11.8 Linux/6.1.79-99.167.amzn2023.x86_64 exe/x86_64.amzn.2023 prompt/off command/rds.describe-db-instances",
    "Boto3/1.34.69 md/Botocore#1.34.69 ua/2.0 os/linux#6.1.79 md/arch#x86_64 lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.69",
    "aws-sdk-go-v2/1.25.2 os/linux lang/go#1.22.1 md/GOOS#linux md/GOARCH#amd64 api/rds#1.75.0",
    "terraform-provider-aws/5.40.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.25.2",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36",
];

/// Writes CloudTrail records; one generator per trail.
pub struct Cloudtrail {
    rng: Rng,
}

impl Cloudtrail {
    pub fn new(seed: u64) -> Self {
        Cloudtrail {
            rng: Rng::new(seed),
        }
    }

    /// The uncompressed body of one delivery file of about `bytes` bytes, its records
    /// stamped by `clock` from byte offset `offset` on. Returns the body and the offset
    /// after it.
    pub fn file(&mut self, clock: Clock, offset: u64, bytes: usize) -> (Vec<u8>, u64) {
        let mut out = Vec::with_capacity(bytes + 8192);
        out.extend_from_slice(b"{\"Records\":[");
        let mut rec = String::with_capacity(4096);
        let mut first = true;
        while out.len() < bytes {
            if !first {
                out.push(b',');
            }
            first = false;
            rec.clear();
            self.record(clock.at(offset + out.len() as u64), &mut rec);
            out.extend_from_slice(rec.as_bytes());
        }
        out.extend_from_slice(b"]}");
        let end = offset + out.len() as u64;
        (out, end)
    }

    /// The S3 key CloudTrail would give a file delivered for time `t`.
    pub fn key(&mut self, t: i64) -> String {
        let c = Civil::from_unix(t);
        let mut suffix = String::new();
        for _ in 0..16 {
            let a = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
            suffix.push(char::from(self.rng.pick(a)));
        }
        format!(
            "AWSLogs/{ACCOUNT}/CloudTrail/{REGION}/{:04}/{:02}/{:02}/{ACCOUNT}_CloudTrail_{REGION}_{:04}{:02}{:02}T{:02}{:02}Z_{suffix}.json.gz",
            c.year, c.month, c.day, c.year, c.month, c.day, c.hour, c.minute
        )
    }

    /// One record, compact JSON as CloudTrail delivers it.
    pub fn record(&mut self, t: i64, s: &mut String) {
        let kind = self.rng.weighted(&[
            (300u32, Kind::S3GetObject),
            (140, Kind::RdsDescribe),
            (120, Kind::AssumeRole),
            (100, Kind::Ec2Describe),
            (80, Kind::IamRead),
            (80, Kind::KmsDecrypt),
            (50, Kind::RdsDescribeLogs),
            (40, Kind::ConsoleLogin),
            (40, Kind::ModifyDbInstance),
            (30, Kind::AuthorizeIngress),
            (15, Kind::IamWrite),
            (3, Kind::ModifySnapshotAttribute),
            (2, Kind::StopLogging),
        ]);
        let c = Civil::from_unix(t);
        let time = format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            c.year, c.month, c.day, c.hour, c.minute, c.second
        );
        let (source, name, event_type) = kind.names();
        let version = if kind == Kind::S3GetObject {
            "1.09"
        } else {
            "1.10"
        };
        let _ = write!(s, "{{\"eventVersion\":\"{version}\",\"userIdentity\":");
        let console = kind == Kind::ConsoleLogin;
        self.identity(kind, &time, s);
        let _ = write!(
            s,
            ",\"eventTime\":\"{time}\",\"eventSource\":\"{source}\",\"eventName\":\"{name}\",\
             \"awsRegion\":\"{REGION}\",\"sourceIPAddress\":\""
        );
        if matches!(kind, Kind::KmsDecrypt) && self.rng.chance(500) {
            s.push_str("rds.amazonaws.com");
        } else {
            self.rng.client_ip(s);
        }
        let _ = write!(
            s,
            "\",\"userAgent\":\"{}\"",
            if console {
                AGENTS[4]
            } else {
                self.rng.pick(&AGENTS[..4])
            }
        );
        let denied = !console && self.rng.chance(20);
        if denied {
            let _ = write!(
                s,
                ",\"errorCode\":\"AccessDenied\",\"errorMessage\":\"User: arn:aws:sts::{ACCOUNT}:assumed-role/ci-deploy/session is not authorized to perform: {}:{name} because no identity-based policy allows the {}:{name} action\"",
                source.split('.').next().unwrap_or(""),
                source.split('.').next().unwrap_or("")
            );
        }
        self.parameters(kind, denied, &time, s);
        s.push_str(",\"requestID\":\"");
        self.rng.uuid(s);
        s.push_str("\",\"eventID\":\"");
        self.rng.uuid(s);
        let read_only = kind.read_only();
        let _ = write!(s, "\",\"readOnly\":{read_only}");
        if kind == Kind::S3GetObject {
            let bucket = self.rng.pick(BUCKETS);
            let _ = write!(
                s,
                ",\"resources\":[{{\"type\":\"AWS::S3::Object\",\"ARN\":\"arn:aws:s3:::{bucket}/exports/2026/11/part-{:05}.csv.gz\"}},{{\"accountId\":\"{ACCOUNT}\",\"type\":\"AWS::S3::Bucket\",\"ARN\":\"arn:aws:s3:::{bucket}\"}}]",
                self.rng.below(100_000)
            );
        }
        let data = kind == Kind::S3GetObject;
        let _ = write!(
            s,
            ",\"eventType\":\"{event_type}\",\"managementEvent\":{},\"recipientAccountId\":\"{ACCOUNT}\"",
            !data
        );
        if kind == Kind::KmsDecrypt {
            let _ = write!(s, ",\"sharedEventID\":\"");
            self.rng.uuid(s);
            s.push('"');
        }
        let _ = write!(
            s,
            ",\"eventCategory\":\"{}\"",
            if data { "Data" } else { "Management" }
        );
        if !console {
            let _ = write!(
                s,
                ",\"tlsDetails\":{{\"tlsVersion\":\"TLSv1.3\",\"cipherSuite\":\"TLS_AES_128_GCM_SHA256\",\"clientProvidedHostHeader\":\"{}\"}}",
                host(source)
            );
        } else {
            s.push_str(",\"sessionCredentialFromConsole\":\"true\"");
        }
        s.push('}');
    }

    fn identity(&mut self, kind: Kind, time: &str, s: &mut String) {
        let rng = &mut self.rng;
        if kind == Kind::ConsoleLogin {
            let user = rng.pick(IAM_USERS);
            let _ = write!(s, "{{\"type\":\"IAMUser\",\"principalId\":\"AIDA");
            rng.alnum_upper(s, 17);
            let _ = write!(
                s,
                "\",\"arn\":\"arn:aws:iam::{ACCOUNT}:user/{user}\",\"accountId\":\"{ACCOUNT}\",\"userName\":\"{user}\"}}"
            );
            return;
        }
        if kind == Kind::KmsDecrypt && rng.chance(500) {
            s.push_str("{\"type\":\"AWSService\",\"invokedBy\":\"rds.amazonaws.com\"}");
            return;
        }
        if rng.chance(250) {
            let user = rng.pick(IAM_USERS);
            s.push_str("{\"type\":\"IAMUser\",\"principalId\":\"AIDA");
            rng.alnum_upper(s, 17);
            let _ = write!(
                s,
                "\",\"arn\":\"arn:aws:iam::{ACCOUNT}:user/{user}\",\"accountId\":\"{ACCOUNT}\",\"accessKeyId\":\"AKIA"
            );
            rng.alnum_upper(s, 16);
            let _ = write!(s, "\",\"userName\":\"{user}\"}}");
            return;
        }
        let role = rng.pick(ROLES);
        let mut session = String::from("i-0");
        rng.hex(&mut session, 16);
        let mut role_id = String::from("AROA");
        rng.alnum_upper(&mut role_id, 17);
        let _ = write!(
            s,
            "{{\"type\":\"AssumedRole\",\"principalId\":\"{role_id}:{session}\",\"arn\":\"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{session}\",\"accountId\":\"{ACCOUNT}\",\"accessKeyId\":\"ASIA"
        );
        rng.alnum_upper(s, 16);
        let _ = write!(
            s,
            "\",\"sessionContext\":{{\"sessionIssuer\":{{\"type\":\"Role\",\"principalId\":\"{role_id}\",\"arn\":\"arn:aws:iam::{ACCOUNT}:role/{role}\",\"accountId\":\"{ACCOUNT}\",\"userName\":\"{role}\"}},\"webIdFederationData\":{{}},\"attributes\":{{\"creationDate\":\"{}\",\"mfaAuthenticated\":\"false\"}},\"ec2RoleDelivery\":\"2.0\"}}}}",
            // Sessions start at most hours before; midnight of the day is close enough.
            format_args!("{}00:00:00Z", time.get(..11).unwrap_or(""))
        );
    }

    fn parameters(&mut self, kind: Kind, denied: bool, time: &str, s: &mut String) {
        let rng = &mut self.rng;
        let db = rng.pick(DB_IDS);
        match kind {
            Kind::S3GetObject => {
                let bucket = rng.pick(BUCKETS);
                let part = rng.below(100_000);
                let _ = write!(
                    s,
                    ",\"requestParameters\":{{\"bucketName\":\"{bucket}\",\"Host\":\"{bucket}.s3.{REGION}.amazonaws.com\",\"key\":\"exports/2026/11/part-{part:05}.csv.gz\"}},\"responseElements\":null,\"additionalEventData\":{{\"SignatureVersion\":\"SigV4\",\"CipherSuite\":\"TLS_AES_128_GCM_SHA256\",\"bytesTransferredIn\":0,\"AuthenticationMethod\":\"AuthHeader\",\"x-amz-id-2\":\""
                );
                for _ in 0..3 {
                    rng.alnum_upper(s, 24);
                }
                let _ = write!(
                    s,
                    "=\",\"bytesTransferredOut\":{}}}",
                    rng.range(200, 50_000_000)
                );
            }
            Kind::RdsDescribe => {
                if rng.chance(500) {
                    let _ = write!(
                        s,
                        ",\"requestParameters\":{{\"dBInstanceIdentifier\":\"{db}\"}},\"responseElements\":null"
                    );
                } else {
                    s.push_str(",\"requestParameters\":{\"maxRecords\":100,\"includeShared\":false},\"responseElements\":null");
                }
            }
            Kind::RdsDescribeLogs => {
                let _ = write!(
                    s,
                    ",\"requestParameters\":{{\"dBInstanceIdentifier\":\"{db}\",\"fileLastWritten\":{}000,\"maxRecords\":1000}},\"responseElements\":null",
                    rng.range(1_795_000_000, 1_796_000_000)
                );
            }
            Kind::Ec2Describe => {
                s.push_str(",\"requestParameters\":{\"securityGroupSet\":{},\"securityGroupIdSet\":{\"items\":[{\"groupId\":\"sg-");
                rng.hex(s, 17);
                s.push_str("\"}]},\"filterSet\":{}},\"responseElements\":null");
            }
            Kind::AssumeRole => {
                let role = rng.pick(ROLES);
                let _ = write!(
                    s,
                    ",\"requestParameters\":{{\"roleArn\":\"arn:aws:iam::{ACCOUNT}:role/{role}\",\"roleSessionName\":\"session-{}\",\"durationSeconds\":3600}}",
                    rng.below(1_000_000)
                );
                if denied {
                    s.push_str(",\"responseElements\":null");
                } else {
                    s.push_str(",\"responseElements\":{\"credentials\":{\"accessKeyId\":\"ASIA");
                    rng.alnum_upper(s, 16);
                    s.push_str("\",\"sessionToken\":\"IQoJb3JpZ2luX2VjE");
                    for _ in 0..8 {
                        rng.alnum_upper(s, 32);
                    }
                    let _ = write!(
                        s,
                        "\",\"expiration\":\"{time}\"}},\"assumedRoleUser\":{{\"assumedRoleId\":\"AROA"
                    );
                    rng.alnum_upper(s, 17);
                    let _ = write!(
                        s,
                        ":session\",\"arn\":\"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/session\"}}}}"
                    );
                }
            }
            Kind::IamRead => {
                let user = rng.pick(IAM_USERS);
                let _ = write!(
                    s,
                    ",\"requestParameters\":{{\"userName\":\"{user}\"}},\"responseElements\":null"
                );
            }
            Kind::IamWrite => {
                let user = rng.pick(IAM_USERS);
                if denied {
                    let _ = write!(
                        s,
                        ",\"requestParameters\":{{\"userName\":\"{user}\"}},\"responseElements\":null"
                    );
                } else {
                    let _ = write!(
                        s,
                        ",\"requestParameters\":{{\"userName\":\"{user}\"}},\"responseElements\":{{\"accessKey\":{{\"userName\":\"{user}\",\"accessKeyId\":\"AKIA"
                    );
                    rng.alnum_upper(s, 16);
                    let _ = write!(s, "\",\"status\":\"Active\",\"createDate\":\"{time}\"}}}}");
                }
            }
            Kind::KmsDecrypt => {
                let _ = write!(
                    s,
                    ",\"requestParameters\":{{\"encryptionContext\":{{\"aws:rds:db-id\":\"db-"
                );
                rng.alnum_upper(s, 26);
                let _ = write!(
                    s,
                    "\"}},\"encryptionAlgorithm\":\"SYMMETRIC_DEFAULT\"}},\"responseElements\":null,\"resources\":[{{\"accountId\":\"{ACCOUNT}\",\"type\":\"AWS::KMS::Key\",\"ARN\":\"arn:aws:kms:{REGION}:{ACCOUNT}:key/"
                );
                rng.uuid(s);
                s.push_str("\"}]");
            }
            Kind::ConsoleLogin => {
                let ok = rng.chance(850);
                let _ = write!(
                    s,
                    ",\"requestParameters\":null,\"responseElements\":{{\"ConsoleLogin\":\"{}\"}},\"additionalEventData\":{{\"LoginTo\":\"https://console.aws.amazon.com/console/home?hashArgs=%23&isauthcode=true&state=hashArgsFromTB_us-east-1_a1b2c3\",\"MobileVersion\":\"No\",\"MFAUsed\":\"{}\"}}",
                    if ok { "Success" } else { "Failure" },
                    if ok { "Yes" } else { "No" }
                );
                if !ok {
                    s.push_str(",\"errorMessage\":\"Failed authentication\"");
                }
            }
            Kind::ModifyDbInstance => {
                let what = match rng.below(4) {
                    0 => "\"publiclyAccessible\":true",
                    1 => "\"deletionProtection\":false",
                    2 => "\"backupRetentionPeriod\":0",
                    _ => "\"cloudwatchLogsExportConfiguration\":{\"enableLogTypes\":[],\"disableLogTypes\":[\"audit\"]}",
                };
                let _ = write!(
                    s,
                    ",\"requestParameters\":{{\"dBInstanceIdentifier\":\"{db}\",{what},\"applyImmediately\":true}}"
                );
                if denied {
                    s.push_str(",\"responseElements\":null");
                } else {
                    let _ = write!(
                        s,
                        ",\"responseElements\":{{\"dBInstanceIdentifier\":\"{db}\",\"dBInstanceClass\":\"db.r6g.large\",\"engine\":\"postgres\",\"dBInstanceStatus\":\"modifying\",\"masterUsername\":\"postgres\",\"dBName\":\"shop\",\"endpoint\":{{\"address\":\"{db}.c9akciq32.{REGION}.rds.amazonaws.com\",\"port\":5432,\"hostedZoneId\":\"Z2R2ITUGPM61AM\"}},\"allocatedStorage\":200,\"instanceCreateTime\":\"Mar 1, 2024, 10:00:00 AM\",\"preferredBackupWindow\":\"03:00-03:30\",\"backupRetentionPeriod\":7,\"vpcSecurityGroups\":[{{\"vpcSecurityGroupId\":\"sg-0a1b2c3d4e5f60718\",\"status\":\"active\"}}],\"dBParameterGroups\":[{{\"dBParameterGroupName\":\"pg15-audit\",\"parameterApplyStatus\":\"in-sync\"}}],\"availabilityZone\":\"{REGION}a\",\"multiAZ\":true,\"engineVersion\":\"15.6\",\"autoMinorVersionUpgrade\":true,\"publiclyAccessible\":false,\"storageType\":\"gp3\",\"storageEncrypted\":true,\"dbiResourceId\":\"db-"
                    );
                    rng.alnum_upper(s, 26);
                    let _ = write!(
                        s,
                        "\",\"dBInstanceArn\":\"arn:aws:rds:{REGION}:{ACCOUNT}:db:{db}\",\"iAMDatabaseAuthenticationEnabled\":false,\"enabledCloudwatchLogsExports\":[\"postgresql\"],\"deletionProtection\":true,\"pendingModifiedValues\":{{}}}}"
                    );
                }
            }
            Kind::AuthorizeIngress => {
                let port = rng.pick(&[5432u16, 3306, 22, 443]);
                s.push_str(",\"requestParameters\":{\"groupId\":\"sg-");
                rng.hex(s, 17);
                if rng.chance(500) {
                    let _ = write!(
                        s,
                        "\",\"ipPermissions\":{{\"items\":[{{\"ipProtocol\":\"tcp\",\"fromPort\":{port},\"toPort\":{port},\"groups\":{{}},\"ipRanges\":{{\"items\":[{{\"cidrIp\":\"0.0.0.0/0\",\"description\":\"temp, remove later\"}}]}},\"ipv6Ranges\":{{}},\"prefixListIds\":{{}}}}]}}}}"
                    );
                } else {
                    let _ = write!(
                        s,
                        "\",\"cidrIp\":\"203.0.113.{}/32\",\"fromPort\":{port},\"toPort\":{port},\"ipProtocol\":\"tcp\",\"ipPermissions\":{{}}}}",
                        rng.range(1, 254)
                    );
                }
                if denied {
                    s.push_str(",\"responseElements\":null");
                } else {
                    s.push_str(",\"responseElements\":{\"requestId\":\"");
                    rng.uuid(s);
                    s.push_str("\",\"_return\":true,\"securityGroupRuleSet\":{\"items\":[{\"groupOwnerId\":\"123456789012\",\"groupId\":\"sg-0a1b2c3d4e5f60718\",\"securityGroupRuleId\":\"sgr-");
                    rng.hex(s, 17);
                    let _ = write!(
                        s,
                        "\",\"isEgress\":false,\"ipProtocol\":\"tcp\",\"fromPort\":{port},\"toPort\":{port},\"cidrIpv4\":\"0.0.0.0/0\"}}]}}}}"
                    );
                }
            }
            Kind::ModifySnapshotAttribute => {
                let _ = write!(
                    s,
                    ",\"requestParameters\":{{\"attributeName\":\"restore\",\"dBSnapshotIdentifier\":\"{db}-snap\",\"valuesToAdd\":[\"all\"]}},\"responseElements\":{{\"dBSnapshotAttributes\":[{{\"attributeName\":\"restore\",\"attributeValues\":[\"all\"]}}],\"dBSnapshotIdentifier\":\"{db}-snap\"}}"
                );
            }
            Kind::StopLogging => {
                let _ = write!(
                    s,
                    ",\"requestParameters\":{{\"name\":\"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/management\"}},\"responseElements\":null"
                );
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    S3GetObject,
    RdsDescribe,
    RdsDescribeLogs,
    AssumeRole,
    Ec2Describe,
    IamRead,
    IamWrite,
    KmsDecrypt,
    ConsoleLogin,
    ModifyDbInstance,
    AuthorizeIngress,
    ModifySnapshotAttribute,
    StopLogging,
}

impl Kind {
    /// (eventSource, eventName, eventType)
    fn names(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Kind::S3GetObject => ("s3.amazonaws.com", "GetObject", "AwsApiCall"),
            Kind::RdsDescribe => ("rds.amazonaws.com", "DescribeDBInstances", "AwsApiCall"),
            Kind::RdsDescribeLogs => ("rds.amazonaws.com", "DescribeDBLogFiles", "AwsApiCall"),
            Kind::AssumeRole => ("sts.amazonaws.com", "AssumeRole", "AwsApiCall"),
            Kind::Ec2Describe => ("ec2.amazonaws.com", "DescribeSecurityGroups", "AwsApiCall"),
            Kind::IamRead => ("iam.amazonaws.com", "GetUser", "AwsApiCall"),
            Kind::IamWrite => ("iam.amazonaws.com", "CreateAccessKey", "AwsApiCall"),
            Kind::KmsDecrypt => ("kms.amazonaws.com", "Decrypt", "AwsApiCall"),
            Kind::ConsoleLogin => ("signin.amazonaws.com", "ConsoleLogin", "AwsConsoleSignIn"),
            Kind::ModifyDbInstance => ("rds.amazonaws.com", "ModifyDBInstance", "AwsApiCall"),
            Kind::AuthorizeIngress => (
                "ec2.amazonaws.com",
                "AuthorizeSecurityGroupIngress",
                "AwsApiCall",
            ),
            Kind::ModifySnapshotAttribute => (
                "rds.amazonaws.com",
                "ModifyDBSnapshotAttribute",
                "AwsApiCall",
            ),
            Kind::StopLogging => ("cloudtrail.amazonaws.com", "StopLogging", "AwsApiCall"),
        }
    }

    fn read_only(self) -> bool {
        matches!(
            self,
            Kind::S3GetObject
                | Kind::RdsDescribe
                | Kind::RdsDescribeLogs
                | Kind::AssumeRole
                | Kind::Ec2Describe
                | Kind::IamRead
                | Kind::KmsDecrypt
        )
    }
}

fn host(source: &str) -> String {
    let service = source.split('.').next().unwrap_or(source);
    if service == "iam" {
        "iam.amazonaws.com".into()
    } else {
        format!("{service}.{REGION}.amazonaws.com")
    }
}

/// Gzips `body` (default level, as CloudTrail's files compress about 10:1).
pub fn gzip(body: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::with_capacity(body.len() / 8), Compression::default());
    // Writing into a Vec cannot fail.
    let _ = enc.write_all(body);
    enc.finish().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DEFAULT_START;

    fn file() -> String {
        let clock = Clock {
            start: DEFAULT_START,
            span: 300,
            bytes_per_span: 1 << 20,
        };
        let (body, end) = Cloudtrail::new(3).file(clock, 0, 1 << 20);
        assert_eq!(end, body.len() as u64);
        String::from_utf8(body).unwrap()
    }

    #[test]
    fn records_are_one_to_two_kb_and_balanced() {
        let s = file();
        assert!(s.starts_with("{\"Records\":[{\"eventVersion\":") && s.ends_with("}]}"));
        let n = s.matches("{\"eventVersion\":").count();
        let avg = s.len() / n;
        assert!((700..=2200).contains(&avg), "average record {avg} bytes");
        // Balanced braces and brackets outside strings: a cheap JSON sanity check
        // (no generated string holds a brace, bracket or escaped quote).
        let (mut depth, mut in_str) = (0i64, false);
        for b in s.bytes() {
            match b {
                b'"' => in_str = !in_str,
                b'{' | b'[' if !in_str => depth += 1,
                b'}' | b']' if !in_str => depth -= 1,
                _ => {}
            }
            assert!(depth >= 0);
        }
        assert_eq!(depth, 0);
        assert!(!in_str);
    }

    #[test]
    fn mix_and_times() {
        let s = file();
        for needle in [
            "\"eventName\":\"GetObject\"",
            "\"eventName\":\"ModifyDBInstance\"",
            "\"eventName\":\"AuthorizeSecurityGroupIngress\"",
            "\"eventName\":\"ConsoleLogin\"",
            "\"eventName\":\"DescribeDBInstances\"",
            "\"errorCode\":\"AccessDenied\"",
            "\"type\":\"AssumedRole\"",
        ] {
            assert!(s.contains(needle), "missing {needle}");
        }
        let times: Vec<&str> = s
            .split("\"eventTime\":\"")
            .skip(1)
            .map(|p| &p[..20])
            .collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(times[0], "2026-11-28T00:00:00Z");
    }

    #[test]
    fn key_has_the_s3_layout() {
        let k = Cloudtrail::new(1).key(DEFAULT_START + 3600 + 300);
        assert!(
            k.starts_with(
                "AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/28/123456789012_CloudTrail_us-east-1_20261128T0105Z_"
            ),
            "{k}"
        );
        assert!(k.ends_with(".json.gz"));
    }
}
