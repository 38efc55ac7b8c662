//! One CloudTrail record to one [`Event`], and the envelopes records arrive in, told
//! apart by their keys so that every delivery path (S3 files, JSON lines, Event history
//! exports, EventBridge) ends in the same mapping.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use keibi_model::{Action, CompactString, Event, SourceKind};
use serde_json::{Map, Value};

use crate::time::{parse_ymd_hms, to_utc, zone_offset};
use crate::Output;

/// Largest record read: CloudTrail caps a record far below this (additionalEventData is
/// at most 28 KB, requestParameters a few hundred KB), so anything bigger is not one.
pub const MAX_RECORD: usize = 8 << 20;

/// Envelopes inside envelopes (a lookup-events item inside a `Records` array inside a
/// string) never go deeper than this; a deeper document is hostile.
const MAX_DEPTH: u32 = 6;

/// What every event from one input shares.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub file: Arc<str>,
    pub instance: Option<CompactString>,
}

/// Reads one JSON value that holds CloudTrail records in any envelope, starting at
/// `line`. Invalid JSON is one unrecognized record with serde's message.
pub fn read_slice(bytes: &[u8], line: u64, ctx: &Ctx, out: &mut Output) {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(v) => read_value(v, line, ctx, out),
        Err(e) => out.unrecognized(line, format!("invalid JSON: {e}")),
    }
}

/// Reads one parsed JSON value holding records: a record, a document or item that wraps
/// records, a string that contains one, or a digest file (skipped).
pub fn read_value(v: Value, line: u64, ctx: &Ctx, out: &mut Output) {
    walk(v, line, ctx, out, 0);
}

fn walk(v: Value, line: u64, ctx: &Ctx, out: &mut Output, depth: u32) {
    if depth > MAX_DEPTH {
        out.unrecognized(line, "records nested too deeply");
        return;
    }
    let mut obj = match v {
        Value::Object(m) => m,
        // Console downloads and some exporters carry a record as a JSON string.
        Value::String(s) => {
            match serde_json::from_str::<Value>(&s) {
                Ok(inner @ Value::Object(_)) => walk(inner, line, ctx, out, depth + 1),
                Ok(_) => out.unrecognized(line, "expected a cloudtrail record, found a string"),
                Err(e) => out.unrecognized(line, format!("invalid JSON in record string: {e}")),
            }
            return;
        }
        Value::Array(items) => {
            for item in items {
                walk(item, line, ctx, out, depth + 1);
            }
            return;
        }
        other => {
            let what = match other {
                Value::Null => "null",
                Value::Bool(_) => "a boolean",
                _ => "a number",
            };
            out.unrecognized(
                line,
                format!("expected a cloudtrail record object, found {what}"),
            );
            return;
        }
    };
    let (has_time, has_name) = (obj.contains_key("eventTime"), obj.contains_key("eventName"));
    if has_time && has_name {
        match to_event(obj, line, ctx) {
            Ok(e) => out.event(e),
            Err(reason) => out.unrecognized(line, reason),
        }
        return;
    }
    // S3 delivery files (`Records`) and `aws cloudtrail lookup-events` output (`Events`).
    for key in ["Records", "Events"] {
        if let Some(Value::Array(items)) = obj.remove(key) {
            for item in items {
                walk(item, line, ctx, out, depth + 1);
            }
            return;
        }
    }
    // A lookup-events item (also what the console's Event history shows): the record is
    // the `CloudTrailEvent` string.
    if let Some(inner) = obj.remove("CloudTrailEvent") {
        walk(inner, line, ctx, out, depth + 1);
        return;
    }
    // EventBridge: `AWS API Call via CloudTrail`, `AWS Console Sign In via CloudTrail`
    // and the other CloudTrail detail-types carry the record as `detail`.
    if obj.contains_key("detail-type") {
        match obj.remove("detail") {
            Some(detail @ Value::Object(_)) => walk(detail, line, ctx, out, depth + 1),
            _ => out.unrecognized(line, "eventbridge event without a detail object"),
        }
        return;
    }
    if is_digest(&obj) {
        return;
    }
    let missing = match (has_time, has_name) {
        (true, _) => "eventName",
        (false, true) => "eventTime",
        (false, false) => "eventTime and eventName",
    };
    out.unrecognized(line, format!("not a cloudtrail record: no {missing}"));
}

/// A CloudTrail digest file (integrity hashes of log files): no events in it.
fn is_digest(obj: &Map<String, Value>) -> bool {
    obj.contains_key("digestStartTime")
        || (obj.contains_key("awsAccountId") && obj.contains_key("digestEndTime"))
}

