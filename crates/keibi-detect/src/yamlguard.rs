//! Bounds on YAML that keibi is handed (Sigma rule files, `--config`), checked
//! before the text reaches a deserializer.
//!
//! A few KB of YAML can cost gigabytes or minutes: aliases of aliases expand
//! exponentially into values (a "billion laughs"), and libyaml's scanner is quadratic
//! in flow nesting depth (200 KB of `[[[[...` takes tens of seconds before any
//! depth limit of a deserializer is reached). So the text is first walked as a
//! stream of parser events by the same parser the deserializers use (libyaml, via
//! `libyaml-rs`, the engine of `yaml_serde`): the walk stops at the first anchor or
//! alias, past a nesting depth or a number of nodes, without building anything, and
//! its cost is linear because it never goes deeper than the limit. A syntax error is
//! left for the deserializer to report (it stops at the same place).
//!
//! This is the one module of the crate with `unsafe` code: libyaml-rs is a
//! transpilation of C libyaml and keeps its C API. Every pointer is confined to
//! [`Events`], which owns its parser and the input it reads.

use std::fmt;

use libyaml_rs as sys;

/// What a file may contain.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// File size in bytes.
    pub max_bytes: usize,
    /// Nesting of sequences and mappings.
    pub max_depth: usize,
    /// Scalars, sequences and mappings in the whole file (all documents).
    pub max_nodes: usize,
    /// What the file is, for messages: "rule files", "configuration files".
    pub what: &'static str,
}

/// Why a YAML text was refused. Lines are 1-based.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum YamlLimitError {
    #[error("{size} bytes: {what} are limited to {max} bytes")]
    TooLarge {
        size: usize,
        max: usize,
        what: &'static str,
    },
    #[error("line {line}: aliases (*name) and anchors (&name) are not allowed in {what}")]
    Alias { line: u64, what: &'static str },
    #[error("line {line}: nested more than {max} levels deep, the limit for {what}")]
    TooDeep {
        line: u64,
        max: usize,
        what: &'static str,
    },
    #[error("line {line}: more than {max} values, the limit for {what}")]
    TooManyNodes {
        line: u64,
        max: usize,
        what: &'static str,
    },
}

/// Checks `text` against `limits`. `Ok` also for text that is not valid YAML: the
/// deserializer reports that, with its own message.
pub fn check(text: &str, limits: &Limits) -> Result<(), YamlLimitError> {
    let what = limits.what;
    if text.len() > limits.max_bytes {
        return Err(YamlLimitError::TooLarge {
            size: text.len(),
            max: limits.max_bytes,
            what,
        });
    }
    let mut depth = 0usize;
    let mut nodes = 0usize;
    let mut events = Events::new(text.as_bytes());
    while let Some(ev) = events.next() {
        let line = ev.line.saturating_add(1);
        if ev.anchored {
            return Err(YamlLimitError::Alias { line, what });
        }
        match ev.kind {
            Kind::Alias => return Err(YamlLimitError::Alias { line, what }),
            Kind::Start => {
                depth += 1;
                if depth > limits.max_depth {
                    let max = limits.max_depth;
                    return Err(YamlLimitError::TooDeep { line, max, what });
                }
            }
            Kind::End => depth = depth.saturating_sub(1),
            Kind::Scalar | Kind::Other => {}
        }
        if matches!(ev.kind, Kind::Start | Kind::Scalar) {
            nodes += 1;
            if nodes > limits.max_nodes {
                let max = limits.max_nodes;
                return Err(YamlLimitError::TooManyNodes { line, max, what });
            }
        }
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Alias,
    Scalar,
    /// A sequence or a mapping starts.
    Start,
    End,
    /// Stream and document boundaries.
    Other,
}

struct Event {
    kind: Kind,
    /// The node carries an anchor (`&name`).
    anchored: bool,
    /// 0-based line where it starts.
    line: u64,
}

/// libyaml's pull parser over one input: one event per call, until the stream ends
/// or an error.
struct Events<'a> {
    /// Boxed: libyaml keeps pointers to its own buffers, never to the struct, but
    /// the parser is not moved once initialised all the same.
    parser: Box<std::mem::MaybeUninit<sys::yaml_parser_t>>,
    /// The input the parser reads from (it keeps a pointer into it).
    _input: &'a [u8],
    done: bool,
}

