//! Fuzzes the `mysql-slow` parser: no panic, bounded output, any chunking.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    keibi_fuzz::parse(keibi_parse::Format::MysqlSlow, data)
});
