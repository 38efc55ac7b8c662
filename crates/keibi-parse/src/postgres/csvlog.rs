//! PostgreSQL csvlog (PostgreSQL 9.0 to 17 column sets): one CSV record per report,
//! with every field in its own column. A record spans lines when a quoted field holds
//! line breaks (a multi-line statement).
//!
//! Only PostgreSQL's own layouts are read: 23 columns (9.0 to 12), 24 (13, with
//! `backend_type`) or 26 (14 to 17, with `leader_pid` and `query_id`), whose process id
//! and line number are numbers, whose severity is a word and whose SQLSTATE is five
//! characters. Other CSV logs that start with a time (Greenplum's 30 columns, whose
//! fourth is `p1234` and fourteenth `dx4`) are reported unrecognized with the reason,
//! never read as garbled events. A first field in quotes (a csvlog re-exported by a
//! spreadsheet or a CSV tool) reads like a bare one.

use chrono::{Offset, Utc};
use csv_core::{ReadRecordResult, Reader};
use keibi_model::SourceKind;

use super::message::{add_detail, known, text, Known, Origin, Report, Sessions};
use super::prefix::{pg_time, TimeCache};
use crate::format::Sample;
use crate::{LineParser, Output, ParseConfig, Problem};

/// The fields of one CSV record, unescaped (`""` read as `"`).
pub struct CsvFields {
    /// Built on first use and kept: building a reader costs more than reading a
    /// record, and parsers (and sniffs) are made for inputs that never get here.
    rdr: Option<Reader>,
    out: Vec<u8>,
    ends: Vec<usize>,
    n: usize,
}

/// Most fields read from one record; csvlog has 26, pgaudit 10.
const MAX_FIELDS: usize = 1024;

impl CsvFields {
    pub fn new() -> Self {
        CsvFields {
            rdr: None,
            out: Vec::new(),
            ends: vec![0; 32],
            n: 0,
        }
    }

    /// Splits one record (line breaks inside quotes are part of it; anything after an
    /// unquoted line break is ignored). `false` when it has more than 1024 fields.
    pub fn split(&mut self, input: &[u8]) -> bool {
        self.out.clear();
        self.out.resize(input.len() + 1, 0);
        'retry: loop {
            let rdr = self.rdr.get_or_insert_with(Reader::new);
            rdr.reset();
            let (mut nin, mut nout, mut nend) = (0, 0, 0);
            loop {
                let (res, i, o, e) =
                    rdr.read_record(&input[nin..], &mut self.out[nout..], &mut self.ends[nend..]);
                nin += i;
                nout += o;
                nend += e;
                match res {
                    ReadRecordResult::InputEmpty => {}
                    ReadRecordResult::Record | ReadRecordResult::End => {
                        self.n = nend;
                        return true;
                    }
                    ReadRecordResult::OutputEndsFull => {
                        if self.ends.len() >= MAX_FIELDS {
                            self.n = 0;
                            return false;
                        }
                        let len = (self.ends.len() * 4).min(MAX_FIELDS);
                        self.ends.resize(len, 0);
                        continue 'retry;
                    }
                    ReadRecordResult::OutputFull => {
                        // Unescaped output is never longer than the input.
                        let len = self.out.len() * 2 + 1;
                        self.out.resize(len, 0);
                    }
                }
            }
        }
    }

    pub fn len(&self) -> usize {
        self.n
    }

    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    pub fn get(&self, i: usize) -> Option<&[u8]> {
        if i >= self.n {
            return None;
        }
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        self.out.get(start..self.ends[i])
    }
}

impl Default for CsvFields {
    fn default() -> Self {
        Self::new()
    }
}