impl<'a> Events<'a> {
    fn new(input: &'a [u8]) -> Events<'a> {
        let mut parser = Box::new(std::mem::MaybeUninit::<sys::yaml_parser_t>::uninit());
        let p = parser.as_mut_ptr();
        // SAFETY: `p` points to memory we own for the life of `Events`;
        // yaml_parser_initialize fills every field (it zeroes the struct first) and
        // fails only when allocating its buffers fails, after which nothing else is
        // called on it. The input slice outlives the parser (lifetime 'a).
        let ok = unsafe {
            if sys::yaml_parser_initialize(p).fail {
                false
            } else {
                sys::yaml_parser_set_encoding(p, sys::YAML_UTF8_ENCODING);
                sys::yaml_parser_set_input_string(p, input.as_ptr(), input.len() as _);
                true
            }
        };
        Events {
            parser,
            _input: input,
            done: !ok,
        }
    }

    fn next(&mut self) -> Option<Event> {
        if self.done {
            return None;
        }
        let mut raw = std::mem::MaybeUninit::<sys::yaml_event_t>::uninit();
        // SAFETY: the parser was initialised in `new` (`done` is false) and is not
        // used after an error. yaml_parser_parse writes a whole event on success;
        // only then are its fields read (the union through the member that its
        // type says is active), and the event is deleted before returning.
        unsafe {
            let p = self.parser.as_mut_ptr();
            let ev = raw.as_mut_ptr();
            if sys::yaml_parser_parse(p, ev).fail {
                self.done = true;
                return None;
            }
            let e = &*ev;
            let (kind, anchor) = match e.type_ {
                sys::YAML_ALIAS_EVENT => (Kind::Alias, std::ptr::null_mut()),
                sys::YAML_SCALAR_EVENT => (Kind::Scalar, e.data.scalar.anchor),
                sys::YAML_SEQUENCE_START_EVENT => (Kind::Start, e.data.sequence_start.anchor),
                sys::YAML_MAPPING_START_EVENT => (Kind::Start, e.data.mapping_start.anchor),
                sys::YAML_SEQUENCE_END_EVENT | sys::YAML_MAPPING_END_EVENT => {
                    (Kind::End, std::ptr::null_mut())
                }
                sys::YAML_STREAM_END_EVENT => {
                    self.done = true;
                    (Kind::Other, std::ptr::null_mut())
                }
                _ => (Kind::Other, std::ptr::null_mut()),
            };
            let out = Event {
                kind,
                anchored: !anchor.is_null(),
                line: e.start_mark.line,
            };
            sys::yaml_event_delete(ev);
            Some(out)
        }
    }
}

impl Drop for Events<'_> {
    fn drop(&mut self) {
        // SAFETY: `yaml_parser_initialize` zeroes the struct before anything can
        // fail, and yaml_parser_delete frees only the buffers that were allocated.
        unsafe { sys::yaml_parser_delete(self.parser.as_mut_ptr()) }
    }
}

impl fmt::Debug for Events<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Events").field("done", &self.done).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const L: Limits = Limits {
        max_bytes: 1 << 20,
        max_depth: 8,
        max_nodes: 1000,
        what: "rule files",
    };

    #[test]
    fn ordinary_yaml_passes_and_stars_in_values_are_not_aliases() {
        let text = "title: a*b & c\nx: '*quoted'\ny: \"&amp\"\nz: |\n  *not an alias\n  &nor an anchor\nlist: [a*, '*', b&c]\n# *comment\n---\nsecond: doc\n";
        assert_eq!(check(text, &L), Ok(()));
    }

    #[test]
    fn aliases_and_anchors_are_refused_with_their_line() {
        let e = check("a: &x [1, 2]\nb: *x\n", &L).unwrap_err();
        assert_eq!(
            e,
            YamlLimitError::Alias {
                line: 1,
                what: "rule files"
            }
        );
        assert!(e.to_string().contains("aliases"), "{e}");
        // An alias to nothing is refused too (before the deserializer says so).
        let e = check("a: 1\nb:\n  - *nothing\n", &L).unwrap_err();
        assert_eq!(
            e,
            YamlLimitError::Alias {
                line: 3,
                what: "rule files"
            }
        );
    }

    #[test]
    fn depth_and_node_count_are_bounded() {
        // The top mapping is one level.
        assert!(check(&format!("a: {}{}", "[".repeat(7), "]".repeat(7)), &L).is_ok());
        let deep = format!("a: {}{}", "[".repeat(8), "]".repeat(8));
        assert!(matches!(
            check(&deep, &L),
            Err(YamlLimitError::TooDeep { max: 8, .. })
        ));
        let many = format!("a: [{}]", vec!["1"; 1000].join(","));
        assert!(matches!(
            check(&many, &L),
            Err(YamlLimitError::TooManyNodes { max: 1000, .. })
        ));
        let big = "a".repeat((1 << 20) + 1);
        assert!(matches!(
            check(&big, &L),
            Err(YamlLimitError::TooLarge { .. })
        ));
    }

    #[test]
    fn broken_yaml_is_left_to_the_deserializer() {
        assert_eq!(check("a: [1, 2\nb: {", &L), Ok(()));
        assert_eq!(check("", &L), Ok(()));
        assert_eq!(check("\0\u{1}", &L), Ok(()));
    }
}
