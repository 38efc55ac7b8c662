//! Supabase's Postgres logs as its Logs Explorer and Management API give them (a JSON
//! array, or one row per line): each row of `postgres_logs` has the message in
//! `event_message` and the report's csvlog columns in `metadata[0].parsed[0]`
//! (`timestamp`, `user_name`, `connection_from`, `error_severity`, `sql_state_code`
//! ...). The columns are read as csvlog's are, with the same message reader. Rows carry
//! no project id: the instance comes from `--instance` or the path.

use std::borrow::Cow;

use keibi_model::SourceKind;
use serde::Deserialize;

use super::cnpg::{read_record, Record};
use super::message::{Origin, Sessions};
use super::prefix::TimeCache;
use crate::cloudtrail::keys::{first_object_keys, has};
use crate::format::Sample;
use crate::jsonsplit::{JsonSplitter, Piece};
use crate::{Output, ParseConfig, Parser, Problem};

/// Largest row read.
const MAX_ROW: usize = 8 << 20;

/// How sure (0-100) this format is that the sample is written in it: the first row has
/// `event_message` and `metadata`, and the head holds a `parsed` report.
pub fn sniff(sample: &Sample<'_>) -> u8 {
    let Some(keys) = first_object_keys(sample.head, 64) else {
        return 0;
    };
    if !(has(&keys, "event_message") && has(&keys, "metadata")) {
        return 0;
    }
    let names = |needle: &[u8]| memchr::memmem::find(sample.head, needle).is_some();
    if names(b"\"parsed\"") && names(b"\"error_severity\"") {
        100
    } else {
        0
    }
}

#[derive(Deserialize)]
struct Row<'a> {
    #[serde(borrow)]
    event_message: Option<Cow<'a, str>>,
    #[serde(borrow)]
    metadata: Option<OneOrMany<Metadata<'a>>>,
}

#[derive(Deserialize)]
struct Metadata<'a> {
    #[serde(borrow)]
    parsed: Option<OneOrMany<Record<'a>>>,
}

/// BigQuery's repeated records come as arrays; a flattened export may hold the object.
#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany<T> {
    Many(Vec<T>),
    One(T),
}

impl<T> OneOrMany<T> {
    fn first(&self) -> Option<&T> {
        match self {
            OneOrMany::Many(v) => v.first(),
            OneOrMany::One(t) => Some(t),
        }
    }
}

pub struct SupabaseParser {
    splitter: JsonSplitter,
    origin: Origin,
    sessions: Sessions,
    cache: TimeCache,
}

impl SupabaseParser {
    pub fn new(cfg: &ParseConfig) -> Self {
        SupabaseParser {
            splitter: JsonSplitter::new(MAX_ROW),
            origin: Origin::new(cfg, SourceKind::PostgresCsv),
            sessions: Sessions::new(),
            cache: TimeCache::default(),
        }
    }

    fn piece(&mut self, p: Piece<'_>, out: &mut Output) {
        match p {
            Piece::Value { bytes, line } | Piece::Outer { bytes, line, .. } => {
                self.row(bytes, line, out)
            }
            Piece::Skipped { line, lines, why } => out.problems.push(Problem {
                line,
                reason: why.to_string(),
                lines,
            }),
        }
    }

    fn row(&mut self, bytes: &[u8], line: u64, out: &mut Output) {
        let row = match serde_json::from_slice::<Row<'_>>(bytes) {
            Ok(r) => r,
            Err(e) => return out.unrecognized(line, format!("invalid Supabase log row: {e}")),
        };
        let Some(record) = row
            .metadata
            .as_ref()
            .and_then(|m| m.first()?.parsed.as_ref()?.first())
        else {
            return out.unrecognized(line, "Supabase log row has no metadata.parsed report");
        };
        let message = row.event_message.as_deref();
        match read_record(
            "Supabase",
            &self.origin,
            &mut self.cache,
            record,
            message,
            line,
        ) {
            Ok(report) => {
                if let Some(e) = self.sessions.finish(report) {
                    out.event(e);
                }
            }
            Err(reason) => out.unrecognized(line, reason),
        }
    }
}

impl Parser for SupabaseParser {
    fn push(&mut self, chunk: &[u8], out: &mut Output) {
        let mut splitter = std::mem::replace(&mut self.splitter, JsonSplitter::new(0));
        splitter.push(chunk, &mut |p| self.piece(p, out));
        self.splitter = splitter;
    }

    fn finish(&mut self, out: &mut Output) {
        let mut splitter = std::mem::replace(&mut self.splitter, JsonSplitter::new(0));
        splitter.finish(&mut |p| self.piece(p, out));
        self.splitter = splitter;
    }
}

#[cfg(test)]
mod tests;
