//! CloudWatch Logs subscription payloads (logEvents), whose messages may be database log
//! lines: RDS and Aurora export their logs to CloudWatch, and a subscription hands them
//! on (to Firehose, S3, Lambda) wrapped in JSON; each message is read by the parser its
//! log group implies.

use std::borrow::Cow;
use std::collections::hash_map::Entry;
use std::collections::{HashMap, VecDeque};
use std::io::Read;

use base64::Engine;
use serde::Deserialize;

use super::keys::{first_object_keys, has};
use super::record::{self, Ctx};
use crate::format::Sample;
use crate::jsonsplit::{JsonSplitter, Piece};
use crate::{Format, LineParser, Output, ParseConfig, Parser, Problem};

/// Largest payload document read whole. CloudWatch caps a delivery far below this
/// (1 MiB of events per batch); a bigger document is not a payload.
pub const MAX_PAYLOAD: usize = 64 << 20;

/// Bound on what a Lambda `awslogs.data` may decompress to (a gzip bomb stops here).
pub const MAX_DECODED: usize = 64 << 20;

/// Log streams whose parsers are kept at once. A stream beyond this evicts the oldest
/// (its pending record is flushed), so memory stays bounded on hostile input.
const MAX_STREAMS: usize = 4096;

/// Decompresses gzip (several members read in turn) up to `max` bytes: a gzip
/// bomb stops there with an error. Used for subscription payloads wherever they
/// arrive (Firehose, a POST, a stream record).
pub fn gunzip(bytes: &[u8], max: usize) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(bytes)
        .take(max as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| format!("not gzip: {e}"))?;
    if out.len() > max {
        return Err(format!("decompresses to more than {max} bytes"));
    }
    Ok(out)
}

/// Whether `data` is a CloudWatch Logs subscription payload (decompressed): a JSON
/// object naming `logEvents` or `messageType` near its start.
pub fn is_payload(data: &[u8]) -> bool {
    let start = data.iter().position(|b| !b.is_ascii_whitespace());
    let Some(start) = start else { return false };
    if data[start] != b'{' {
        return false;
    }
    let head = &data[start..data.len().min(start + 4096)];
    let has = |key: &[u8]| head.windows(key.len()).any(|w| w == key);
    has(b"\"messageType\"") || has(b"\"logEvents\"")
}

/// How sure (0-100) this format is that the sample is written in it.
pub fn sniff(sample: &Sample<'_>) -> u8 {
    let Some(keys) = first_object_keys(sample.head, 64) else {
        return 0;
    };
    if has(&keys, "awslogs") && keys.len() == 1 {
        return 100;
    }
    match (
        has(&keys, "messageType"),
        has(&keys, "logEvents"),
        has(&keys, "logGroup"),
    ) {
        (true, true, _) | (true, _, true) => 100,
        (false, true, true) => 90,
        _ => 0,
    }
}

/// The parts of a payload keibi reads; other keys (`owner`, `subscriptionFilters`,
/// `policyLevel` ...) are ignored.
#[derive(Deserialize)]
struct Payload<'a> {
    #[serde(rename = "messageType", borrow, default)]
    message_type: Option<Cow<'a, str>>,
    #[serde(rename = "logGroup", borrow, default)]
    log_group: Option<Cow<'a, str>>,
    #[serde(rename = "logStream", borrow, default)]
    log_stream: Option<Cow<'a, str>>,
    #[serde(rename = "logEvents", borrow, default)]
    log_events: Option<Vec<LogEvent<'a>>>,
    #[serde(borrow, default)]
    awslogs: Option<Awslogs<'a>>,
}

#[derive(Deserialize)]
struct LogEvent<'a> {
    #[serde(borrow, default)]
    message: Option<Cow<'a, str>>,
}

/// The Lambda form: base64 of the gzip of a payload.
#[derive(Deserialize)]
struct Awslogs<'a> {
    #[serde(borrow)]
    data: Cow<'a, str>,
}

/// How the messages of one log group are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A database log the group names (`/aws/rds/instance/<id>/postgresql`).
    Line(Format),
    /// CloudTrail records, one per message.
    Cloudtrail,
    /// Unknown group: the first message that some format is sure of decides.
    Detect,
}

