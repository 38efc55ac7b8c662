//! Fuzzes the `azure` (Azure Monitor records of Azure Database for PostgreSQL) parser:
//! no panic, bounded output, any chunking.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    keibi_fuzz::parse(keibi_parse::Format::Azure, data)
});
