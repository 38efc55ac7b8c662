//! Fuzzes format detection: any first bytes, complete or cut short, must give a format
//! or none without panicking, and the chosen format's parser must take the input.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&control, head)) = data.split_first() else {
        return;
    };
    let complete = control & 1 == 1;
    if let Some(format) = keibi_parse::detect(head, complete) {
        // Detection and parsing meet on the same bytes in real use.
        keibi_fuzz::parse(format, data);
    }
    // The ingest layer detects on a prefix of the input (its first 64 KiB): any cut
    // point is possible, including inside a UTF-8 sequence or a `\r\n`.
    let cut = usize::from(control >> 1) % (head.len() + 1);
    let _ = keibi_parse::detect(&head[..cut], false);
});