/// What a log group says: how to read it, and the instance it belongs to.
fn classify_group(group: &str) -> (Kind, Option<&str>) {
    let rds = group
        .strip_prefix("/aws/rds/instance/")
        .or_else(|| group.strip_prefix("/aws/rds/cluster/"));
    if let Some((id, log_type)) = rds.and_then(|r| r.split_once('/')) {
        let kind = match log_type {
            "postgresql" => Kind::Line(Format::PostgresStderr),
            "audit" => Kind::Line(Format::MysqlAudit),
            "error" => Kind::Line(Format::MysqlError),
            "general" => Kind::Line(Format::MysqlGeneral),
            _ => Kind::Detect,
        };
        return (kind, Some(id).filter(|id| !id.is_empty()));
    }
    if group.to_ascii_lowercase().contains("cloudtrail") {
        return (Kind::Cloudtrail, None);
    }
    (Kind::Detect, None)
}

enum Reader {
    Line(Format, Box<dyn LineParser>),
    /// A JSON document format (MySQL Enterprise Audit) found by detection.
    Doc(Format, Box<dyn Parser>),
    Cloudtrail,
    /// Nothing chosen yet (`Kind::Detect` before a message was recognised).
    Undecided,
}

impl Reader {
    fn format(&self) -> Option<Format> {
        match self {
            Reader::Line(f, _) | Reader::Doc(f, _) => Some(*f),
            Reader::Cloudtrail => Some(Format::Cloudtrail),
            Reader::Undecided => None,
        }
    }
}

/// One log stream's reader and what its events are stamped with.
struct Stream {
    group: String,
    reader: Reader,
    instance: Option<String>,
    /// The reader was chosen from a message, not implied by the log group: problems
    /// then name the format, in case the guess was wrong.
    detected: bool,
}

pub struct CloudwatchParser {
    cfg: ParseConfig,
    /// Whole payload documents, one after another (Firehose writes them back to back).
    splitter: JsonSplitter,
    streams: HashMap<(String, String), Stream>,
    order: VecDeque<(String, String)>,
    ctx: Ctx,
    scratch: Output,
    /// [`MAX_DECODED`], smaller in tests.
    max_decoded: usize,
}

impl CloudwatchParser {
    pub fn new(cfg: &ParseConfig) -> Self {
        CloudwatchParser {
            cfg: cfg.clone(),
            ctx: Ctx {
                file: cfg.file.clone(),
                instance: cfg.instance.as_deref().map(Into::into),
            },
            max_decoded: MAX_DECODED,
            splitter: JsonSplitter::new(MAX_PAYLOAD),
            streams: HashMap::new(),
            order: VecDeque::new(),
            scratch: Output::new(),
        }
    }

    fn piece(&mut self, p: Piece<'_>, out: &mut Output) {
        match p {
            Piece::Value { bytes, line } | Piece::Outer { bytes, line, .. } => {
                self.document(bytes, line, out)
            }
            Piece::Skipped { line, lines, why } => out.problems.push(Problem {
                line,
                reason: why.to_string(),
                lines,
            }),
        }
    }

    /// Reads one payload document that starts at `line`.
    fn document(&mut self, bytes: &[u8], line: u64, out: &mut Output) {
        match serde_json::from_slice::<Payload<'_>>(bytes) {
            Ok(p) => self.payload(p, line, out, 0),
            Err(e) => out.unrecognized(line, format!("invalid cloudwatch logs payload: {e}")),
        }
    }

    fn payload(&mut self, p: Payload<'_>, line: u64, out: &mut Output, depth: u32) {
        if p.message_type.as_deref() == Some("CONTROL_MESSAGE") {
            return;
        }
        if let Some(events) = p.log_events {
            let group = p.log_group.as_deref().unwrap_or_default();
            let stream = p.log_stream.as_deref().unwrap_or_default();
            let CloudwatchParser {
                cfg,
                ctx,
                streams,
                order,
                scratch,
                ..
            } = self;
            let s = get_stream(streams, order, cfg, group, stream, scratch, out);
            for ev in events {
                if let Some(msg) = ev.message {
                    message(s, cfg, ctx, &msg, line, scratch, out);
                }
            }
            return;
        }
        match p.awslogs {
            Some(a) if depth == 0 => self.awslogs(&a.data, line, out),
            Some(_) => out.unrecognized(line, "awslogs data inside awslogs data"),
            None => out.unrecognized(line, "not a cloudwatch logs payload: no logEvents"),
        }
    }

    /// The Lambda form: base64 of gzip of one (or several concatenated) payloads.
    fn awslogs(&mut self, data: &str, line: u64, out: &mut Output) {
        let gz = match base64::engine::general_purpose::STANDARD.decode(data.trim()) {
            Ok(gz) => gz,
            Err(e) => return out.unrecognized(line, format!("awslogs.data is not base64: {e}")),
        };
        let mut json = Vec::new();
        let read = flate2::read::MultiGzDecoder::new(&gz[..])
            .take(self.max_decoded as u64 + 1)
            .read_to_end(&mut json);
        if let Err(e) = read {
            return out.unrecognized(line, format!("awslogs.data is not gzip: {e}"));
        }
        if json.len() > self.max_decoded {
            return out.unrecognized(
                line,
                format!(
                    "awslogs.data decompresses to more than {} MiB",
                    self.max_decoded >> 20
                ),
            );
        }
        for p in serde_json::Deserializer::from_slice(&json).into_iter::<Payload<'_>>() {
            match p {
                Ok(p) => self.payload(p, line, out, 1),
                Err(e) => {
                    return out.unrecognized(
                        line,
                        format!("invalid cloudwatch logs payload in awslogs.data: {e}"),
                    )
                }
            }
        }
    }
}

