//! CloudTrail records in every envelope they are delivered in: S3 files
//! (`{"Records":[...]}`, one line of up to tens of MB), JSON lines (CloudTrail Lake,
//! Athena), bare arrays, Event history exports (`lookup-events` output, the console
//! download), EventBridge events, and Firehose's back-to-back documents. Digest files are
//! recognised and skipped.

use super::keys::{first_object_keys, has};
use super::record::{self, Ctx, MAX_RECORD};
use crate::format::Sample;
use crate::jsonsplit::{JsonSplitter, Piece};
use crate::{Output, ParseConfig, Parser, Problem};

/// How sure (0-100) this format is that the sample is written in it.
pub fn sniff(sample: &Sample<'_>) -> u8 {
    let Some(keys) = first_object_keys(sample.head, 64) else {
        return 0;
    };
    let contains = |needle: &[u8]| memchr::memmem::find(sample.head, needle).is_some();
    if has(&keys, "Records") || has(&keys, "CloudTrailEvent") {
        return 100;
    }
    if has(&keys, "eventName") && (has(&keys, "eventVersion") || has(&keys, "eventTime")) {
        return 100;
    }
    if has(&keys, "Events") && contains(b"\"CloudTrailEvent\"") {
        return 100;
    }
    if has(&keys, "awsAccountId") && has(&keys, "digestStartTime") {
        return 100;
    }
    if has(&keys, "detail-type") && has(&keys, "detail") {
        return if contains(b"via CloudTrail\"") || contains(b"\"eventName\"") {
            95
        } else {
            30
        };
    }
    0
}

pub struct CloudtrailParser {
    ctx: Ctx,
    /// Streams the records of `Records` (S3 files, console downloads) and `Events`
    /// (lookup-events output) one at a time, and any other top-level object whole.
    splitter: JsonSplitter,
}

impl CloudtrailParser {
    pub fn new(cfg: &ParseConfig) -> Self {
        CloudtrailParser {
            ctx: Ctx {
                file: cfg.file.clone(),
                instance: cfg.instance.as_deref().map(Into::into),
            },
            splitter: JsonSplitter::with_array_keys(MAX_RECORD, &["Records", "Events"]),
        }
    }
}

/// One piece of the input: a record or a whole document holding records, an envelope
/// already emptied of its records (nothing left in it), or input that held no value.
fn piece(ctx: &Ctx, p: Piece<'_>, out: &mut Output) {
    match p {
        Piece::Value { bytes, line }
        | Piece::Outer {
            bytes,
            line,
            selected: false,
        } => record::read_slice(bytes, line, ctx, out),
        Piece::Outer { selected: true, .. } => {}
        Piece::Skipped { line, lines, why } => out.problems.push(Problem {
            line,
            reason: why.to_string(),
            lines,
        }),
    }
}

impl Parser for CloudtrailParser {
    fn push(&mut self, chunk: &[u8], out: &mut Output) {
        let ctx = &self.ctx;
        self.splitter.push(chunk, &mut |p| piece(ctx, p, out));
    }

