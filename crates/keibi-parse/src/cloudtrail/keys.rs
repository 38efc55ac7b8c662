//! The keys of the first JSON object of an input, read from a possibly truncated head
//! without parsing it: what both JSON sniffers decide on.

/// Top-level keys of the first object in `head` (or of the first element when the
/// input is an array), in order, at most `limit`; `None` when `head` does not start
/// with a JSON object or array of objects.
pub fn first_object_keys(head: &[u8], limit: usize) -> Option<Vec<&[u8]>> {
    let head = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    let mut i = skip_ws(head, 0);
    if head.get(i) == Some(&b'[') {
        i = skip_ws(head, i + 1);
    }
    if head.get(i) != Some(&b'{') {
        return None;
    }
    let mut keys = Vec::new();
    let mut depth = 0usize;
    while i < head.len() && keys.len() < limit {
        match head[i] {
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            b'"' => {
                let start = i + 1;
                let Some(end) = string_end(head, start) else {
                    break;
                };
                // A string directly inside the first object followed by `:` is a key.
                if depth == 1 && head.get(skip_ws(head, end + 1)) == Some(&b':') {
                    keys.push(&head[start..end]);
                }
                i = end;
            }
            _ => {}
        }
        i += 1;
    }
    Some(keys)
}

/// Index of the closing quote of a string whose contents start at `i`.
fn string_end(b: &[u8], mut i: usize) -> Option<usize> {
    loop {
        let q = i + memchr::memchr2(b'"', b'\\', b.get(i..)?)?;
        if b[q] == b'"' {
            return Some(q);
        }
        i = q + 2;
    }
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while b.get(i).is_some_and(u8::is_ascii_whitespace) {
        i += 1;
    }
    i
}

/// Whether `keys` holds `name`.
pub fn has(keys: &[&[u8]], name: &str) -> bool {
    keys.contains(&name.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(s: &str) -> Option<Vec<String>> {
        first_object_keys(s.as_bytes(), 64).map(|v| {
            v.iter()
                .map(|k| String::from_utf8_lossy(k).into_owned())
                .collect()
        })
    }

    #[test]
    fn top_level_keys_only() {
        assert_eq!(
            keys(r#"{"a":{"b":1,"c":[{"d":2}]},"e\"x":"f:g", "h" : 3}{"z":1}"#).unwrap(),
            ["a", "e\\\"x", "h"]
        );
        assert_eq!(keys("\u{feff}[ {\n \"Records\": [").unwrap(), ["Records"]);
        assert_eq!(keys(r#"{"a":"unterminated"#).unwrap(), ["a"]);
        assert_eq!(keys(r#"{"a\"#).unwrap(), Vec::<String>::new());
        assert_eq!(keys("2026-01-01 LOG: x"), None);
        assert_eq!(keys("[1,2]"), None);
        assert_eq!(keys("}}}{"), None);
    }
}
