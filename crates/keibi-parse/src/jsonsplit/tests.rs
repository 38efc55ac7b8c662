use super::*;

/// A piece with owned bytes, for comparing runs.
#[derive(Debug, Clone, PartialEq, Eq)]
enum P {
    V(String, u64),
    O(String, u64, bool),
    S(u64, u64, Skip),
}

fn own(p: Piece<'_>) -> P {
    match p {
        Piece::Value { bytes, line } => P::V(String::from_utf8_lossy(bytes).into_owned(), line),
        Piece::Outer {
            bytes,
            line,
            selected,
        } => P::O(String::from_utf8_lossy(bytes).into_owned(), line, selected),
        Piece::Skipped { line, lines, why } => P::S(line, lines, why),
    }
}

fn run_with(mut s: JsonSplitter, chunks: &[&[u8]]) -> Vec<P> {
    let mut got = Vec::new();
    let mut f = |p: Piece<'_>| got.push(own(p));
    for c in chunks {
        s.push(c, &mut f);
    }
    s.finish(&mut f);
    got
}

fn run(input: &[u8]) -> Vec<P> {
    run_with(JsonSplitter::new(1 << 20), &[input])
}

fn keyed(input: &[u8]) -> Vec<P> {
    run_with(
        JsonSplitter::with_array_keys(1 << 20, &["Records", "logEvents"]),
        &[input],
    )
}

fn v(s: &str, line: u64) -> P {
    P::V(s.into(), line)
}

/// Every way of cutting `input` in two, and one byte at a time, gives the same pieces.
fn same_in_any_chunks(make: impl Fn() -> JsonSplitter, input: &[u8]) -> Vec<P> {
    let whole = run_with(make(), &[input]);
    for k in 0..=input.len() {
        let (a, b) = input.split_at(k);
        assert_eq!(run_with(make(), &[a, b]), whole, "split at {k}");
    }
    let bytes: Vec<&[u8]> = input.chunks(1).collect();
    assert_eq!(run_with(make(), &bytes), whole, "byte by byte");
    whole
}

#[test]
fn json_lines_and_pretty_arrays() {
    assert_eq!(
        run(b"{\"a\":1}\n{\"b\":[1,2]}\n"),
        vec![v("{\"a\":1}", 1), v("{\"b\":[1,2]}", 2)]
    );
    let pretty = b"[\n{\n  \"a\": 1,\n  \"b\": {\"c\": null}\n},\n{\n  \"d\": true\n}\n]\n";
    assert_eq!(
        run(pretty),
        vec![
            v("{\n  \"a\": 1,\n  \"b\": {\"c\": null}\n}", 2),
            v("{\n  \"d\": true\n}", 6)
        ]
    );
    assert_eq!(run(b"\xEF\xBB\xBF{}"), vec![v("{}", 1)], "a BOM is skipped");
    assert_eq!(run(b""), vec![]);
}