/// The stream's reader, made on first use; evicts the oldest stream when full.
fn get_stream<'m>(
    streams: &'m mut HashMap<(String, String), Stream>,
    order: &mut VecDeque<(String, String)>,
    cfg: &ParseConfig,
    group: &str,
    stream: &str,
    scratch: &mut Output,
    out: &mut Output,
) -> &'m mut Stream {
    let key = (group.to_string(), stream.to_string());
    if streams.len() >= MAX_STREAMS && !streams.contains_key(&key) {
        if let Some(mut old) = order.pop_front().and_then(|k| streams.remove(&k)) {
            finish_stream(&mut old, scratch, out);
        }
    }
    match streams.entry(key) {
        Entry::Occupied(o) => o.into_mut(),
        Entry::Vacant(v) => {
            let (kind, id) = classify_group(group);
            // An explicit --instance wins over the log group's.
            let instance = cfg.instance.clone().or_else(|| id.map(str::to_string));
            let reader = match kind {
                Kind::Line(f) => line_reader(f, cfg, instance.clone()).unwrap_or(Reader::Undecided),
                Kind::Cloudtrail => Reader::Cloudtrail,
                Kind::Detect => Reader::Undecided,
            };
            order.push_back(v.key().clone());
            v.insert(Stream {
                group: group.to_string(),
                reader,
                instance,
                detected: false,
            })
        }
    }
}

/// Reads one log event's message with its stream's reader.
fn message(
    s: &mut Stream,
    cfg: &ParseConfig,
    ctx: &Ctx,
    msg: &str,
    line: u64,
    scratch: &mut Output,
    out: &mut Output,
) {
    if matches!(s.reader, Reader::Undecided) {
        s.reader = detect_reader(msg, cfg, s.instance.clone());
        s.detected = true;
    }
    match &mut s.reader {
        Reader::Line(_, p) => {
            for l in msg.lines() {
                p.line(l.as_bytes(), line, scratch);
            }
        }
        Reader::Doc(_, p) => {
            let first = scratch.events.len();
            p.push(msg.as_bytes(), scratch);
            p.push(b"\n", scratch);
            for e in &mut scratch.events[first..] {
                e.line = line;
            }
        }
        Reader::Cloudtrail => record::read_slice(msg.as_bytes(), line, ctx, scratch),
        Reader::Undecided => scratch.unrecognized(line, "no known log format in message"),
    }
    drain(s, scratch, true, out);
}

/// A line reader for `format`, stamped with `instance`, following format changes.
fn line_reader(format: Format, cfg: &ParseConfig, instance: Option<String>) -> Option<Reader> {
    let cfg = ParseConfig {
        instance,
        ..cfg.clone()
    };
    let lp = format.line_parser(&cfg)?;
    Some(Reader::Line(
        format,
        Box::new(crate::switch::Switching::new(format, lp, &cfg)),
    ))
}