    fn finish(&mut self, out: &mut Output) {
        let ctx = &self.ctx;
        self.splitter.finish(&mut |p| piece(ctx, p, out));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use keibi_model::event::FieldRef;
    use keibi_model::{Action, Event};

    macro_rules! fixture {
        ($name:literal) => {
            include_bytes!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/data/cloudtrail/",
                $name
            ))
        };
    }

    fn run_chunks(chunks: &[&[u8]]) -> Output {
        let mut p = CloudtrailParser::new(&ParseConfig::new("ct.json"));
        let mut out = Output::new();
        for c in chunks {
            p.push(c, &mut out);
        }
        p.finish(&mut out);
        out
    }

    fn run(input: &[u8], chunk: usize) -> Output {
        let chunks: Vec<&[u8]> = input.chunks(chunk.max(1)).collect();
        run_chunks(&chunks)
    }

    fn names(out: &Output) -> Vec<String> {
        out.events
            .iter()
            .map(|e| e.message.clone().unwrap_or_default())
            .collect()
    }

    fn lines(out: &Output) -> Vec<u64> {
        out.events.iter().map(|e| e.line).collect()
    }

    /// Lines of `input` that open an object at `indent` spaces: where a pretty-printed
    /// array's elements start.
    fn element_lines(input: &[u8], indent: usize) -> Vec<u64> {
        let open = format!("{}{{", " ".repeat(indent));
        String::from_utf8_lossy(input)
            .lines()
            .enumerate()
            .filter(|(_, l)| *l == open)
            .map(|(i, _)| i as u64 + 1)
            .collect()
    }

    fn get<'a>(e: &'a Event, path: &str) -> Option<FieldRef<'a>> {
        e.get(path)
    }

    #[test]
    fn s3_delivery_file() {
        let out = run(fixture!("s3-records.json"), 4096);
        assert!(out.problems.is_empty(), "{:?}", out.problems);
        assert_eq!(
            names(&out),
            [
                "rds.amazonaws.com:ModifyDBInstance",
                "rds.amazonaws.com:ModifyDBSnapshotAttribute",
                "ec2.amazonaws.com:AuthorizeSecurityGroupIngress",
                "ec2.amazonaws.com:AuthorizeSecurityGroupIngress",
                "cloudtrail.amazonaws.com:StopLogging",
                "signin.amazonaws.com:ConsoleLogin",
                "rds.amazonaws.com:DeleteDBInstance",
                "kms.amazonaws.com:Decrypt",
            ]
        );
        assert!(out
            .events
            .iter()
            .all(|e| e.line == 1 && e.action == Action::ApiCall));
        let [modify, snap, sg1, sg2, stop, login, denied, kms] = &out.events[..] else {
            panic!("eight events")
        };
        assert_eq!(
            get(modify, "requestParameters.publiclyAccessible"),
            Some(FieldRef::Bool(true))
        );
        assert_eq!(
            modify.user.as_deref(),
            Some("arn:aws:sts::123456789012:assumed-role/DbAdmin/alice")
        );
        assert_eq!(
            modify.session_id.as_deref(),
            Some("3f0a4b1c-5d6e-4f70-8a9b-0c1d2e3f4a01")
        );
        assert_eq!(snap.time.to_rfc3339(), "2026-11-28T15:43:02.517+00:00");
        assert_eq!(
            get(snap, "requestParameters.valuesToAdd.0"),
            Some(FieldRef::Str("all"))
        );
        assert_eq!(snap.client_ip, Some("198.51.100.7".parse().unwrap()));
        assert_eq!(
            get(sg1, "requestParameters.ipPermissions.items.0.fromPort"),
            Some(FieldRef::Str("5432"))
        );
        assert_eq!(
            get(
                sg1,
                "requestParameters.ipPermissions.items.0.ipRanges.items.0.cidrIp"
            ),
            Some(FieldRef::Str("0.0.0.0/0"))
        );
        assert_eq!(sg1.application.as_deref(), Some("AWS Internal"));
        assert_eq!(
            get(sg2, "requestParameters.fromPort"),
            Some(FieldRef::Int(3306))
        );
        assert_eq!(
            get(sg2, "requestParameters.cidrIp"),
            Some(FieldRef::Str("0.0.0.0/0"))
        );
        assert_eq!(
            get(stop, "requestParameters.name"),
            Some(FieldRef::Str(
                "arn:aws:cloudtrail:us-east-1:123456789012:trail/org-trail"
            ))
        );
        assert_eq!(
            stop.user.as_deref(),
            Some("arn:aws:iam::123456789012:user/mallory")
        );
        assert_eq!(
            login.user.as_deref(),
            Some("HIDDEN_DUE_TO_SECURITY_REASONS")
        );
        assert_eq!(
            get(login, "responseElements.ConsoleLogin"),
            Some(FieldRef::Str("Failure"))
        );
        assert_eq!(login.error_code, None);
        assert_eq!(denied.error_code.as_deref(), Some("AccessDenied"));
        assert_eq!(kms.user.as_deref(), Some("rds.amazonaws.com"));
        assert_eq!(kms.client_host.as_deref(), Some("rds.amazonaws.com"));
        assert_eq!(kms.client_ip, None);
    }

    #[test]
    fn every_chunking_gives_the_same_events() {
        let input = fixture!("s3-records.json");
        let whole = run(input, input.len());
        for chunk in [1, 2, 3, 7, 64, 1000] {
            let out = run(input, chunk);
            assert_eq!(out.events, whole.events, "chunk size {chunk}");
            assert!(out.problems.is_empty());
        }
    }

    #[test]
    fn a_record_split_at_every_byte_offset() {
        let doc: &[u8] = br#"{"Records":[{"eventTime":"2026-01-01T00:00:00Z","eventName":"A\"}{","eventSource":"s"},
  {"eventTime":"2026-01-01T00:00:01.5Z","eventName":"B","userIdentity":{"arn":"x"}}]}
{"eventTime":"2026-01-01T00:00:02Z","eventName":"C"}"#;
        let whole = run(doc, doc.len());
        assert_eq!(names(&whole), ["s:A\"}{", "B", "C"]);
        assert_eq!(lines(&whole), [1, 2, 3]);
        for i in 0..=doc.len() {
            let out = run_chunks(&[&doc[..i], &doc[i..]]);
            assert_eq!(out.events, whole.events, "split at {i}");
            assert!(out.problems.is_empty(), "split at {i}: {:?}", out.problems);
        }
    }

    #[test]
    fn json_lines_and_bare_arrays() {
        let out = run(fixture!("records.jsonl"), 100);
        assert_eq!(lines(&out), [1, 2, 3]);
        assert!(out.problems.is_empty());
        let out = run(fixture!("bare-array.json"), 100);
        assert_eq!(
            names(&out),
            [
                "rds.amazonaws.com:ModifyDBInstance",
                "rds.amazonaws.com:ModifyDBSnapshotAttribute"
            ]
        );
        assert!(out.problems.is_empty());
    }

    #[test]
    fn pretty_printed_records_keep_their_lines() {
        let input = fixture!("pretty.json");
        let out = run(input, 333);
        assert!(out.problems.is_empty(), "{:?}", out.problems);
        assert_eq!(out.events.len(), 3);
        assert_eq!(lines(&out), element_lines(input, 8));
    }

    #[test]
    fn concatenated_documents() {
        let out = run(fixture!("firehose-concatenated.json"), 512);
        assert!(out.problems.is_empty(), "{:?}", out.problems);
        assert_eq!(out.events.len(), 6);
        assert_eq!(names(&out)[5], "signin.amazonaws.com:ConsoleLogin");
    }

    #[test]
    fn lookup_events_export() {
        let input = fixture!("lookup-events.json");
        let out = run(input, 256);
        assert!(out.problems.is_empty(), "{:?}", out.problems);
        assert_eq!(
            names(&out),
            [
                "rds.amazonaws.com:ModifyDBInstance",
                "cloudtrail.amazonaws.com:StopLogging",
                "signin.amazonaws.com:ConsoleLogin"
            ]
        );
        assert_eq!(lines(&out), element_lines(input, 8));
        assert_eq!(
            get(&out.events[0], "requestParameters.publiclyAccessible"),
            Some(FieldRef::Bool(true))
        );
        assert_eq!(
            get(&out.events[0], "CloudTrailEvent"),
            None,
            "the record, not the lookup item"
        );
    }

    #[test]
    fn console_download_items_may_be_strings_records_or_lookup_items() {
        let out = run(fixture!("console-download.json"), 256);
        assert!(out.problems.is_empty(), "{:?}", out.problems);
        assert_eq!(
            names(&out),
            [
                "rds.amazonaws.com:ModifyDBSnapshotAttribute",
                "ec2.amazonaws.com:AuthorizeSecurityGroupIngress",
                "rds.amazonaws.com:DeleteDBInstance"
            ]
        );
    }

    #[test]
    fn eventbridge_envelopes() {
        let out = run(fixture!("eventbridge.jsonl"), 256);
        assert!(out.problems.is_empty(), "{:?}", out.problems);
        assert_eq!(
            names(&out),
            [
                "rds.amazonaws.com:ModifyDBInstance",
                "signin.amazonaws.com:ConsoleLogin"
            ]
        );
        assert_eq!(lines(&out), [1, 2]);
        assert_eq!(
            get(&out.events[0], "requestParameters.dBInstanceIdentifier"),
            Some(FieldRef::Str("production-db"))
        );
        assert_eq!(
            get(&out.events[0], "detail-type"),
            None,
            "the record is the detail"
        );
    }

    #[test]
    fn digest_files_are_skipped() {
        assert!(run(fixture!("digest.json"), 100).is_empty());
    }

    #[test]
    fn invalid_json_in_the_middle_of_records() {
        let out = run(fixture!("invalid-middle.json"), 300);
        assert_eq!(
            names(&out),
            [
                "rds.amazonaws.com:ModifyDBInstance",
                "cloudtrail.amazonaws.com:StopLogging"
            ]
        );
        assert_eq!(out.problems.len(), 1, "{:?}", out.problems);
        let p = &out.problems[0];
        assert_eq!((p.line, p.lines), (1, 1));
        assert!(
            p.reason
                .starts_with("invalid JSON: expected value at line 1 column "),
            "{}",
            p.reason
        );
    }

    #[test]
    fn json_that_is_not_cloudtrail() {
        let out = run(fixture!("not-cloudtrail.json"), 100);
        assert!(out.events.is_empty());
        let got: Vec<_> = out
            .problems
            .iter()
            .map(|p| (p.line, p.reason.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (1, "not a cloudtrail record: no eventTime and eventName"),
                (2, "not a cloudtrail record: no eventTime and eventName")
            ]
        );
    }

    #[test]
    fn records_are_bounded_at_8_mib() {
        let rec = |name: &str, pad: usize| {
            format!(
                r#"{{"eventTime":"2026-01-01T00:00:00Z","eventName":"{name}","pad":"{}"}}"#,
                "x".repeat(pad)
            )
        };
        let doc = format!(
            r#"{{"Records":[{},{},{}]}}"#,
            rec("Before", 10),
            rec("Huge", MAX_RECORD),
            rec("After", 10)
        );
        let out = run(doc.as_bytes(), 1 << 16);
        assert_eq!(names(&out), ["Before", "After"]);
        assert_eq!(out.problems.len(), 1);
        assert_eq!(
            out.problems[0].reason,
            "JSON value longer than 8388608 bytes"
        );
        assert_eq!(out.problems[0].lines, 1);
    }

    #[test]
    fn a_truncated_record_resyncs_at_the_next_one() {
        // An exporter killed mid-write leaves half a record; the next line is whole.
        let doc = b"{\"eventTime\":\"2026-01-01T00:00:00Z\",\"eventName\":\"A\",\"userAg\n{\"eventTime\":\"2026-01-01T00:00:01Z\",\"eventName\":\"B\"}\n";
        let out = run(doc, 5);
        assert_eq!(names(&out), ["B"]);
        assert_eq!(lines(&out), [2]);
        assert_eq!(out.problems.len(), 1);
        assert_eq!(out.problems[0].line, 1);
        assert!(out.problems[0].reason.starts_with("invalid JSON: "));
    }

    #[test]
    fn hostile_input_never_panics() {
        let inputs: &[&[u8]] = &[
            b"",
            b"   \n\n",
            b"]]]}}}",
            b"{{{{[[[[",
            b"{\"Records\":[{\"eventTime\":\"x",
            b"\xff\xfe{\"a\":\"\xff\"}",
            b"nul\x00l 12 \"str\" true",
            b"{\"Records\":[1,2,{\"eventTime\":\"2026-01-01T00:00:00Z\",\"eventName\":\"\xc3\x28\"}]}",
        ];
        for input in inputs {
            for chunk in [1, 3, 1000] {
                let _ = run(input, chunk);
            }
        }
        let deep = "[".repeat(100_000);
        let _ = run(deep.as_bytes(), 4096);
    }

    #[test]
    fn detection_picks_these_formats() {
        use crate::Format;
        let d = |b: &[u8]| crate::detect(b, true);
        for f in [
            &fixture!("s3-records.json")[..],
            fixture!("pretty.json"),
            fixture!("records.jsonl"),
            fixture!("bare-array.json"),
            fixture!("firehose-concatenated.json"),
            fixture!("lookup-events.json"),
            fixture!("console-download.json"),
            fixture!("eventbridge.jsonl"),
            fixture!("digest.json"),
            fixture!("invalid-middle.json"),
        ] {
            assert_eq!(
                d(f),
                Some(Format::Cloudtrail),
                "{}",
                String::from_utf8_lossy(&f[..60])
            );
        }
        for f in [
            &fixture!("cloudwatch-rds-postgresql.json")[..],
            fixture!("cloudwatch-rds-audit.json"),
            fixture!("cloudwatch-lambda.json"),
            fixture!("cloudwatch-cloudtrail.json"),
        ] {
            assert_eq!(
                d(f),
                Some(Format::CloudwatchLogs),
                "{}",
                String::from_utf8_lossy(&f[..60])
            );
        }
    }

    #[test]
    fn sniff_claims_every_envelope_and_nothing_else() {
        let s = |b: &[u8]| sniff(&Sample::new(b, true));
        for f in [
            &fixture!("s3-records.json")[..],
            fixture!("pretty.json"),
            fixture!("records.jsonl"),
            fixture!("bare-array.json"),
            fixture!("firehose-concatenated.json"),
            fixture!("lookup-events.json"),
            fixture!("console-download.json"),
            fixture!("digest.json"),
        ] {
            assert_eq!(s(f), 100, "{}", String::from_utf8_lossy(&f[..80]));
        }
        assert_eq!(s(fixture!("eventbridge.jsonl")), 95);
        assert_eq!(s(fixture!("not-cloudtrail.json")), 0);
        assert_eq!(s(fixture!("cloudwatch-rds-audit.json")), 0);
        assert_eq!(s(br#"{ "timestamp": "2020-08-21 17:54:08", "id": 0, "class": "connection", "event": "connect", "connection_id": 20 }"#), 0);
        assert_eq!(s(b"[\n{ \"timestamp\": \"2020-08-21 17:54:08\", \"id\": 0, \"class\": \"audit\" },\n"), 0);
        assert_eq!(
            s(b"2026-11-28 15:40:00 UTC::@:[12760]:LOG:  checkpoint starting: time"),
            0
        );
    }

    /// About `bytes` bytes of records joined by `sep`: a realistic mix of RDS, EC2, IAM
    /// and S3 records of about 1.3 KB each, varied so no two are alike.
    pub(crate) fn synthetic_records(bytes: usize, sep: u8) -> Vec<u8> {
        let mut out = Vec::with_capacity(bytes + 4096);
        let mut i = 0u64;
        // Ids are random, as real ones are, so the file compresses like a real one.
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut hex = |n: usize| {
            let mut s = String::with_capacity(n);
            for _ in 0..n {
                seed = crate::testutil::xorshift(seed);
                s.push(char::from(b"0123456789abcdef"[(seed % 16) as usize]));
            }
            s
        };
        while out.len() < bytes {
            if i > 0 {
                out.push(sep);
            }
            let uuid = |h: &mut dyn FnMut(usize) -> String| {
                format!("{}-{}-4{}-8{}-{}", h(8), h(4), h(3), h(3), h(12))
            };
            let (request_id, event_id) = (uuid(&mut hex), uuid(&mut hex));
            let key_id = hex(16).to_uppercase();
            let (source, name, params) = match i % 4 {
                0 => (
                    "rds.amazonaws.com",
                    "ModifyDBInstance",
                    serde_json::json!({"dBInstanceIdentifier": format!("db-{}", i % 97), "publiclyAccessible": i.is_multiple_of(11), "applyImmediately": true, "backupRetentionPeriod": i % 8}),
                ),
                1 => (
                    "ec2.amazonaws.com",
                    "AuthorizeSecurityGroupIngress",
                    serde_json::json!({"groupId": format!("sg-{:017x}", i), "ipPermissions": {"items": [{"ipProtocol": "tcp", "fromPort": 5432, "toPort": 5432, "groups": {}, "ipRanges": {"items": [{"cidrIp": format!("10.{}.0.0/16", i % 250)}]}, "ipv6Ranges": {}, "prefixListIds": {}}]}}),
                ),
                2 => (
                    "iam.amazonaws.com",
                    "CreateAccessKey",
                    serde_json::json!({"userName": format!("svc-user-{}", i % 13)}),
                ),
                _ => (
                    "s3.amazonaws.com",
                    "GetBucketAcl",
                    serde_json::json!({"bucketName": format!("logs-bucket-{}", i % 7), "Host": format!("logs-bucket-{}.s3.us-east-1.amazonaws.com", i % 7), "acl": ""}),
                ),
            };
            let rec = serde_json::json!({
                "eventVersion": "1.09",
                "userIdentity": {"type": "AssumedRole", "principalId": format!("AROAEXAMPLE{i:08}:session-{}", i % 5), "arn": format!("arn:aws:sts::123456789012:assumed-role/Ops/session-{}", i % 5), "accountId": "123456789012", "accessKeyId": format!("ASIA{key_id}"),
                    "sessionContext": {"sessionIssuer": {"type": "Role", "principalId": "AROAEXAMPLE", "arn": "arn:aws:iam::123456789012:role/Ops", "accountId": "123456789012", "userName": "Ops"}, "webIdFederationData": {}, "attributes": {"creationDate": "2026-11-28T14:00:00Z", "mfaAuthenticated": "false"}}},
                "eventTime": format!("2026-11-28T15:{:02}:{:02}Z", (i / 60) % 60, i % 60),
                "eventSource": source, "eventName": name, "awsRegion": "us-east-1",
                "sourceIPAddress": format!("203.0.{}.{}", (i / 256) % 256, i % 256),
                "userAgent": "aws-cli/2.15.30 Python/3.11.8 Linux/6.1.0-18-amd64 exe/x86_64.debian.12 prompt/off command/rds.modify-db-instance",
                "requestParameters": params, "responseElements": null,
                "requestID": request_id, "eventID": event_id,
                "readOnly": i % 4 == 3, "eventType": "AwsApiCall", "managementEvent": true, "recipientAccountId": "123456789012", "eventCategory": "Management",
                "tlsDetails": {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256", "clientProvidedHostHeader": format!("{source}")}
            });
            serde_json::to_writer(&mut out, &rec).expect("writing to a Vec");
            i += 1;
        }
        out
    }

    /// An S3 delivery file of about `bytes` bytes (see [`synthetic_records`]).
    pub(crate) fn synthetic_s3_file(bytes: usize) -> Vec<u8> {
        let mut out = b"{\"Records\":[".to_vec();
        out.extend_from_slice(&synthetic_records(bytes, b','));
        out.extend_from_slice(b"]}");
        out
    }

    /// Seconds this thread spent on a CPU (from Linux's schedstat), so other work on a
    /// busy machine does not count; wall-clock seconds where that is not available.
    struct CpuClock {
        wall: std::time::Instant,
        cpu: Option<u64>,
    }

    impl CpuClock {
        fn on_cpu_ns() -> Option<u64> {
            std::fs::read_to_string("/proc/thread-self/schedstat")
                .ok()?
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        }

        fn start() -> Self {
            CpuClock {
                wall: std::time::Instant::now(),
                cpu: Self::on_cpu_ns(),
            }
        }

        fn secs(&self) -> f64 {
            match (self.cpu, Self::on_cpu_ns()) {
                (Some(a), Some(b)) => b.saturating_sub(a) as f64 / 1e9,
                _ => self.wall.elapsed().as_secs_f64(),
            }
        }
    }

    /// `cargo test --release -p keibi-parse -- --ignored --nocapture cloudtrail_throughput`
    #[test]
    #[ignore = "measures speed; run in release"]
    fn cloudtrail_throughput() {
        use std::io::{Read, Write};
        let file = synthetic_s3_file(64 << 20);
        let records = memchr::memmem::find_iter(&file, b"\"eventVersion\"").count();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&file).unwrap();
        let gz = gz.finish().unwrap();
        let mb = file.len() as f64 / 1e6;
        println!(
            "{records} records, {:.0} bytes each, {mb:.1} MB ({:.1} MB gzipped)",
            file.len() as f64 / records as f64,
            gz.len() as f64 / 1e6
        );

        let parse_only = |input: &[u8], what: &str| {
            let t = CpuClock::start();
            let mut events = 0;
            let mut p = CloudtrailParser::new(&ParseConfig::new("bench.json"));
            let mut out = Output::new();
            for c in input.chunks(64 << 10) {
                p.push(c, &mut out);
                events += out.events.len();
                out.events.clear();
            }
            p.finish(&mut out);
            events += out.events.len();
            let secs = t.secs();
            assert_eq!(events, records);
            assert!(out.problems.is_empty());
            println!(
                "parse only, {what}: {:.0} MB/s",
                input.len() as f64 / 1e6 / secs
            );
        };
        parse_only(&file, "S3 file");
        parse_only(&synthetic_records(64 << 20, b'\n'), "JSON lines");

        let t = CpuClock::start();
        let mut dec = flate2::read::GzDecoder::new(&gz[..]);
        let mut buf = vec![0; 64 << 10];
        let mut p = CloudtrailParser::new(&ParseConfig::new("bench.json"));
        let mut out = Output::new();
        let mut events = 0;
        loop {
            let n = dec.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            p.push(&buf[..n], &mut out);
            events += out.events.len();
            out.events.clear();
        }
        p.finish(&mut out);
        events += out.events.len();
        let both = t.secs();
        assert_eq!(events, records);
        println!(
            "gunzip + parse: {:.0} MB/s of uncompressed bytes",
            mb / both
        );
    }

    #[test]
    #[ignore = "measures speed; run in release"]
    fn record_mapping_throughput() {
        let lines = synthetic_records(64 << 20, b'\n');
        let recs: Vec<&[u8]> = lines.split(|&b| b == b'\n').collect();
        let mb = lines.len() as f64 / 1e6;
        let ctx = Ctx {
            file: "b".into(),
            instance: None,
        };
        for _ in 0..3 {
            let t = CpuClock::start();
            let mut out = Output::new();
            let mut n = 0;
            for r in &recs {
                record::read_slice(r, 1, &ctx, &mut out);
                n += out.events.len();
                out.events.clear();
            }
            assert_eq!(n, recs.len());
            println!("mapping only: {:.0} MB/s", mb / t.secs());
        }
    }

    #[test]
    #[ignore = "measures speed; run in release"]
    fn splitter_only_throughput() {
        let file = synthetic_s3_file(64 << 20);
        for _ in 0..3 {
            let t = CpuClock::start();
            let mut s = JsonSplitter::with_array_keys(MAX_RECORD, &["Records", "Events"]);
            let mut n = 0usize;
            for c in file.chunks(64 << 10) {
                s.push(c, &mut |p| n += matches!(p, Piece::Value { .. }) as usize);
            }
            s.finish(&mut |_| {});
            let secs = t.secs();
            println!(
                "splitter only: {n} values, {:.0} MB/s",
                file.len() as f64 / 1e6 / secs
            );
        }
    }
}