#[test]
fn strings_hide_brackets_and_escaped_quotes() {
    let input = br#"{"q":"}{][\"x\\","n":[[1,{"k":"]"}],[]]} {"e":"\\"}"#;
    let got = same_in_any_chunks(|| JsonSplitter::new(1 << 20), input);
    assert_eq!(
        got,
        vec![
            v(r#"{"q":"}{][\"x\\","n":[[1,{"k":"]"}],[]]}"#, 1),
            v(r#"{"e":"\\"}"#, 1)
        ]
    );
}

#[test]
fn records_under_a_key_stream_one_at_a_time() {
    let input = b"{\"Records\":[\n{\"a\":\"{[\"},\n  {\"b\":[1]} ,\"s\", 12, true\n]}\n";
    let got = same_in_any_chunks(
        || JsonSplitter::with_array_keys(1 << 20, &["Records"]),
        input,
    );
    assert_eq!(
        got,
        vec![
            v("{\"a\":\"{[\"}", 2),
            v("{\"b\":[1]}", 3),
            v("\"s\"", 3),
            v("12", 3),
            v("true", 3),
            P::O("{\"Records\":[]}".into(), 1, true),
        ]
    );
}

#[test]
fn envelope_fields_around_the_array_are_kept() {
    let input = br#"{"messageType":"DATA_MESSAGE","logEvents":[{"id":"1"},{"id":"2"}],"owner":"1","x":{"Records":[1]}}"#;
    let got = same_in_any_chunks(
        || JsonSplitter::with_array_keys(1 << 20, &["Records", "logEvents"]),
        input,
    );
    assert_eq!(
        got,
        vec![
            v(r#"{"id":"1"}"#, 1),
            v(r#"{"id":"2"}"#, 1),
            P::O(
                r#"{"messageType":"DATA_MESSAGE","logEvents":[],"owner":"1","x":{"Records":[1]}}"#
                    .into(),
                1,
                true
            ),
        ],
        "only top-level keys select"
    );
    let outer = match &got[2] {
        P::O(s, ..) => s.clone(),
        _ => unreachable!(),
    };
    assert!(serde_json::from_str::<serde_json::Value>(&outer).is_ok());
}

#[test]
fn keyed_mode_gives_bare_objects_whole_and_looks_through_arrays() {
    assert_eq!(
        keyed(b"{\"eventName\":\"X\"}\n[{\"Records\":[{\"n\":1}]}]\n{\"Records\":[]}"),
        vec![
            P::O("{\"eventName\":\"X\"}".into(), 1, false),
            v("{\"n\":1}", 2),
            P::O("{\"Records\":[]}".into(), 2, true),
            P::O("{\"Records\":[]}".into(), 3, true),
        ]
    );
    assert_eq!(
        keyed(b"{\"Records\":null,\"a\":[{}]}"),
        vec![P::O("{\"Records\":null,\"a\":[{}]}".into(), 1, false)],
        "a key whose value is not an array selects nothing"
    );
}

#[test]
fn garbage_between_objects_is_reported_once_per_run() {
    assert_eq!(
        run(b"hello\nworld\n{\"a\":1}\n,\n]\nnope {\"b\":2} 42"),
        vec![
            P::S(1, 2, Skip::Garbage),
            v("{\"a\":1}", 3),
            P::S(6, 1, Skip::Garbage),
            v("{\"b\":2}", 6),
            P::S(6, 1, Skip::Garbage),
        ]
    );
}

#[test]
fn truncated_objects_resync_at_the_next_object() {
    // Cut after a comma: the next `{` stands where a key belongs.
    assert_eq!(
        run(b"{\"a\":1,\n{\"b\":2}\n"),
        vec![
            P::S(1, 1, Skip::Invalid("expected a key")),
            v("{\"b\":2}", 2)
        ]
    );
    // Cut inside a string: JSON strings hold no raw newline.
    assert_eq!(
        run(b"{\"a\":\"tru\n{\"b\":2}\n"),
        vec![
            P::S(1, 1, Skip::Invalid("newline in a string")),
            v("{\"b\":2}", 2)
        ]
    );
    // Cut after a value: `{` where `,` or `}` belongs.
    assert_eq!(
        run(b"[\n{\"a\":{\"c\":1}\n{\"b\":2}\n]"),
        vec![
            P::S(2, 1, Skip::Invalid("expected ',' or a closing bracket")),
            v("{\"b\":2}", 3)
        ]
    );
    // The bytes skipped after the error belong to the same problem.
    assert_eq!(
        run(b"{\"a\" 1}\nxx\n{}"),
        vec![P::S(1, 2, Skip::Invalid("expected ':'")), v("{}", 3)]
    );
    // Inside a selected array, the element is reported and later ones still read.
    assert_eq!(
        keyed(b"{\"Records\":[{\"a\":1},{\"b\":\n\"x\n{\"c\":3}]}"),
        vec![
            v("{\"a\":1}", 1),
            P::S(1, 2, Skip::Invalid("newline in a string")),
            P::O("{\"c\":3}".into(), 3, false),
            P::S(3, 1, Skip::Garbage),
        ]
    );
}

#[test]
fn unterminated_at_end_of_input() {
    assert_eq!(
        run(b"{\"a\":1}\n{\"b\":\n[1,\n"),
        vec![v("{\"a\":1}", 1), P::S(2, 2, Skip::Unterminated)]
    );
    assert_eq!(run(b"{\"b\":\"abc"), vec![P::S(1, 1, Skip::Unterminated)]);
    assert_eq!(
        keyed(b"{\"Records\":[{\"a\":1},\n{\"b\""),
        vec![v("{\"a\":1}", 1), P::S(2, 1, Skip::Unterminated)]
    );
}

#[test]
fn oversized_values_are_skipped_with_bounded_memory() {
    let mut big = b"{\"a\":\"".to_vec();
    big.extend(std::iter::repeat_n(b'x', 5000));
    big.extend_from_slice(b"\"}\n{\"b\":1}\n");
    let make = || JsonSplitter::new(1000);
    let want = vec![P::S(1, 1, Skip::TooLarge { max: 1000 }), v("{\"b\":1}", 2)];
    assert_eq!(run_with(make(), &[&big]), want);
    let chunks: Vec<&[u8]> = big.chunks(7).collect();
    let mut s = make();
    let mut got = Vec::new();
    for c in &chunks {
        s.push(c, &mut |p| got.push(own(p)));
        assert!(s.elem.buf.capacity() <= 2000, "buffer stays near the bound");
    }
    s.finish(&mut |p| got.push(own(p)));
    assert_eq!(got, want);
    // Exactly at the bound is still read.
    let exact = format!("{{\"a\":\"{}\"}}", "y".repeat(100 - 8));
    assert_eq!(exact.len(), 100);
    assert_eq!(
        run_with(JsonSplitter::new(100), &[exact.as_bytes()]),
        vec![v(&exact, 1)]
    );
    // Elements of a selected array are bounded one by one, not as a whole.
    let mut env = b"{\"Records\":[".to_vec();
    for _ in 0..50 {
        env.extend_from_slice(b"{\"k\":\"0123456789\"},");
    }
    env.extend_from_slice(b"{}]}");
    let got = run_with(JsonSplitter::with_array_keys(100, &["Records"]), &[&env]);
    assert_eq!(got.len(), 52);
    assert!(matches!(got[51], P::O(_, 1, true)));
}

#[test]
fn deep_nesting_is_refused() {
    let deep = format!(
        "{{\"a\":{}{}}}\n{{}}",
        "[".repeat(MAX_DEPTH + 5),
        "]".repeat(MAX_DEPTH + 5)
    );
    let got = run(deep.as_bytes());
    assert_eq!(
        got.first(),
        Some(&P::S(1, 1, Skip::Invalid("nested too deep")))
    );
    assert_eq!(got.last(), Some(&v("{}", 2)));
}

#[test]
fn hostile_bytes_never_panic_and_values_stay_bounded() {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let alphabet = b"{}[]\",:\\ \n\"ab1\xff\x00{\"Records\":[";
    for round in 0..300 {
        let len = (round * 7) % 400;
        let mut input = Vec::with_capacity(len);
        for _ in 0..len {
            seed = crate::testutil::xorshift(seed);
            input.push(alphabet[(seed % alphabet.len() as u64) as usize]);
        }
        for make in [(|| JsonSplitter::new(64)) as fn() -> JsonSplitter, || {
            JsonSplitter::with_array_keys(64, &["Records"])
        }] {
            let split = (seed as usize) % (input.len() + 1);
            let got = run_with(make(), &[&input[..split], &input[split..]]);
            assert_eq!(got, run_with(make(), &[&input]));
            for p in got {
                match p {
                    P::V(s, _) | P::O(s, _, _) => assert!(s.len() <= 64 * 2),
                    P::S(line, lines, _) => assert!(line >= 1 && lines >= 1),
                }
            }
        }
    }
}