/// Picks a reader for an unknown log group from one message.
fn detect_reader(msg: &str, cfg: &ParseConfig, instance: Option<String>) -> Reader {
    let b = msg.as_bytes();
    if b.first() == Some(&b'{')
        && serde_json::from_slice::<serde_json::Value>(b).is_ok_and(|v| record::is_record(&v))
    {
        return Reader::Cloudtrail;
    }
    match crate::detect(b, true) {
        Some(Format::Cloudtrail) => Reader::Cloudtrail,
        Some(Format::CloudwatchLogs) | None => Reader::Undecided,
        Some(f) => line_reader(f, cfg, instance.clone()).unwrap_or_else(|| {
            let cfg = ParseConfig {
                instance,
                ..cfg.clone()
            };
            Reader::Doc(f, f.parser(&cfg))
        }),
    }
}

fn finish_stream(s: &mut Stream, scratch: &mut Output, out: &mut Output) {
    match &mut s.reader {
        Reader::Line(_, p) => p.finish(scratch),
        Reader::Doc(_, p) => p.finish(scratch),
        Reader::Cloudtrail | Reader::Undecided => {}
    }
    drain(s, scratch, false, out);
}

/// Moves what a stream's reader wrote into `out`: events get the stream's instance,
/// problems are prefixed with the log group. With `one_message`, what failed is one
/// message and counts as one unrecognized line, however many lines it had.
fn drain(s: &Stream, scratch: &mut Output, one_message: bool, out: &mut Output) {
    for mut e in scratch.events.drain(..) {
        if s.instance.is_some() {
            e.instance = s.instance.as_deref().map(Into::into);
        }
        out.event(e);
    }
    out.skipped += std::mem::take(&mut scratch.skipped);
    let mut failed = false;
    for p in scratch.problems.drain(..) {
        if one_message && p.lines > 0 {
            if failed {
                continue;
            }
            failed = true;
        }
        let reason = match (s.group.is_empty(), s.reader.format().filter(|_| s.detected)) {
            (true, None) => p.reason,
            (true, Some(f)) => format!("(read as {f}): {}", p.reason),
            (false, None) => format!("{}: {}", s.group, p.reason),
            (false, Some(f)) => format!("{} (read as {f}): {}", s.group, p.reason),
        };
        let lines = if one_message { p.lines.min(1) } else { p.lines };
        out.problems.push(Problem {
            line: p.line,
            reason,
            lines,
        });
    }
}

impl Parser for CloudwatchParser {
    fn push(&mut self, chunk: &[u8], out: &mut Output) {
        let mut splitter = std::mem::replace(&mut self.splitter, JsonSplitter::new(0));
        splitter.push(chunk, &mut |p| self.piece(p, out));
        self.splitter = splitter;
    }