/// Columns of PostgreSQL 9.0 to 12; 13 adds backend_type, 14 leader_pid and query_id.
const MIN_COLUMNS: usize = 23;
/// The column counts PostgreSQL writes.
const LAYOUTS: [usize; 3] = [23, 24, 26];
const USER_NAME: usize = 1;
const DATABASE_NAME: usize = 2;
const PROCESS_ID: usize = 3;
const CONNECTION_FROM: usize = 4;
const SESSION_ID: usize = 5;
const SESSION_LINE_NUM: usize = 6;
const ERROR_SEVERITY: usize = 11;
const SQL_STATE_CODE: usize = 12;
const MESSAGE: usize = 13;
const DETAIL: usize = 14;
const HINT: usize = 15;
const INTERNAL_QUERY: usize = 16;
const CONTEXT: usize = 18;
const QUERY: usize = 19;
const APPLICATION_NAME: usize = 22;

/// Bounds on one record: beyond them it is reported unrecognized instead of buffered.
const MAX_RECORD_BYTES: usize = 1 << 20;
const MAX_RECORD_LINES: u64 = 10_000;

/// Whether a line starts like a csvlog record: a PostgreSQL time, then a comma; or the
/// same in quotes.
fn starts_record(line: &[u8]) -> bool {
    let mut cache = TimeCache::default();
    let (line, end): (&[u8], &[u8]) = match line.strip_prefix(b"\"") {
        Some(rest) => (rest, b"\","),
        None => (line, b","),
    };
    matches!(pg_time(line, Utc.fix(), &mut cache), Some((_, n)) if line[n..].starts_with(end))
}

/// Text of a field for a reason: at most 32 bytes, escaped.
fn shown(b: &[u8]) -> String {
    let s = String::from_utf8_lossy(&b[..b.len().min(32)]);
    format!("{:?}", s.as_ref())
}

/// Whether the split record is in one of PostgreSQL's csvlog layouts; else why not.
fn postgres_layout(f: &CsvFields) -> Result<(), String> {
    let get = |i: usize| f.get(i).unwrap_or_default();
    let number = |b: &[u8]| !b.is_empty() && b.len() <= 20 && b.iter().all(u8::is_ascii_digit);
    let pid = get(PROCESS_ID);
    if !LAYOUTS.contains(&f.len()) {
        let hint = if pid.first() == Some(&b'p') && number(&pid[1..]) {
            " (a p-prefixed process id: Greenplum's layout)"
        } else {
            ""
        };
        return Err(format!(
            "csvlog record has {} fields; PostgreSQL writes 23 (9.0 to 12), 24 (13) or 26 (14 to 17){hint}",
            f.len()
        ));
    }
    let not = |what: &str, b: &[u8]| {
        Err(format!(
            "not a PostgreSQL csvlog record: {what} is {}",
            shown(b)
        ))
    };
    if !number(pid) {
        return not("process_id (field 4)", pid);
    }
    if !number(get(SESSION_LINE_NUM)) {
        return not("session_line_num (field 7)", get(SESSION_LINE_NUM));
    }
    // Translated with lc_messages (`FEHLER`, `ERREUR`), but always one upper-case word.
    let sev = get(ERROR_SEVERITY);
    if sev.is_empty()
        || sev.len() > 32
        || sev.iter().any(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || c.is_ascii_punctuation() || *c <= b' '
        })
    {
        return not("error_severity (field 12)", sev);
    }
    let code = get(SQL_STATE_CODE);
    if code.len() != 5
        || !code
            .iter()
            .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
    {
        return not("sql_state_code (field 13)", code);
    }
    Ok(())
}

/// How sure (0-100) this format is that the sample is written in it: the share of
/// records (lines joined while a quote is open) that start with a time and a comma and
/// have at least 23 fields.
pub fn sniff(sample: &Sample<'_>) -> u8 {
    let mut fields = CsvFields::new();
    let (mut records, mut good) = (0usize, 0usize);
    let mut buf: Vec<u8> = Vec::new();
    let mut open = false;
    for line in &sample.lines {
        if !buf.is_empty() {
            buf.push(b'\n');
        }
        buf.extend_from_slice(line);
        open ^= quote_parity(line);
        if open {
            continue;
        }
        records += 1;
        if starts_record(&buf) && fields.split(&buf) && fields.len() >= MIN_COLUMNS {
            good += 1;
        }
        buf.clear();
    }
    if records == 0 {
        return 0;
    }
    (good * 100 / records) as u8
}

