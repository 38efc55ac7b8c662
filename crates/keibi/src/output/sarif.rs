//! `keibi audit --format sarif`: SARIF 2.1.0, so that CI systems (GitHub code
//! scanning, GitLab) show posture failures. One rule per control, one result per
//! failed check (a suppressed one carries SARIF's own `suppressions`), each with a
//! logical location naming the resource and, when the failure was read from a
//! saved JSON file, a physical location on that file.
//!
//! Strings are JSON-escaped by serde; SARIF viewers render `text` as plain text
//! (no `markdown` is written), so attacker-written names cannot inject markup.

use std::collections::HashMap;
use std::io::{self, Write};
use std::path::Path;

use keibi_i18n::Locale;
use keibi_model::finding::SeverityLabel;
use keibi_posture::report::{area, Report};
use keibi_posture::{Control, Outcome};
use serde_json::{json, Value};

use super::posture::control_text;

/// The `$schema` a SARIF 2.1.0 log names (OASIS' published schema).
pub const SCHEMA_URI: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// The key of each result's `partialFingerprints`: the finding id, which depends on
/// the control and the resource only.
pub const FINGERPRINT_KEY: &str = "keibiFindingId/v1";

/// SARIF's level for a severity: error for High and Critical, warning for Medium,
/// note for Low.
pub fn level(label: SeverityLabel) -> &'static str {
    match label {
        SeverityLabel::Critical | SeverityLabel::High => "error",
        SeverityLabel::Medium => "warning",
        SeverityLabel::Low => "note",
    }
}

/// A path as a SARIF URI reference: relative paths stay relative (`/`-separated,
/// percent-encoded), absolute ones become `file://` URIs.
pub fn path_uri(p: &Path) -> String {
    let s = p.to_string_lossy().replace('\\', "/");
    let mut enc = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            enc.push(b as char);
        } else {
            enc.push_str(&format!("%{b:02X}"));
        }
    }
    if p.is_absolute() {
        format!("file://{enc}")
    } else {
        enc
    }
}

/// Writes the SARIF log. `files` are the saved JSON files read (their observations
/// point at them); `problems` become the invocation's notifications.
pub fn write_sarif<W: Write>(
    report: &Report,
    files: &[&Path],
    problems: &[String],
    locale: &Locale,
    mut out: W,
) -> io::Result<()> {
    // Rules: every control of the catalog, then any other a result names.
    let mut rules: Vec<&'static Control> = keibi_posture::controls().collect();
    let all = report
        .failed()
        .chain(report.suppressed.iter().map(|s| &s.outcome));
    for o in all {
        if !rules.iter().any(|c| c.id == o.control.id) {
            rules.push(o.control);
        }
    }
    let index: HashMap<&str, usize> = rules.iter().enumerate().map(|(i, c)| (c.id, i)).collect();
    let rule_values: Vec<Value> = rules.iter().map(|c| rule(c, locale)).collect();

    let by_name: HashMap<String, &Path> = files
        .iter()
        .map(|p| (p.display().to_string(), *p))
        .collect();
    let mut results = Vec::new();
    for o in report.failed() {
        results.push(result(o, index[o.control.id], &by_name, locale, None));
    }
    for s in &report.suppressed {
        results.push(result(
            &s.outcome,
            index[s.outcome.control.id],
            &by_name,
            locale,
            Some(&s.reason),
        ));
    }
    let summary = report.summary();
    let t = &summary.total;
    let log = json!({
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "keibi",
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/keibi-dev/keibi",
                "rules": rule_values,
            }},
            "invocations": [{
                "executionSuccessful": true,
                "toolExecutionNotifications": problems.iter().map(|p| json!({
                    "level": "warning",
                    "message": {"text": p},
                })).collect::<Vec<_>>(),
            }],
            "results": results,
            "properties": {
                "score": t.score(),
                "controlsPassed": t.controls_passed,
                "controlsFailed": t.controls_failed,
                "controlsSuppressed": t.controls_suppressed,
                "checksPassed": t.checks_passed,
                "checksFailed": t.checks_failed,
                "checksSuppressed": t.checks_suppressed,
            },
        }],
    });
    serde_json::to_writer_pretty(&mut out, &log).map_err(io::Error::other)?;
    out.write_all(b"\n")?;
    out.flush()
}

