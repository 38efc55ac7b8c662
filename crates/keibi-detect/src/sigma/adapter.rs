//! Lets the Sigma engine read a keibi [`Event`] in place: field names are the
//! event's own (`user`, `client_ip`, `statement.text` ...; `docs/rules.md`) and,
//! for CloudTrail, the native record's dotted paths (`eventName`,
//! `requestParameters.publiclyAccessible` ...). Nothing is converted per event.

use std::borrow::Cow;

use keibi_model::event::FieldRef;
use keibi_model::Event;
use rsigma_eval::EventValue;
use serde_json::Value;

/// A borrowed keibi event as the Sigma engine sees it. Values the event holds in
/// another form (the client address, the time) are rendered at most once per event,
/// however many rules read them.
pub struct View<'a> {
    event: &'a Event,
    client_ip: std::cell::OnceCell<Option<String>>,
    time: std::cell::OnceCell<String>,
}

impl<'a> View<'a> {
    pub fn new(event: &'a Event) -> View<'a> {
        View {
            event,
            client_ip: std::cell::OnceCell::new(),
            time: std::cell::OnceCell::new(),
        }
    }
}

/// The string fields that keyword rules (bare values in a detection) search.
const KEYWORD_FIELDS: &[&str] = &[
    "message",
    "statement.text",
    "detail",
    "user",
    "database",
    "application",
    "client_host",
];

impl rsigma_eval::Event for View<'_> {
    fn get_field(&self, path: &str) -> Option<EventValue<'_>> {
        match path {
            "client_ip" => {
                let ip = self
                    .client_ip
                    .get_or_init(|| self.event.client_ip.map(|ip| ip.to_string()));
                return ip.as_deref().map(|s| EventValue::Str(Cow::Borrowed(s)));
            }
            "time" => {
                let t = self.time.get_or_init(|| match self.event.get("time") {
                    Some(FieldRef::Owned(s)) => s,
                    _ => String::new(),
                });
                return Some(EventValue::Str(Cow::Borrowed(t)));
            }
            _ => {}
        }
        Some(match self.event.get(path)? {
            FieldRef::Str(s) => EventValue::Str(Cow::Borrowed(s)),
            FieldRef::Owned(s) => EventValue::Str(Cow::Owned(s)),
            FieldRef::Int(n) => EventValue::Int(n),
            FieldRef::Bool(b) => EventValue::Bool(b),
            // A whole object (`requestParameters`) is matched as its JSON text, as
            // SigmaHQ's CloudTrail rules expect (`requestParameters|contains:
            // 'Suspended'`); its members stay reachable by dotted path.
            FieldRef::Json(v @ Value::Object(_)) => EventValue::Str(Cow::Owned(v.to_string())),
            FieldRef::Json(v) => EventValue::from(v),
        })
    }

    fn any_string_value(&self, pred: &dyn Fn(&str) -> bool) -> bool {
        let mut hit = false;
        self.visit_string_values(&mut |s| hit = hit || pred(s));
        hit
    }

    fn all_string_values(&self) -> Vec<Cow<'_, str>> {
        let mut out = Vec::new();
        self.visit_string_values(&mut |s| out.push(Cow::Owned(s.to_string())));
        out
    }

    fn visit_string_values(&self, visit: &mut dyn FnMut(&str)) {
        let e = self.event;
        for f in KEYWORD_FIELDS {
            if let Some(FieldRef::Str(s)) = e.get(f) {
                visit(s);
            }
        }
        if let Some(record) = e.record.as_deref() {
            visit_json(record, visit, 0);
        }
    }

    fn to_json(&self) -> Value {
        serde_json::to_value(self.event).unwrap_or(Value::Null)
    }
}

fn visit_json(v: &Value, visit: &mut dyn FnMut(&str), depth: usize) {
    if depth > 64 {
        return;
    }
    match v {
        Value::String(s) => visit(s),
        Value::Array(a) => a.iter().for_each(|x| visit_json(x, visit, depth + 1)),
        Value::Object(m) => m.values().for_each(|x| visit_json(x, visit, depth + 1)),
        _ => {}
    }
}