/// Whether a JSON object is a CloudTrail record rather than an envelope.
pub fn is_record(v: &Value) -> bool {
    v.get("eventTime").is_some() && v.get("eventName").is_some()
}

fn str_of<'a>(m: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    m.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// What CloudTrail writes as `userName` of a failed console sign-in whose user name
/// does not exist, so that a typo (often a password typed in the name field) is not logged.
pub const HIDDEN_NAME: &str = "HIDDEN_DUE_TO_SECURITY_REASONS";

/// The principal who made the call, for `Event::user`. In order:
///
/// 1. `userIdentity.arn`: the IAM user, root, federated user, or for an assumed role
///    the session ARN (`arn:aws:sts::<acct>:assumed-role/<role>/<session>`);
/// 2. `userIdentity.sessionContext.sessionIssuer.arn`: the role behind a session whose
///    record has no ARN of its own;
/// 3. `userIdentity.invokedBy`: the AWS service that called (`rds.amazonaws.com`);
/// 4. `userIdentity.userName`: an IAM user whose record names no ARN (a failed console
///    sign-in, some older records) is named as a person reads it, not by its opaque id;
/// 5. `userIdentity.principalId` (then `HIDDEN_DUE_TO_SECURITY_REASONS`, the name AWS
///    writes for a failed sign-in to a user that does not exist);
/// 6. `userIdentity.type` (`AWSAccount`, `Unknown` ...), so an event always says what
///    kind of caller it was when the record says anything about it.
///
/// Empty strings are skipped at every step.
pub fn principal(record: &Map<String, Value>) -> Option<CompactString> {
    let id = record.get("userIdentity")?.as_object()?;
    let issuer = || {
        id.get("sessionContext")?
            .get("sessionIssuer")?
            .get("arn")?
            .as_str()
            .filter(|s| !s.is_empty())
    };
    str_of(id, "arn")
        .or_else(issuer)
        .or_else(|| str_of(id, "invokedBy"))
        .or_else(|| str_of(id, "userName").filter(|n| *n != HIDDEN_NAME))
        .or_else(|| str_of(id, "principalId"))
        .or_else(|| str_of(id, "userName"))
        .or_else(|| str_of(id, "type"))
        .map(Into::into)
}

/// Parses `eventTime`: RFC 3339 with or without fractional seconds, `Z` or an offset.
pub fn parse_event_time(s: &str) -> Option<DateTime<Utc>> {
    let b = s.as_bytes();
    let (naive, used) = parse_ymd_hms(b)?;
    let rest = s.get(used..)?;
    let offset = match rest {
        "" | "Z" | "z" => return Some(DateTime::from_naive_utc_and_offset(naive, Utc)),
        zone => zone_offset(zone)?,
    };
    Some(to_utc(naive, offset))
}