fn rule(c: &'static Control, locale: &Locale) -> Value {
    let sev = c.default_severity();
    let help = format!(
        "{}\n{}",
        control_text(c, "console", locale),
        control_text(c, "cli", locale)
    );
    json!({
        "id": c.id,
        "name": c.short,
        "shortDescription": {"text": control_text(c, "title", locale)},
        "fullDescription": {"text": control_text(c, "what", locale)},
        "help": {"text": help},
        "defaultConfiguration": {"level": level(sev.label())},
        "properties": {
            "security-severity": format!("{:.1}", sev.value()),
            "tags": ["security", "posture", area(c.id), c.resource_kind],
            "type": c.finding_type(),
        },
    })
}

fn result(
    o: &Outcome,
    rule_index: usize,
    files: &HashMap<String, &Path>,
    locale: &Locale,
    suppressed: Option<&str>,
) -> Value {
    let r = &o.resource;
    let sev = o.severity.unwrap_or_else(|| o.control.default_severity());
    let scope: Vec<&str> = [r.account.as_deref(), r.region.as_deref()]
        .into_iter()
        .flatten()
        .chain([r.kind.as_str(), r.id.as_str()])
        .collect();
    let mut location = json!({
        "logicalLocations": [{
            "name": r.id,
            "fullyQualifiedName": scope.join("/"),
            "kind": "resource",
        }],
    });
    // A failure read from a saved file points at it (the first such observation):
    // the source is the file, or names it in parentheses after the API call.
    let file = o.evidence.iter().find_map(|e| {
        let s = e.source.as_str();
        files.get(s).or_else(|| {
            let inner = s.strip_suffix(')')?.rsplit_once(" (")?.1;
            files.get(inner)
        })
    });
    if let Some(p) = file {
        location["physicalLocation"] = json!({
            "artifactLocation": {"uri": path_uri(p)},
            "region": {"startLine": 1},
        });
    }
    let evidence: Vec<String> = o
        .evidence
        .iter()
        .map(|e| format!("{}: {}", e.source, e.observed))
        .collect();
    let mut v = json!({
        "ruleId": o.control.id,
        "ruleIndex": rule_index,
        "level": level(sev.label()),
        "message": {"text": format!(
            "{}\n{}",
            locale.render(&o.message("title")),
            locale.render(&o.message("what"))
        )},
        "locations": [location],
        "partialFingerprints": {FINGERPRINT_KEY: o.finding_id()},
        "properties": {
            "severity": sev.value(),
            "resource": {"kind": r.kind, "id": r.id, "account": r.account, "region": r.region},
            "evidence": evidence,
        },
    });
    if let Some(reason) = suppressed {
        v["suppressions"] = json!([{"kind": "external", "justification": reason}]);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use keibi_model::Resource;
    use keibi_posture::report::Suppress;

    static PUBLIC: Control = Control {
        id: "RDS.2",
        short: "PubliclyAccessible",
        severity: 9.0,
        resource_kind: "db_instance",
        mitre: &["T1190"],
        aws_control: true,
        msg: "posture-test-public",
    };
    static LOGS: Control = Control {
        id: "KB.PG.9",
        short: "LogConnections",
        severity: 2.0,
        resource_kind: "database",
        mitre: &[],
        aws_control: false,
        msg: "posture-test-logs",
    };

    fn report() -> Report {
        let res = |kind: &str, id: &str, acct: bool| Resource {
            kind: kind.into(),
            id: id.into(),
            engine: None,
            account: acct.then(|| "123456789012".into()),
            region: acct.then(|| "us-east-1".into()),
        };
        let mut r = Report::new(
            vec![
                Outcome::failed(&PUBLIC, res("db_instance", "prod-db\u{1b}[31m", true))
                    .observed("saved/rds instances.json", "PubliclyAccessible=true"),
                Outcome::failed(&PUBLIC, res("db_instance", "legacy-1", true)),
                Outcome::passed(&PUBLIC, res("db_instance", "dev-db", true)),
                Outcome::failed(&LOGS, res("database", "postgres://db:5432", false))
                    .observed("postgres://db:5432 pg_settings", "log_connections=off"),
            ],
            Utc::now(),
        );
        r.suppress(&[Suppress {
            control: "RDS.2".into(),
            resource: Some("legacy-*".into()),
            reason: "decommissioned on Friday".into(),
        }]);
        r
    }

    fn sarif(r: &Report) -> Value {
        let mut out = Vec::new();
        let files = [Path::new("saved/rds instances.json")];
        write_sarif(
            r,
            &files,
            &["x.json: not JSON".into()],
            &Locale::english_utc(),
            &mut out,
        )
        .unwrap();
        serde_json::from_slice(&out).unwrap()
    }

    #[test]
    fn results_rules_levels_locations_and_fingerprints() {
        let r = report();
        let v = sarif(&r);
        assert_eq!(v["version"], "2.1.0");
        let run = &v["runs"][0];
        let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
        // Every control of the catalog is a rule; the test's two share ids with it.
        assert_eq!(rules.len(), keibi_posture::controls().count());
        let at = |id: &str| rules.iter().position(|r| r["id"] == id).unwrap();
        let public_rule = &rules[at("RDS.2")];
        assert_eq!(public_rule["name"], "PubliclyAccessible");
        assert_eq!(public_rule["properties"]["security-severity"], "9.0");
        assert!(rules[at("KB.PG.9")]["properties"]["security-severity"].is_string());
        let results = run["results"].as_array().unwrap();
        assert_eq!(results.len(), 3);
        let public = &results[0];
        assert_eq!(public["ruleId"], "RDS.2");
        assert_eq!(public["ruleIndex"], at("RDS.2"));
        assert_eq!(public["level"], "error");
        let loc = &public["locations"][0];
        assert_eq!(loc["logicalLocations"][0]["name"], "prod-db\u{1b}[31m");
        assert_eq!(
            loc["physicalLocation"]["artifactLocation"]["uri"],
            "saved/rds%20instances.json"
        );
        let id = r.failed().next().unwrap().finding_id();
        assert_eq!(public["partialFingerprints"][FINGERPRINT_KEY], id.as_str());
        let logs = &results[1];
        assert_eq!(logs["level"], "note");
        assert!(logs["locations"][0].get("physicalLocation").is_none());
        let sup = &results[2];
        assert_eq!(
            sup["suppressions"][0]["justification"],
            "decommissioned on Friday"
        );
        assert_eq!(
            run["invocations"][0]["toolExecutionNotifications"][0]["message"]["text"],
            "x.json: not JSON"
        );
        assert_eq!(run["properties"]["checksSuppressed"], 1);
    }

    #[test]
    fn the_log_is_valid_against_the_sarif_2_1_0_schema() {
        let schema: Value = serde_json::from_str(include_str!(
            "../../tests/data/sarif/sarif-schema-2.1.0.json"
        ))
        .unwrap();
        let v = sarif(&report());
        let mut errors = Vec::new();
        validate(&schema, &schema, &v, "$", &mut errors);
        assert!(errors.is_empty(), "{errors:#?}");
        // The validator does find what the schema forbids.
        let mut bad = v.clone();
        bad["runs"][0]["results"][0]["level"] = json!("fatal");
        bad["runs"][0]["results"][1]
            .as_object_mut()
            .unwrap()
            .remove("message");
        bad["runs"][0]["tool"]["driver"]["rules"][0]["nmae"] = json!("x");
        bad["runs"][0]["results"][0]["ruleIndex"] = json!(-2);
        let mut errors = Vec::new();
        validate(&schema, &schema, &bad, "$", &mut errors);
        assert_eq!(errors.len(), 4, "{errors:#?}");
    }

    #[test]
    fn uris_are_encoded() {
        assert_eq!(path_uri(Path::new("a b/c#d.json")), "a%20b/c%23d.json");
        assert_eq!(path_uri(Path::new("/tmp/x.json")), "file:///tmp/x.json");
    }

    /// A draft-04 JSON Schema validator of the keywords the SARIF schema uses
    /// (`pattern` and `format` aside): enough to catch a wrong shape.
    fn validate(root: &Value, s: &Value, v: &Value, at: &str, errors: &mut Vec<String>) {
        if let Some(r) = s.get("$ref").and_then(Value::as_str) {
            let name = r.strip_prefix("#/definitions/").expect("local refs only");
            return validate(root, &root["definitions"][name], v, at, errors);
        }
        if let Some(t) = s.get("type") {
            let types: Vec<&str> = match t {
                Value::String(t) => vec![t.as_str()],
                Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
                _ => vec![],
            };
            let ok = types.iter().any(|t| match *t {
                "object" => v.is_object(),
                "array" => v.is_array(),
                "string" => v.is_string(),
                "integer" => v.is_i64() || v.is_u64(),
                "number" => v.is_number(),
                "boolean" => v.is_boolean(),
                "null" => v.is_null(),
                _ => false,
            });
            if !ok {
                errors.push(format!("{at}: not of type {types:?}: {v}"));
                return;
            }
        }
        if let Some(e) = s.get("enum").and_then(Value::as_array) {
            if !e.contains(v) {
                errors.push(format!("{at}: {v} not in {e:?}"));
            }
        }
        if let (Some(min), Some(n)) = (s.get("minimum").and_then(Value::as_f64), v.as_f64()) {
            if n < min {
                errors.push(format!("{at}: {n} < {min}"));
            }
        }
        if let (Some(min), Some(a)) = (s.get("minItems").and_then(Value::as_u64), v.as_array()) {
            if (a.len() as u64) < min {
                errors.push(format!("{at}: fewer than {min} items"));
            }
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(alts) = s.get(key).and_then(Value::as_array) {
                let passing = alts
                    .iter()
                    .filter(|alt| {
                        let mut e = Vec::new();
                        validate(root, alt, v, at, &mut e);
                        e.is_empty()
                    })
                    .count();
                if passing == 0 || (key == "oneOf" && passing != 1) {
                    errors.push(format!("{at}: {key} matched {passing}"));
                }
            }
        }
        if let Some(a) = v.as_array() {
            if let Some(items) = s.get("items") {
                for (i, x) in a.iter().enumerate() {
                    validate(root, items, x, &format!("{at}[{i}]"), errors);
                }
            }
        }
        if let Some(o) = v.as_object() {
            if let Some(req) = s.get("required").and_then(Value::as_array) {
                for k in req.iter().filter_map(Value::as_str) {
                    if !o.contains_key(k) {
                        errors.push(format!("{at}: missing required {k}"));
                    }
                }
            }
            let props = s.get("properties").and_then(Value::as_object);
            for (k, x) in o {
                match props.and_then(|p| p.get(k)) {
                    Some(ps) => validate(root, ps, x, &format!("{at}.{k}"), errors),
                    None => match s.get("additionalProperties") {
                        Some(Value::Bool(false)) => {
                            errors.push(format!("{at}: unexpected property {k}"))
                        }
                        Some(extra @ Value::Object(_)) => {
                            validate(root, extra, x, &format!("{at}.{k}"), errors)
                        }
                        _ => {}
                    },
                }
            }
        }
    }
}