/// Whether `line` has an odd number of quotes (it opens or closes a quoted field).
fn quote_parity(line: &[u8]) -> bool {
    memchr::memchr_iter(b'"', line).count() % 2 == 1
}

/// Reads csvlog records (see the module documentation).
pub struct CsvlogParser {
    origin: Origin,
    sessions: Sessions,
    fields: CsvFields,
    cache: TimeCache,
    buf: Vec<u8>,
    /// Line where the record being read starts, and its number of lines so far.
    start: u64,
    lines: u64,
    /// A quoted field is open at the end of the last line.
    open: bool,
    /// The record outgrew [`MAX_RECORD_BYTES`]: its lines are counted, not kept.
    skipping: bool,
}

impl CsvlogParser {
    pub fn new(cfg: &ParseConfig) -> Self {
        CsvlogParser {
            origin: Origin::new(cfg, SourceKind::PostgresCsv),
            sessions: Sessions::new(),
            fields: CsvFields::new(),
            cache: TimeCache::default(),
            buf: Vec::new(),
            start: 0,
            lines: 0,
            open: false,
            skipping: false,
        }
    }

    /// Reports the record being read as unrecognized, all its lines.
    fn give_up(&mut self, out: &mut Output, reason: &str) {
        out.problems.push(Problem {
            line: self.start,
            reason: reason.to_string(),
            lines: self.lines,
        });
        self.reset();
    }

    fn reset(&mut self) {
        self.buf.clear();
        self.lines = 0;
        self.open = false;
        self.skipping = false;
    }

    fn record(&mut self, out: &mut Output) {
        let start = self.start;
        let record = std::mem::take(&mut self.buf);
        let result = self.read(&record);
        self.buf = record;
        match result {
            Ok(r) => {
                if let Some(e) = self.sessions.finish(r) {
                    out.event(e);
                }
            }
            Err(reason) => out.problems.push(Problem {
                line: start,
                reason,
                lines: self.lines,
            }),
        }
        self.reset();
    }

    fn read(&mut self, record: &[u8]) -> Result<Report, String> {
        if !self.fields.split(record) {
            return Err("csvlog record has more than 1024 fields".into());
        }
        // The first field, bare or quoted, is all a time.
        let first = self.fields.get(0).unwrap_or_default();
        let Some((time, _)) =
            pg_time(first, self.origin.offset, &mut self.cache).filter(|(_, n)| *n == first.len())
        else {
            return Err("expected a csvlog record starting with a time and a comma".into());
        };
        postgres_layout(&self.fields)?;
        let f = &self.fields;
        let get = |i: usize| f.get(i).unwrap_or_default();
        let mut e = self.origin.event(time, self.start);
        e.user = known(get(USER_NAME));
        e.database = known(get(DATABASE_NAME));
        e.application = known(get(APPLICATION_NAME));
        e.pid = std::str::from_utf8(get(PROCESS_ID))
            .ok()
            .and_then(|p| p.parse().ok());
        let from = String::from_utf8_lossy(get(CONNECTION_FROM));
        // `host:port`, or `[local]`; an IPv6 host holds colons, the port is after the last.
        match from.rsplit_once(':') {
            Some((host, port)) if !port.is_empty() && port.bytes().all(|c| c.is_ascii_digit()) => {
                e.set_client(host);
                e.client_port = port.parse().ok();
            }
            _ => e.set_client(&from),
        }
        e.session_id = known(get(SESSION_ID));
        e.level = known(get(ERROR_SEVERITY));
        e.error_code = known(get(SQL_STATE_CODE));
        e.message = Some(text(get(MESSAGE)));
        for (i, label) in [(DETAIL, ""), (HINT, "HINT: "), (INTERNAL_QUERY, "QUERY: ")] {
            if !get(i).is_empty() {
                add_detail(&mut e, label, &text(get(i)));
            }
        }
        let context = get(CONTEXT);
        if !context.is_empty() {
            add_detail(&mut e, "CONTEXT: ", &text(context));
        }
        let query = text(get(QUERY));
        let mut r = Report::new(e);
        r.known = Known::ALL;
        r.set_statement(&query);
        if !context.is_empty() {
            r.set_context();
        }
        Ok(r)
    }
}