/// Maps one record; `Err` is the reason it is not readable.
pub fn to_event(record: Map<String, Value>, line: u64, ctx: &Ctx) -> Result<Event, String> {
    let time = match record.get("eventTime") {
        Some(Value::String(s)) => parse_event_time(s).ok_or_else(|| {
            let shown: String = s.chars().take(64).collect();
            format!("invalid eventTime '{shown}'")
        })?,
        _ => return Err("eventTime is not a string".to_string()),
    };
    let mut e = Event::new(
        time,
        SourceKind::Cloudtrail,
        ctx.file.clone(),
        line,
        Action::ApiCall,
    );
    e.instance.clone_from(&ctx.instance);
    if let Some(ip) = str_of(&record, "sourceIPAddress") {
        e.set_client(ip);
    }
    e.user = principal(&record);
    e.application = str_of(&record, "userAgent").map(Into::into);
    e.error_code = str_of(&record, "errorCode").map(Into::into);
    e.session_id = str_of(&record, "eventID").map(Into::into);
    let name = str_of(&record, "eventName").unwrap_or_default();
    e.message = Some(match str_of(&record, "eventSource") {
        Some(source) => format!("{source}:{name}"),
        None => name.to_string(),
    });
    e.record = Some(Box::new(Value::Object(record)));
    Ok(e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use keibi_model::event::FieldRef;

    fn ctx() -> Ctx {
        Ctx {
            file: Arc::from("t.json"),
            instance: None,
        }
    }

    fn read(doc: &str) -> Output {
        let mut out = Output::new();
        read_slice(doc.as_bytes(), 1, &ctx(), &mut out);
        out
    }

    const MODIFY: &str = r#"{"eventVersion":"1.09","userIdentity":{"type":"AssumedRole","principalId":"AROAEXAMPLE:ops","arn":"arn:aws:sts::123456789012:assumed-role/Admin/ops","accountId":"123456789012","accessKeyId":"ASIAEXAMPLE","sessionContext":{"sessionIssuer":{"type":"Role","principalId":"AROAEXAMPLE","arn":"arn:aws:iam::123456789012:role/Admin","accountId":"123456789012","userName":"Admin"},"attributes":{"creationDate":"2026-11-28T15:00:00Z","mfaAuthenticated":"false"}}},"eventTime":"2026-11-28T15:41:27Z","eventSource":"rds.amazonaws.com","eventName":"ModifyDBInstance","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.9","userAgent":"aws-cli/2.15.0","requestParameters":{"dBInstanceIdentifier":"production-db","publiclyAccessible":true,"applyImmediately":true},"responseElements":null,"requestID":"r-1","eventID":"e-1","readOnly":false,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"123456789012","eventCategory":"Management"}"#;

    #[test]
    fn record_fields_are_lifted_and_kept() {
        let out = read(MODIFY);
        assert!(out.problems.is_empty(), "{:?}", out.problems);
        let e = &out.events[0];
        assert_eq!(e.time.to_rfc3339(), "2026-11-28T15:41:27+00:00");
        assert_eq!(e.action, Action::ApiCall);
        assert_eq!(e.source, SourceKind::Cloudtrail);
        assert_eq!(e.client_ip, Some("203.0.113.9".parse().unwrap()));
        assert_eq!(
            e.user.as_deref(),
            Some("arn:aws:sts::123456789012:assumed-role/Admin/ops")
        );
        assert_eq!(e.application.as_deref(), Some("aws-cli/2.15.0"));
        assert_eq!(
            e.message.as_deref(),
            Some("rds.amazonaws.com:ModifyDBInstance")
        );
        assert_eq!(e.session_id.as_deref(), Some("e-1"));
        assert_eq!(e.error_code, None);
        assert_eq!(
            e.get("requestParameters.publiclyAccessible"),
            Some(FieldRef::Bool(true))
        );
        assert_eq!(
            e.get("userIdentity.sessionContext.sessionIssuer.userName"),
            Some(FieldRef::Str("Admin"))
        );
    }

    #[test]
    fn principal_falls_back_in_documented_order() {
        let p = |id: Value| {
            let rec = serde_json::json!({ "userIdentity": id });
            principal(rec.as_object().unwrap())
        };
        let issuer = serde_json::json!({"type":"AssumedRole","arn":"",
            "sessionContext":{"sessionIssuer":{"arn":"arn:aws:iam::1:role/R"}}});
        assert_eq!(p(issuer).as_deref(), Some("arn:aws:iam::1:role/R"));
        let svc = serde_json::json!({"type":"AWSService","invokedBy":"rds.amazonaws.com"});
        assert_eq!(p(svc).as_deref(), Some("rds.amazonaws.com"));
        let acct = serde_json::json!({"type":"AWSAccount","principalId":"AIDAX","accountId":"1"});
        assert_eq!(p(acct).as_deref(), Some("AIDAX"));
        let hidden = serde_json::json!({"type":"IAMUser","principalId":"","userName":"HIDDEN_DUE_TO_SECURITY_REASONS"});
        assert_eq!(p(hidden).as_deref(), Some("HIDDEN_DUE_TO_SECURITY_REASONS"));
        // A user named, with no ARN (issue 13 §8): the name, not the opaque id.
        let named = serde_json::json!({"type":"IAMUser","principalId":"AIDAEXAMPLE","accountId":"1","userName":"alice"});
        assert_eq!(p(named).as_deref(), Some("alice"));
        let hidden_with_id = serde_json::json!({"type":"IAMUser","principalId":"AIDAEXAMPLE","userName":"HIDDEN_DUE_TO_SECURITY_REASONS"});
        assert_eq!(p(hidden_with_id).as_deref(), Some("AIDAEXAMPLE"));
        let with_arn = serde_json::json!({"type":"IAMUser","principalId":"AIDAEXAMPLE","arn":"arn:aws:iam::1:user/alice","userName":"alice"});
        assert_eq!(p(with_arn).as_deref(), Some("arn:aws:iam::1:user/alice"));
        assert_eq!(
            p(serde_json::json!({"type":"Unknown"})).as_deref(),
            Some("Unknown")
        );
        assert_eq!(p(serde_json::json!("not an object")), None);
    }

    #[test]
    fn event_times_with_and_without_fractions_and_offsets() {
        let t = |s| parse_event_time(s).map(|t| t.to_rfc3339());
        assert_eq!(
            t("2024-08-01T12:38:06Z").as_deref(),
            Some("2024-08-01T12:38:06+00:00")
        );
        assert_eq!(
            t("2024-08-01T12:38:06.123Z").as_deref(),
            Some("2024-08-01T12:38:06.123+00:00")
        );
        assert_eq!(
            t("2024-08-01T12:38:06+09:00").as_deref(),
            Some("2024-08-01T03:38:06+00:00")
        );
        assert_eq!(
            t("2024-08-01T12:38:06"),
            Some("2024-08-01T12:38:06+00:00".into())
        );
        assert_eq!(t("2024-08-01T12:38:06Zjunk"), None);
        assert_eq!(t("yesterday"), None);
        assert_eq!(t("2024-08-01T12:38:06é"), None);
    }

    #[test]
    fn service_names_go_to_client_host() {
        let out = read(
            r#"{"eventTime":"2026-01-01T00:00:00Z","eventName":"X","sourceIPAddress":"AWS Internal","userIdentity":{"type":"AWSService","invokedBy":"rds.amazonaws.com"}}"#,
        );
        let e = &out.events[0];
        assert_eq!(e.client_ip, None);
        assert_eq!(e.client_host.as_deref(), Some("AWS Internal"));
        assert_eq!(
            e.message.as_deref(),
            Some("X"),
            "no eventSource: the name alone"
        );
    }

    #[test]
    fn envelopes_nest() {
        let lookup = format!(
            r#"{{"Events":[{{"EventId":"e-1","EventName":"ModifyDBInstance","CloudTrailEvent":{}}}],"NextToken":"t"}}"#,
            serde_json::to_string(MODIFY).unwrap()
        );
        let out = read(&lookup);
        assert!(out.problems.is_empty(), "{:?}", out.problems);
        assert_eq!(out.events.len(), 1);
        assert_eq!(
            out.events[0].get("requestParameters.dBInstanceIdentifier"),
            Some(FieldRef::Str("production-db"))
        );
        let strings = format!(
            r#"{{"Records":[{}, {MODIFY}]}}"#,
            serde_json::to_string(MODIFY).unwrap()
        );
        assert_eq!(read(&strings).events.len(), 2);
        let bridge = format!(
            r#"{{"version":"0","id":"x","detail-type":"AWS API Call via CloudTrail","source":"aws.rds","detail":{MODIFY}}}"#
        );
        assert_eq!(read(&bridge).events.len(), 1);
    }

    #[test]
    fn what_is_not_a_record_says_what_is_missing() {
        let out = read(r#"{"eventName":"X"}"#);
        assert_eq!(
            out.problems[0].reason,
            "not a cloudtrail record: no eventTime"
        );
        let out = read(r#"{"timestamp":"2026-01-01","user":"x"}"#);
        assert_eq!(
            out.problems[0].reason,
            "not a cloudtrail record: no eventTime and eventName"
        );
        let out = read(r#"{"eventTime":"soon","eventName":"X"}"#);
        assert_eq!(out.problems[0].reason, "invalid eventTime 'soon'");
        let out = read(r#"{"Records":[1, "{\"a\":", null]}"#);
        assert_eq!(out.problems.len(), 3);
        assert!(out.problems[1]
            .reason
            .starts_with("invalid JSON in record string: "));
        let out = read(r#"{"detail-type":"AWS API Call via CloudTrail","detail":"x"}"#);
        assert_eq!(
            out.problems[0].reason,
            "eventbridge event without a detail object"
        );
        let out = read(r#"{"eventTime":"2026-01-01T00:00:00Z","#);
        assert!(
            out.problems[0].reason.starts_with("invalid JSON: "),
            "{}",
            out.problems[0].reason
        );
        assert!(out.events.is_empty());
    }

    #[test]
    fn digests_are_skipped_silently() {
        let out = read(
            r#"{"awsAccountId":"123456789012","digestStartTime":"2026-01-01T00:00:00Z","digestEndTime":"2026-01-01T01:00:00Z","logFiles":[]}"#,
        );
        assert!(out.is_empty());
    }

    #[test]
    fn hostile_nesting_is_bounded() {
        let mut s = MODIFY.to_string();
        for _ in 0..10 {
            s = format!(r#"{{"Records":[{s}]}}"#);
        }
        let out = read(&s);
        assert_eq!(out.problems[0].reason, "records nested too deeply");
        let twice = serde_json::to_string(&serde_json::to_string(MODIFY).unwrap()).unwrap();
        let out = read(&twice);
        assert_eq!(
            out.problems[0].reason,
            "expected a cloudtrail record, found a string"
        );
    }
}