    fn finish(&mut self, out: &mut Output) {
        let mut splitter = std::mem::replace(&mut self.splitter, JsonSplitter::new(0));
        splitter.finish(&mut |p| self.piece(p, out));
        self.splitter = splitter;
        let mut scratch = std::mem::take(&mut self.scratch);
        while let Some(key) = self.order.pop_front() {
            if let Some(mut s) = self.streams.remove(&key) {
                finish_stream(&mut s, &mut scratch, out);
            }
        }
        self.scratch = scratch;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use keibi_model::event::FieldRef;
    use keibi_model::{Action, SourceKind};

    macro_rules! fixture {
        ($name:literal) => {
            include_bytes!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/data/cloudtrail/",
                $name
            ))
        };
    }

    fn parser(instance: Option<&str>) -> CloudwatchParser {
        let mut cfg = ParseConfig::new("cw.json");
        cfg.instance = instance.map(str::to_string);
        CloudwatchParser::new(&cfg)
    }

    /// Feeds `input` in chunks of `chunk` bytes; returns the parser (streams still kept)
    /// and the output before `finish`, and the output after.
    fn run(p: &mut CloudwatchParser, input: &[u8], chunk: usize) -> Output {
        let mut out = Output::new();
        for c in input.chunks(chunk.max(1)) {
            p.push(c, &mut out);
        }
        out
    }

    fn formats(p: &CloudwatchParser) -> Vec<(String, Option<Format>, Option<String>)> {
        p.order
            .iter()
            .filter_map(|k| p.streams.get(k))
            .map(|s| (s.group.clone(), s.reader.format(), s.instance.clone()))
            .collect()
    }

    #[test]
    fn log_groups_name_the_parser_and_the_instance() {
        let c = |g| classify_group(g);
        assert_eq!(
            c("/aws/rds/instance/mydb/postgresql"),
            (Kind::Line(Format::PostgresStderr), Some("mydb"))
        );
        assert_eq!(
            c("/aws/rds/instance/mydb/audit"),
            (Kind::Line(Format::MysqlAudit), Some("mydb"))
        );
        assert_eq!(
            c("/aws/rds/instance/mydb/error"),
            (Kind::Line(Format::MysqlError), Some("mydb"))
        );
        assert_eq!(
            c("/aws/rds/cluster/aurora-1/general"),
            (Kind::Line(Format::MysqlGeneral), Some("aurora-1"))
        );
        assert_eq!(
            c("/aws/rds/cluster/aurora-1/slowquery"),
            (Kind::Detect, Some("aurora-1"))
        );
        assert_eq!(
            c("/aws/rds/instance//postgresql"),
            (Kind::Line(Format::PostgresStderr), None)
        );
        assert_eq!(c("aws-cloudtrail-logs-1234"), (Kind::Cloudtrail, None));
        assert_eq!(c("/org/CloudTrail/main"), (Kind::Cloudtrail, None));
        assert_eq!(c("/aws/lambda/fn"), (Kind::Detect, None));
        assert_eq!(c("/aws/rds/instance/no-type"), (Kind::Detect, None));
    }

    #[test]
    fn rds_postgresql_payloads_go_to_the_stderr_parser() {
        let input = fixture!("cloudwatch-rds-postgresql.json");
        let mut p = parser(None);
        let mut out = run(&mut p, input, 97);
        assert_eq!(
            formats(&p),
            [(
                "/aws/rds/instance/orders-db/postgresql".to_string(),
                Some(Format::PostgresStderr),
                Some("orders-db".to_string())
            )],
            "the control message makes no stream"
        );
        p.finish(&mut out);
        assert!(p.streams.is_empty());
        assert!(out.problems.is_empty(), "{:?}", out.problems);
        let actions: Vec<_> = out.events.iter().map(|e| e.action).collect();
        assert_eq!(
            actions,
            [
                Action::ConnectionReceived,
                Action::LoginFailure,
                Action::Statement
            ]
        );
        for e in &out.events {
            assert_eq!(e.instance.as_deref(), Some("orders-db"));
            assert_eq!(e.source, SourceKind::PostgresStderr);
            assert_eq!(e.line, 1, "concatenated payloads share line 1");
        }
        // The DETAIL line came in the next payload and still joined its record, and a
        // message with newlines is one record.
        assert!(out.events[1]
            .detail
            .as_deref()
            .is_some_and(|d| d.contains("pg_hba.conf line 13")));
        assert_eq!(out.events[1].user.as_deref(), Some("app"));
        let st = out.events[2].statement.as_deref().expect("a statement");
        assert!(st.text.contains("FROM accounts"), "{}", st.text);
    }

    #[test]
    fn failed_messages_count_once_and_name_the_log_group() {
        let doc = payload(
            "/aws/rds/instance/orders-db/postgresql",
            &["\u{1} not a log line\nnor this\nnor this", "\u{2} nope"],
        );
        let mut p = parser(None);
        let mut out = run(&mut p, doc.as_bytes(), 64);
        p.finish(&mut out);
        assert!(out.events.is_empty());
        assert_eq!(out.unrecognized_lines(), 2, "{:?}", out.problems);
        for pr in &out.problems {
            assert!(
                pr.reason
                    .starts_with("/aws/rds/instance/orders-db/postgresql: "),
                "{}",
                pr.reason
            );
            assert_eq!((pr.line, pr.lines), (1, 1));
        }
    }

    #[test]
    fn lambda_form_reads_the_same_messages() {
        let mut p = parser(None);
        let mut out = run(&mut p, fixture!("cloudwatch-lambda.json"), 4096);
        assert_eq!(formats(&p)[0].1, Some(Format::PostgresStderr));
        p.finish(&mut out);
        assert!(out.problems.is_empty(), "{:?}", out.problems);
        let actions: Vec<_> = out.events.iter().map(|e| e.action).collect();
        assert_eq!(actions, [Action::ConnectionReceived, Action::LoginFailure]);
        assert_eq!(out.events[1].instance.as_deref(), Some("orders-db"));
    }

    #[test]
    fn aurora_audit_payload_goes_to_the_audit_parser() {
        let mut p = parser(None);
        let mut out = run(&mut p, fixture!("cloudwatch-rds-audit.json"), 13);
        assert_eq!(
            formats(&p),
            [(
                "/aws/rds/cluster/orders-cluster/audit".to_string(),
                Some(Format::MysqlAudit),
                Some("orders-cluster".to_string())
            )]
        );
        p.finish(&mut out);
        assert!(out.problems.is_empty(), "{:?}", out.problems);
        let actions: Vec<_> = out.events.iter().map(|e| e.action).collect();
        assert_eq!(
            actions,
            [
                Action::LoginFailure,
                Action::LoginSuccess,
                Action::Statement,
                Action::Disconnect
            ]
        );
        for e in &out.events {
            assert_eq!(e.instance.as_deref(), Some("orders-cluster"));
            assert_eq!(e.source, SourceKind::MysqlAudit);
            assert_eq!(e.line, 1, "the pretty-printed payload starts at line 1");
        }
        let st = out.events[2].statement.as_deref().expect("a statement");
        assert_eq!(st.text, "SELECT * FROM accounts WHERE note = 'a,b'");
    }

    #[test]
    fn cloudtrail_log_group_messages_are_records() {
        let mut p = parser(None);
        let mut out = run(&mut p, fixture!("cloudwatch-cloudtrail.json"), 1000);
        p.finish(&mut out);
        assert!(out.problems.is_empty(), "{:?}", out.problems);
        let names: Vec<_> = out
            .events
            .iter()
            .map(|e| e.message.clone().unwrap_or_default())
            .collect();
        assert_eq!(
            names,
            [
                "rds.amazonaws.com:ModifyDBInstance",
                "cloudtrail.amazonaws.com:StopLogging"
            ]
        );
        assert_eq!(
            out.events[0].get("requestParameters.publiclyAccessible"),
            Some(FieldRef::Bool(true))
        );
        assert_eq!(out.events[0].action, Action::ApiCall);
        assert_eq!(out.events[0].instance, None);
    }

    fn payload(group: &str, messages: &[&str]) -> String {
        let events: Vec<_> = messages
            .iter()
            .enumerate()
            .map(|(i, m)| serde_json::json!({"id": i.to_string(), "timestamp": 1795966800000u64, "message": m}))
            .collect();
        serde_json::json!({"messageType":"DATA_MESSAGE","owner":"1","logGroup":group,"logStream":"s","subscriptionFilters":[],"logEvents":events}).to_string()
    }

    const RECORD: &str = r#"{"eventVersion":"1.09","eventTime":"2026-11-28T15:41:27Z","eventSource":"rds.amazonaws.com","eventName":"ModifyDBInstance","userIdentity":{"type":"Root","arn":"arn:aws:iam::1:root"}}"#;

    #[test]
    fn unknown_groups_detect_from_the_message_and_stamp_the_instance() {
        let doc = payload(
            "/aws/rds/instance/mydb/custom",
            &[RECORD, "not json at all"],
        );
        let mut p = parser(None);
        let mut out = run(&mut p, doc.as_bytes(), 50);
        p.finish(&mut out);
        assert_eq!(out.events.len(), 1);
        assert_eq!(out.events[0].instance.as_deref(), Some("mydb"));
        assert_eq!(out.problems.len(), 1);
        assert!(
            out.problems[0]
                .reason
                .starts_with("/aws/rds/instance/mydb/custom (read as cloudtrail): invalid JSON: "),
            "{}",
            out.problems[0].reason
        );

        let mut p = parser(Some("explicit"));
        let mut out = run(&mut p, doc.as_bytes(), 50);
        p.finish(&mut out);
        assert_eq!(
            out.events[0].instance.as_deref(),
            Some("explicit"),
            "--instance wins"
        );

        let doc = payload("/my/app", &["\u{1}\u{2} binary noise", "more noise"]);
        let mut p = parser(None);
        let mut out = run(&mut p, doc.as_bytes(), 50);
        p.finish(&mut out);
        assert_eq!(out.unrecognized_lines(), 2);
        assert_eq!(
            out.problems[0].reason,
            "/my/app: no known log format in message"
        );
    }

    #[test]
    fn not_payloads_are_unrecognized() {
        let mut p = parser(None);
        let mut out = run(&mut p, br#"{"messageType":"DATA_MESSAGE","logEvents":{"x":1}} {"foo":1} {"awslogs":{"data":"@@@"}} {"awslogs":{"data":"aGVsbG8="}}"#, 7);
        p.finish(&mut out);
        let reasons: Vec<_> = out.problems.iter().map(|p| p.reason.as_str()).collect();
        assert_eq!(reasons.len(), 4, "{reasons:?}");
        assert!(
            reasons[0].starts_with("invalid cloudwatch logs payload: invalid type: map"),
            "{}",
            reasons[0]
        );
        assert_eq!(reasons[1], "not a cloudwatch logs payload: no logEvents");
        assert!(reasons[2].starts_with("awslogs.data is not base64"));
        assert!(reasons[3].starts_with("awslogs.data is not gzip"));
        assert!(out.events.is_empty());
    }

    #[test]
    fn gzip_bombs_stop_at_the_bound() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let zeros = vec![b' '; 1 << 20];
        for _ in 0..3 {
            std::io::Write::write_all(&mut gz, &zeros).unwrap();
        }
        let data = base64::engine::general_purpose::STANDARD.encode(gz.finish().unwrap());
        let doc = format!(r#"{{"awslogs":{{"data":"{data}"}}}}"#);
        let mut p = parser(None);
        p.max_decoded = 2 << 20;
        let mut out = run(&mut p, doc.as_bytes(), 1 << 16);
        p.finish(&mut out);
        assert_eq!(out.problems.len(), 1);
        assert_eq!(
            out.problems[0].reason,
            "awslogs.data decompresses to more than 2 MiB"
        );
    }

    #[test]
    fn streams_are_bounded() {
        let mut p = parser(None);
        let mut out = Output::new();
        for i in 0..MAX_STREAMS + 10 {
            let doc = serde_json::json!({"messageType":"DATA_MESSAGE","logGroup":"/aws/rds/instance/db/postgresql","logStream":i.to_string(),"logEvents":[]});
            p.push(doc.to_string().as_bytes(), &mut out);
        }
        assert_eq!(p.streams.len(), MAX_STREAMS);
        assert_eq!(p.order.len(), MAX_STREAMS);
        p.finish(&mut out);
    }

    #[test]
    fn sniff_claims_payloads_only() {
        let s = |t: &str| sniff(&Sample::new(t.as_bytes(), true));
        assert_eq!(
            s(std::str::from_utf8(fixture!("cloudwatch-rds-audit.json")).unwrap()),
            100
        );
        assert_eq!(
            s(std::str::from_utf8(fixture!("cloudwatch-lambda.json")).unwrap()),
            100
        );
        assert_eq!(
            s(std::str::from_utf8(fixture!("cloudwatch-rds-postgresql.json")).unwrap()),
            100
        );
        assert_eq!(
            s(std::str::from_utf8(fixture!("s3-records.json")).unwrap()),
            0
        );
        assert_eq!(
            s(r#"{"timestamp":"2026-11-28 15:41:27.158 UTC","user":"app","message":"x"}"#),
            0
        );
        assert_eq!(
            s(
                r#"{ "timestamp": "2020-08-21 17:54:08", "id": 0, "class": "connection", "event": "connect" }"#
            ),
            0
        );
        assert_eq!(
            s("2026-11-28 15:40:00 UTC:10.0.1.23(50512):app@appdb:[4242]:LOG:  x"),
            0
        );
    }

    #[test]
    fn hostile_input_never_panics() {
        let inputs: &[&[u8]] = &[
            b"",
            b"]]]}}}{{{",
            b"{\"logEvents\":[1,2]}",
            b"{\"messageType\":\"DATA_MESSAGE\",\"logGroup\":7,\"logEvents\":[]}",
            b"{\"messageType\":\"DATA_MESSAGE\",\"logGroup\":\"/aws/rds/instance/\\u0000/postgresql\",\"logEvents\":[{\"message\":\"\\ud800\"}]}",
            b"{\"awslogs\":{\"data\":\"H4sI\"}}",
            b"\xff\xfe{\"logEvents\":[{\"message\":\"\xff\"}]}",
        ];
        for input in inputs {
            for chunk in [1, 3, 1000] {
                let mut p = parser(None);
                let mut out = run(&mut p, input, chunk);
                p.finish(&mut out);
                assert!(out.events.is_empty());
            }
        }
    }
}
