//! Lenient readers for the AWS shapes: the AWS CLI writes JSON with typed values and
//! plain arrays; the Query APIs (RDS, EC2) answer XML, which `keibi-aws` turns into
//! JSON with every value a string and every list wrapped in an element (`<item>`,
//! `<member>`, `<DBInstance>`). Both load into the same types through these.

use serde::de::{DeserializeOwned, Deserializer};
use serde::Deserialize;
use serde_json::Value;

/// `true`, `"true"`, `"True"`; anything else (or null) is false.
pub fn bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(opt_bool(d)?.unwrap_or(false))
}

/// `true`, `"true"` …; `None` when absent or null.
pub fn opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Bool(b) => Some(b),
        Value::String(s) => match s.trim() {
            t if t.eq_ignore_ascii_case("true") => Some(true),
            t if t.eq_ignore_ascii_case("false") => Some(false),
            _ => None,
        },
        Value::Number(n) => Some(n.as_i64() != Some(0)),
        _ => None,
    })
}

/// A number or a string holding one; `None` when absent, null or not a number.
pub fn opt_int<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    })
}

/// A string, or a number or boolean written as one; `None` when absent or null.
pub fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => Some(s),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    })
}

/// A list: a JSON array; or a wrapper object with one key (`{"item": [...]}`,
/// `{"DBInstance": {...}}`, `{"member": "postgresql"}`) around an array or one
/// element; null or absent is empty. Elements that do not read as `T` are skipped:
/// one odd entry does not lose the rest of the inventory.
pub fn list<'de, D: Deserializer<'de>, T: DeserializeOwned>(d: D) -> Result<Vec<T>, D::Error> {
    Ok(list_of(Value::deserialize(d)?))
}

/// [`list`] over a value already read.
pub fn list_of<T: DeserializeOwned>(v: Value) -> Vec<T> {
    match v {
        Value::Null => Vec::new(),
        Value::Array(items) => items
            .into_iter()
            .filter_map(|i| unwrap_one::<T>(i))
            .collect(),
        Value::Object(ref m) if m.len() == 1 => {
            let inner = m.values().next().cloned().unwrap_or(Value::Null);
            match inner {
                Value::Array(_) => list_of(inner),
                other => match serde_json::from_value::<T>(other) {
                    Ok(t) => vec![t],
                    Err(_) => serde_json::from_value::<T>(v).into_iter().collect(),
                },
            }
        }
        Value::String(ref s) if s.trim().is_empty() => Vec::new(),
        other => serde_json::from_value::<T>(other).into_iter().collect(),
    }
}

fn unwrap_one<T: DeserializeOwned>(v: Value) -> Option<T> {
    serde_json::from_value::<T>(v).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct L {
        #[serde(default, deserialize_with = "list")]
        v: Vec<String>,
    }

    fn l(json: &str) -> Vec<String> {
        serde_json::from_str::<L>(json).unwrap().v
    }

    #[test]
    fn lists_come_plain_wrapped_single_or_empty() {
        assert_eq!(l(r#"{"v":["a","b"]}"#), ["a", "b"]);
        assert_eq!(l(r#"{"v":{"member":["a","b"]}}"#), ["a", "b"]);
        assert_eq!(l(r#"{"v":{"member":"a"}}"#), ["a"]);
        assert_eq!(l(r#"{"v":null}"#), Vec::<String>::new());
        assert_eq!(l(r#"{}"#), Vec::<String>::new());
        assert_eq!(l(r#"{"v":["a",1,"c"]}"#), ["a", "c"]);
    }
}
