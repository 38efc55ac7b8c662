//! The XML answers of the Query APIs (RDS, EC2, STS) as JSON values, so they load
//! into `keibi-posture`'s model like the AWS CLI's output: an element with child
//! elements is an object, a leaf is a string, a repeated child is an array, and each
//! name has its first letter upper-cased (EC2's `groupId` becomes the CLI's
//! `GroupId`; `item` becomes `Item`, a list wrapper the model's readers unwrap).
//! Attributes, namespaces, comments and processing instructions are dropped.
//!
//! The input is untrusted: nesting is bounded and the conversion is iterative (no
//! recursion to overflow the stack); the size is bounded by the caller.

use serde_json::{Map, Value};

/// Nesting deeper than this is refused (AWS answers nest about 8 deep).
pub const MAX_DEPTH: usize = 64;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum XmlError {
    #[error("not well-formed XML: {0}")]
    Syntax(String),
    #[error("XML nested deeper than {MAX_DEPTH} elements")]
    TooDeep,
    #[error("no root element")]
    Empty,
}

struct Frame {
    name: String,
    children: Map<String, Value>,
    text: String,
    has_children: bool,
}

/// The root element's name and value.
pub fn to_json(xml: &str) -> Result<(String, Value), XmlError> {
    use xmlparser::{ElementEnd, Token, Tokenizer};
    let mut stack: Vec<Frame> = Vec::new();
    let mut root = None;
    for token in Tokenizer::from(xml) {
        let token = token.map_err(|e| XmlError::Syntax(e.to_string()))?;
        match token {
            Token::ElementStart { local, .. } => {
                if root.is_some() {
                    return Err(XmlError::Syntax("content after the root element".into()));
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(XmlError::TooDeep);
                }
                if let Some(parent) = stack.last_mut() {
                    parent.has_children = true;
                }
                stack.push(Frame {
                    name: upper_first(local.as_str()),
                    children: Map::new(),
                    text: String::new(),
                    has_children: false,
                });
            }
            Token::ElementEnd { end, .. } => match end {
                ElementEnd::Open => {}
                ElementEnd::Close(..) | ElementEnd::Empty => {
                    let frame = stack
                        .pop()
                        .ok_or_else(|| XmlError::Syntax("unbalanced end tag".into()))?;
                    let value = if frame.has_children {
                        Value::Object(frame.children)
                    } else {
                        Value::String(frame.text)
                    };
                    match stack.last_mut() {
                        Some(parent) => insert(&mut parent.children, frame.name, value),
                        None => root = Some((frame.name, value)),
                    }
                }
            },
            Token::Text { text } => {
                if let Some(top) = stack.last_mut() {
                    unescape_into(text.as_str(), &mut top.text);
                }
            }
            Token::Cdata { text, .. } => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(text.as_str());
                }
            }
            _ => {}
        }
    }
    if !stack.is_empty() {
        return Err(XmlError::Syntax("unclosed element".into()));
    }
    root.ok_or(XmlError::Empty)
}

/// A second child of the same name turns the entry into an array (values made here
/// are otherwise only objects and strings, so an array is always such a list).
fn insert(map: &mut Map<String, Value>, name: String, value: Value) {
    match map.get_mut(&name) {
        None => {
            map.insert(name, value);
        }
        Some(Value::Array(items)) => items.push(value),
        Some(existing) => {
            let first = existing.take();
            *existing = Value::Array(vec![first, value]);
        }
    }
}

fn upper_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// XML's five entities and character references; anything else is kept as written.
fn unescape_into(s: &str, out: &mut String) {
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let Some(semi) = after.find(';').filter(|&i| i <= 10) else {
            out.push('&');
            rest = after;
            continue;
        };
        let entity = &after[..semi];
        let c = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            e if e.starts_with("#x") || e.starts_with("#X") => u32::from_str_radix(&e[2..], 16)
                .ok()
                .and_then(char::from_u32),
            e if e.starts_with('#') => e[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        };
        match c {
            Some(c) => {
                out.push(c);
                rest = &after[semi + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
}

/// The elements of a list, however it came: an array, a wrapper object with one key
/// (`{"Item": [...]}`, `{"DBInstance": {...}}`) around an array or one element, or
/// an empty element (`""`).
pub fn items(v: &Value) -> Vec<Value> {
    match v {
        Value::Array(a) => a.clone(),
        Value::Object(m) if m.len() == 1 => match m.values().next() {
            Some(Value::Array(a)) => a.clone(),
            Some(one) => vec![one.clone()],
            None => Vec::new(),
        },
        Value::Object(m) if m.is_empty() => Vec::new(),
        Value::String(s) if s.trim().is_empty() => Vec::new(),
        Value::Null => Vec::new(),
        other => vec![other.clone()],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ec2_answers_become_cli_shaped_json() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<DescribeSecurityGroupsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
  <requestId>r-1</requestId>
  <securityGroupInfo>
    <item><groupId>sg-1</groupId><groupName>a &amp; b &lt;x&gt; &#x41;&#66;</groupName>
      <ipPermissions><item><ipProtocol>tcp</ipProtocol><fromPort>5432</fromPort>
        <ipRanges><item><cidrIp>0.0.0.0/0</cidrIp></item></ipRanges></item></ipPermissions>
      <ipPermissionsEgress/>
    </item>
    <item><groupId>sg-2</groupId></item>
  </securityGroupInfo>
  <nextToken><![CDATA[t&1]]></nextToken>
</DescribeSecurityGroupsResponse>"#;
        let (name, v) = to_json(xml).unwrap();
        assert_eq!(name, "DescribeSecurityGroupsResponse");
        assert_eq!(v["NextToken"], "t&1");
        let groups = items(&v["SecurityGroupInfo"]);
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0]["GroupName"], "a & b <x> AB");
        assert_eq!(
            groups[0]["IpPermissions"],
            json!({"Item": {"IpProtocol": "tcp", "FromPort": "5432",
                "IpRanges": {"Item": {"CidrIp": "0.0.0.0/0"}}}})
        );
        assert!(items(&groups[0]["IpPermissionsEgress"]).is_empty());
    }

    #[test]
    fn hostile_xml_is_an_error_not_a_crash() {
        let deep = "<a>".repeat(MAX_DEPTH + 1) + &"</a>".repeat(MAX_DEPTH + 1);
        assert_eq!(to_json(&deep), Err(XmlError::TooDeep));
        assert!(to_json("<a><b></a>").is_err());
        assert!(to_json("<a>").is_err());
        assert_eq!(to_json(""), Err(XmlError::Empty));
        assert!(to_json("<a/><b/>").is_err());
        let (_, v) = to_json("<a>&bogus; &#xFFFFFFFF; &</a>").unwrap();
        assert_eq!(v, "&bogus; &#xFFFFFFFF; &");
    }
}