impl LineParser for CsvlogParser {
    fn line(&mut self, line: &[u8], lineno: u64, out: &mut Output) {
        if self.lines == 0 {
            if line.iter().all(u8::is_ascii_whitespace) {
                return;
            }
            self.start = lineno;
        }
        self.lines += 1;
        self.open ^= quote_parity(line);
        if !self.skipping {
            if self.buf.len() + line.len() + 1 > MAX_RECORD_BYTES {
                self.skipping = true;
                self.buf = Vec::new();
            } else {
                if self.lines > 1 {
                    self.buf.push(b'\n');
                }
                self.buf.extend_from_slice(line);
            }
        }
        if self.open {
            if self.lines >= MAX_RECORD_LINES {
                self.give_up(
                    out,
                    "csvlog record is longer than 10000 lines; expected a quote to close its field",
                );
            }
            return;
        }
        if self.skipping {
            self.give_up(out, "csvlog record is longer than 1 MiB");
            return;
        }
        self.record(out);
    }

    fn finish(&mut self, out: &mut Output) {
        if self.lines > 0 {
            self.give_up(
                out,
                "csvlog record ends inside a quoted field; expected a quote to close it",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::postgres::parse_bytes;
    use crate::Format;
    use keibi_model::event::StatementClass;
    use keibi_model::Action;

    fn parse(text: &str) -> Output {
        let cfg = ParseConfig::new("postgresql.csv");
        let out = parse_bytes(Format::PostgresCsv, &cfg, text.as_bytes(), 4096);
        let small = parse_bytes(Format::PostgresCsv, &cfg, text.as_bytes(), 3);
        assert_eq!(out.events, small.events);
        assert_eq!(out.problems, small.problems);
        out
    }

    // Written as src/backend/utils/error/csvlog.c writes them: strings quoted, numbers
    // and empty values bare. PostgreSQL 16 (26 columns).
    const PG16: &str = concat!(
        "2026-11-28 15:41:22.101 UTC,,,900,,6b0af627.384,1,,2026-11-28 15:41:22 UTC,,0,LOG,00000,\"database system is ready to accept connections\",,,,,,,,,\"\",\"postmaster\",,0\n",
        "2026-11-28 15:41:22.201 UTC,,,901,\"10.0.0.7:51000\",6b0af627.385,1,\"\",2026-11-28 15:41:22 UTC,,0,LOG,00000,\"connection received: host=10.0.0.7 port=51000\",,,,,,,,,\"\",\"not initialized\",,0\n",
        "2026-11-28 15:41:22.205 UTC,\"eve\",\"shop\",901,\"10.0.0.7:51000\",6b0af627.385,2,\"authentication\",2026-11-28 15:41:22 UTC,3/1,0,FATAL,28P01,\"password authentication failed for user \"\"eve\"\"\",\"Connection matched file \"\"/etc/postgresql/16/main/pg_hba.conf\"\" line 120: \"\"host all all 0.0.0.0/0 scram-sha-256\"\"\",,,,,,,,\"\",\"client backend\",,0\n",
        "2026-11-28 15:41:23.000 UTC,\"app\",\"shop\",902,\"[2001:db8::5]:5432\",6b0af627.386,5,\"idle\",2026-11-28 15:41:22 UTC,4/2,0,ERROR,42601,\"syntax error at or near \"\"FORM\"\"\",,,,,,\"SELECT a, b\n",
        "FORM t\n",
        "WHERE c = 'x,y'\",8,,\"psql\",\"client backend\",,-5293\n",
        "2026-11-28 15:41:24.000 UTC,\"app\",\"shop\",902,\"2001:db8::5:5432\",6b0af627.386,6,\"SELECT\",2026-11-28 15:41:22 UTC,4/3,0,LOG,00000,\"AUDIT: SESSION,2,1,DDL,CREATE TABLE,TABLE,public.t,\"\"CREATE TABLE t (a int,\n",
        "  b text)\"\",<not logged>\",,,,,,,,,\"psql\",\"client backend\",,0\n",
        "2026-11-28 15:41:25.000 UTC,\"app\",\"shop\",903,\"[local]\",6b0af627.387,2,\"authentication\",2026-11-28 15:41:25 UTC,5/1,0,LOG,00000,\"connection authorized: user=app database=shop application_name=psql\",,,,,,,,,\"\",\"client backend\",,0\n",
    );

    #[test]
    fn pg16_records_including_multi_line_ones() {
        let out = parse(PG16);
        assert!(out.problems.is_empty(), "{:?}", out.problems);
        let a: Vec<Action> = out.events.iter().map(|e| e.action).collect();
        use Action::*;
        assert_eq!(
            a,
            vec![
                Other,
                ConnectionReceived,
                LoginFailure,
                Other,
                Statement,
                LoginSuccess
            ]
        );
        assert_eq!(out.events[0].user, None);
        assert_eq!(out.events[0].error_code, None);
        let e = &out.events[1];
        assert_eq!(e.client_ip, Some("10.0.0.7".parse().unwrap()));
        assert_eq!(e.client_port, Some(51000));
        assert_eq!(e.session_id.as_deref(), Some("6b0af627.385"));
        let f = &out.events[2];
        assert_eq!(f.user.as_deref(), Some("eve"));
        assert_eq!(f.error_code.as_deref(), Some("28P01"));
        assert_eq!(f.auth_method.as_deref(), Some("scram-sha-256"));
        assert_eq!(f.time.to_rfc3339(), "2026-11-28T15:41:22.205+00:00");
        let err = &out.events[3];
        assert_eq!(err.line, 4);
        assert_eq!(err.client_ip, Some("2001:db8::5".parse().unwrap()));
        assert_eq!(err.client_port, Some(5432));
        let st = err.statement.as_deref().unwrap();
        assert_eq!(st.text, "SELECT a, b\nFORM t\nWHERE c = 'x,y'");
        assert_eq!(err.application.as_deref(), Some("psql"));
        let audit = &out.events[4];
        assert_eq!(audit.line, 7);
        // An unbracketed IPv6 address: the port is after the last colon.
        assert_eq!(audit.client_ip, Some("2001:db8::5".parse().unwrap()));
        let st = audit.statement.as_deref().unwrap();
        assert_eq!(st.text, "CREATE TABLE t (a int,\n  b text)");
        assert_eq!(st.class, Some(StatementClass::Ddl));
        assert_eq!(st.object.as_deref(), Some("public.t"));
        let ok = &out.events[5];
        assert_eq!(ok.client_host.as_deref(), Some("[local]"));
        assert_eq!(ok.client_port, None);
    }

    #[test]
    fn pg12_and_pg13_column_sets() {
        let out = parse(concat!(
            // PostgreSQL 12: 23 columns, ending with application_name.
            "2026-11-28 15:41:22.205 CET,\"eve\",\"shop\",901,\"10.0.0.7:51000\",6b0af627.385,2,\"authentication\",2026-11-28 15:41:22 CET,3/1,0,FATAL,28000,\"no pg_hba.conf entry for host \"\"10.0.0.7\"\", user \"\"eve\"\", database \"\"shop\"\", SSL off\",,,,,,,,,\"\"\n",
            // PostgreSQL 13: 24 columns, with backend_type.
            "2026-11-28 15:41:22.205 UTC,\"eve\",\"nodb\",905,\"10.0.0.7:51002\",6b0af627.389,2,\"authentication\",2026-11-28 15:41:22 UTC,3/1,0,FATAL,3D000,\"database \"\"nodb\"\" does not exist\",,,,,,,,,\"\",\"client backend\"\n",
        ));
        assert!(out.problems.is_empty(), "{:?}", out.problems);
        assert_eq!(out.events.len(), 2);
        let e = &out.events[0];
        assert_eq!(e.action, Action::LoginFailure);
        assert_eq!(e.time.to_rfc3339(), "2026-11-28T14:41:22.205+00:00");
        assert_eq!(e.error_code.as_deref(), Some("28000"));
        assert_eq!(out.events[1].database.as_deref(), Some("nodb"));
    }

    #[test]
    fn broken_and_oversized_records() {
        let out = parse(concat!(
            "not,a,csvlog,record\n",
            "2026-11-28 15:41:22.205 UTC,\"eve\",\"shop\",901\n",
            "2026-11-28 15:41:22.101 UTC,,,900,,6b0af627.384,1,,2026-11-28 15:41:22 UTC,,0,LOG,00000,\"ok\",,,,,,,,,\"\",\"postmaster\",,0\n",
            "2026-11-28 15:41:22.101 UTC,,,900,,6b0af627.384,1,,2026-11-28 15:41:22 UTC,,0,LOG,00000,\"never\n",
            "closed\n",
        ));
        assert_eq!(out.events.len(), 1);
        let p: Vec<(u64, u64)> = out.problems.iter().map(|p| (p.line, p.lines)).collect();
        assert_eq!(p, vec![(1, 1), (2, 1), (4, 2)]);
        assert!(
            out.problems[1].reason.contains("4 fields"),
            "{}",
            out.problems[1].reason
        );
        assert!(out.problems[2].reason.contains("quoted field"));

        // A record longer than 1 MiB is reported, not kept; reading goes on after it.
        let mut big = String::from(
            "2026-11-28 15:41:22.101 UTC,,,900,,6b0af627.384,1,,2026-11-28 15:41:22 UTC,,0,LOG,00000,\"",
        );
        for _ in 0..1100 {
            big.push_str(&"x".repeat(1023));
            big.push('\n');
        }
        big.push_str("\",,,,,,,,,\"\",\"postmaster\",,0\n");
        big.push_str("2026-11-28 15:41:22.101 UTC,,,900,,6b0af627.384,1,,2026-11-28 15:41:22 UTC,,0,LOG,00000,\"after\",,,,,,,,,\"\",\"postmaster\",,0\n");
        let out = parse(&big);
        assert_eq!(out.events.len(), 1);
        assert_eq!(out.events[0].message.as_deref(), Some("after"));
        assert_eq!(out.problems.len(), 1);
        assert_eq!((out.problems[0].line, out.problems[0].lines), (1, 1101));

        // An unclosed quote gives up after 10000 lines and reads on.
        let mut open = String::from("2026-11-28 15:41:22.101 UTC,,,900,,x,1,,,,0,LOG,00000,\"\n");
        open.push_str(&"line\n".repeat(10_100));
        let out = parse(&open);
        assert_eq!(out.problems[0].lines, 10_000);
        assert_eq!(out.unrecognized_lines(), 10_101);
    }

    const REAL: &[u8] = include_bytes!("../../tests/data/postgres/postgresql-injection.csv");
    const REEXPORTED: &[u8] = include_bytes!("../../tests/data/postgres/postgresql-reexported.csv");
    const GREENPLUM: &[u8] = include_bytes!("../../tests/data/postgres/greenplum-csvlog.csv");

    fn parse_raw(b: &[u8]) -> Output {
        parse(std::str::from_utf8(b).unwrap())
    }

    #[test]
    fn a_reexported_csvlog_with_every_field_quoted_reads_the_same() {
        let real = parse_raw(REAL);
        let again = parse_raw(REEXPORTED);
        assert!(again.problems.is_empty(), "{:?}", again.problems);
        assert_eq!(real.events.len(), 125);
        assert_eq!(real.events, again.events);
        assert_eq!(sniff(&Sample::new(REEXPORTED, true)), 100);
    }

    #[test]
    fn greenplum_csv_is_unrecognized_with_the_reason_never_garbled_events() {
        let out = parse_raw(GREENPLUM);
        assert!(out.events.is_empty(), "{:?}", out.events);
        assert_eq!(out.unrecognized_lines(), 3);
        for p in &out.problems {
            assert!(
                p.reason.starts_with("csvlog record has 30 fields;")
                    && p.reason
                        .ends_with("(a p-prefixed process id: Greenplum's layout)"),
                "{}",
                p.reason
            );
        }
    }

    #[test]
    fn right_column_count_wrong_content_is_unrecognized() {
        // Each line is PostgreSQL 16's, with one field changed.
        let good = "2026-11-28 15:41:22.101 UTC,,,900,,6b0af627.384,1,,2026-11-28 15:41:22 UTC,,0,LOG,00000,\"ready\",,,,,,,,,\"\",\"postmaster\",,0\n";
        let out = parse(
            &[
                good.to_string(),
                good.replace(",900,", ",p900,"),
                good.replace(",1,,", ",x,,"),
                good.replace(",LOG,", ",seg-1,"),
                good.replace(",00000,", ",dx4,"),
                // Translated severities read.
                good.replace(",LOG,", ",FEHLER,"),
                // 25 fields: no PostgreSQL writes that.
                good.replace(",,0\n", ",0\n"),
            ]
            .concat(),
        );
        assert_eq!(out.events.len(), 2);
        let p: Vec<(u64, &str)> = out
            .problems
            .iter()
            .map(|p| (p.line, p.reason.as_str()))
            .collect();
        assert_eq!(
            p,
            vec![
                (2, "not a PostgreSQL csvlog record: process_id (field 4) is \"p900\""),
                (3, "not a PostgreSQL csvlog record: session_line_num (field 7) is \"x\""),
                (4, "not a PostgreSQL csvlog record: error_severity (field 12) is \"seg-1\""),
                (5, "not a PostgreSQL csvlog record: sql_state_code (field 13) is \"dx4\""),
                (7, "csvlog record has 25 fields; PostgreSQL writes 23 (9.0 to 12), 24 (13) or 26 (14 to 17)"),
            ]
        );
    }

    #[test]
    fn csv_fields_split() {
        let mut f = CsvFields::new();
        assert!(f.split(b"a,\"b,\"\"c\"\"\",,d"));
        assert_eq!(f.len(), 4);
        assert_eq!(f.get(1), Some(&b"b,\"c\""[..]));
        assert_eq!(f.get(2), Some(&b""[..]));
        assert_eq!(f.get(4), None);
        let many = ",".repeat(2000);
        assert!(!f.split(many.as_bytes()));
        assert!(f.split(b""));
        assert!(f.split(&",".repeat(100).into_bytes()));
        assert_eq!(f.len(), 101);
    }

    #[test]
    fn sniff_claims_csvlog_only() {
        let s = |b: &str| sniff(&Sample::new(b.as_bytes(), true));
        assert_eq!(s(PG16), 100);
        assert_eq!(s("2026-11-28 15:41:22 UTC:1.2.3.4(5):a@b:[1]:LOG:  x\n"), 0);
        assert_eq!(
            s("20261128 15:42:14,vm,app,localhost,8,0,CONNECT,shop,,0\n"),
            0
        );
        assert_eq!(s("2026-11-28 15:41:22 0 [Note] x, y, z\n"), 0);
    }
}
