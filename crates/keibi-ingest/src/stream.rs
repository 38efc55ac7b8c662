//! One opened input: its decompressed reader, its detected format and parser, and the
//! loop that turns its bytes into batches of events.

use std::io::{self, Read};
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use keibi_model::{CompactString, Event};
use keibi_parse::postgres::infer::{self, Inference};
use keibi_parse::{detect_with_prefix, Format, Output, ParseConfig, Parser, Problem};

use crate::decode;
use crate::inputs::{instance_for, Input};
use crate::merge::IngestOptions;

/// How much of an input detection looks at.
const HEAD: usize = 64 * 1024;
/// Read size for the parse loop.
const CHUNK: usize = 256 * 1024;
/// How much of an input in no known format is read (to count its lines as
/// unrecognized) before giving up on it, whichever comes first: `/dev/urandom` or an
/// endless pipe must not stall the scan of every other input.
pub const UNDETECTED_BYTES: u64 = 1 << 20;
pub const UNDETECTED_LINES: u64 = 10_000;

/// Why an input could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("{0}")]
    Io(#[from] io::Error),
    #[error("format not recognized (first line: {first:?}){}{}; name it with --log-format, or for PostgreSQL give your log_line_prefix with --pg-prefix", closest_text(.closest), gave_up(*.whole, *.bytes, *.lines))]
    Undetected {
        first: String,
        /// The PostgreSQL `log_line_prefix` that came closest, inferred from the first
        /// lines, and how many of them it read.
        closest: Option<Inference>,
        /// Lines looked at, all of them unrecognized: every line of the input when
        /// `whole`, else those in its first `bytes`.
        lines: u64,
        /// Bytes looked at.
        bytes: u64,
        /// Whether the input ended within the look ([`UNDETECTED_BYTES`],
        /// [`UNDETECTED_LINES`]); when not, the rest was not read.
        whole: bool,
    },
    #[error("empty input")]
    Empty,
}

/// What one read step produced.
#[derive(Debug, Default)]
pub struct Batch {
    pub events: Vec<Event>,
    pub problems: Vec<Problem>,
    /// Lines of other programs in a shared syslog file, passed over on purpose.
    pub skipped: u64,
    /// A read error that ended this input early (truncated gzip, I/O error), with the
    /// line it happened at.
    pub error: Option<(u64, String)>,
    /// Whether the input is finished after this batch.
    pub last: bool,
}

/// An input, opened and with its format known.
pub struct Opened {
    pub input: Input,
    pub format: Format,
    pub file: Arc<str>,
    reader: Box<dyn Read + Send>,
    parser: Box<dyn Parser>,
    /// Bytes read ahead for detection, not yet parsed.
    pending: Vec<u8>,
    explicit_instance: Option<CompactString>,
    path_instance: Option<CompactString>,
    since: Option<chrono::DateTime<chrono::Utc>>,
    until: Option<chrono::DateTime<chrono::Utc>>,
    /// Newlines read so far (to say where a read error happened).
    lines: u64,
    buf: Vec<u8>,
    finished: bool,
    /// A read error met while reading ahead for detection, reported after the head is parsed.
    deferred: Option<io::Error>,
}

impl Opened {
    /// Opens an input, undoes its compression and detects its format.
    pub fn open(
        input: Input,
        opts: &IngestOptions,
        counter: Arc<AtomicU64>,
    ) -> Result<Opened, OpenError> {
        let (mut reader, _) = decode::open(&input, counter)?;
        let mut head = Vec::with_capacity(HEAD);
        let (complete, deferred) = read_up_to(&mut reader, &mut head, HEAD)?;
        if head.iter().all(u8::is_ascii_whitespace) && complete {
            return Err(OpenError::Empty);
        }
        let (format, inferred) = match choose(&head, complete, opts, false) {
            Ok(chosen) => chosen,
            Err(closest) => {
                let first = head
                    .split(|&b| b == b'\n')
                    .find(|l| !l.iter().all(u8::is_ascii_whitespace));
                let first = String::from_utf8_lossy(first.unwrap_or_default())
                    .chars()
                    .take(80)
                    .collect();
                let (lines, bytes, whole) = count_lines(&head, complete, &mut reader);
                return Err(OpenError::Undetected {
                    first,
                    closest,
                    lines,
                    bytes,
                    whole,
                });
            }
        };
        let file = input.display();
        let mut cfg = ParseConfig::new(file.clone());
        cfg.pg_prefix = opts.pg_prefix.clone().or(inferred);
        cfg.local_offset = opts.local_offset;
        cfg.instance = opts.instance.clone();
        let parser = format.parser(&cfg);
        // The directory rule names database instances; a CloudTrail archive's directories
        // are account and region names, not instances.
        let path_instance = if format == Format::Cloudtrail {
            None
        } else {
            instance_for(&input).map(Into::into)
        };
        Ok(Opened {
            input,
            format,
            file,
            reader,
            parser,
            pending: head,
            explicit_instance: opts.instance.as_deref().map(Into::into),
            path_instance,
            since: opts.since,
            until: opts.until,
            lines: 0,
            buf: vec![0; CHUNK],
            finished: false,
            deferred,
        })
    }

    /// Reads and parses until about `want` events are ready or the input ends.
    pub fn next_batch(&mut self, want: usize) -> Batch {
        self.next_batch_into(want, Vec::new())
    }

    /// As [`Opened::next_batch`], filling `events`: an emptied batch handed back by
    /// the consumer, whose buffer then serves again (a batch of a thousand events is
    /// a third of a megabyte; growing a fresh one for every batch cost page faults
    /// and copies).
    pub fn next_batch_into(&mut self, want: usize, mut events: Vec<Event>) -> Batch {
        events.clear();
        events.reserve(want);
        let mut out = Output {
            events,
            problems: Vec::new(),
            skipped: 0,
        };
        let mut batch = Batch::default();
        if self.finished {
            batch.last = true;
            return batch;
        }
        if !self.pending.is_empty() {
            let head = std::mem::take(&mut self.pending);
            self.lines += memchr::memchr_iter(b'\n', &head).count() as u64;
            self.parser.push(&head, &mut out);
        }
        if let Some(e) = self.deferred.take() {
            batch.error = Some((self.lines + 1, describe_read_error(&e)));
            self.finish(&mut out);
        }
        // A batch ends at `want` events or after one chunk of input, whichever comes
        // first: a CloudTrail record costs kilobytes once parsed, so counting events
        // alone would let a batch of them grow to tens of megabytes.
        let mut read_this_batch = 0;
        while !self.finished
            && out.events.len() < want
            && out.problems.len() < want
            && read_this_batch < CHUNK
        {
            match self.reader.read(&mut self.buf) {
                Ok(0) => {
                    self.finish(&mut out);
                    break;
                }
                Ok(n) => {
                    read_this_batch += n;
                    self.lines += memchr::memchr_iter(b'\n', &self.buf[..n]).count() as u64;
                    self.parser.push(&self.buf[..n], &mut out);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    batch.error = Some((self.lines + 1, describe_read_error(&e)));
                    self.finish(&mut out);
                    break;
                }
            }
        }
        batch.last = self.finished;
        batch.problems = out.problems;
        batch.skipped = out.skipped;
        batch.events = out.events;
        self.post_process(&mut batch.events);
        batch
    }

    fn finish(&mut self, out: &mut Output) {
        self.parser.finish(out);
        self.finished = true;
    }

    /// Applies the instance rule and the time window, and puts the batch in time order
    /// (CloudTrail files in particular are only roughly ordered).
    fn post_process(&self, events: &mut Vec<Event>) {
        if let Some(inst) = &self.explicit_instance {
            for e in events.iter_mut() {
                e.instance = Some(inst.clone());
            }
        } else if let Some(inst) = &self.path_instance {
            for e in events
                .iter_mut()
                .filter(|e| e.instance.is_none() && e.source.engine().is_some())
            {
                e.instance = Some(inst.clone());
            }
        }
        if self.since.is_some() || self.until.is_some() {
            events.retain(|e| {
                self.since.is_none_or(|s| e.time >= s) && self.until.is_none_or(|u| e.time < u)
            });
        }
        if !events.is_sorted_by_key(|e| e.time) {
            events.sort_by_key(|e| e.time);
        }
    }
}

fn describe_read_error(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::UnexpectedEof => {
            "compressed data ends early (truncated file?); read what came before".into()
        }
        io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData => {
            format!("corrupt compressed data ({e}); read what came before")
        }
        _ => format!("read error ({e}); read what came before"),
    }
}

/// The format of an input whose first bytes are `head` (`complete`: the whole input),
/// and the `log_line_prefix` inferred for it when it is a PostgreSQL stderr log that
/// no known prefix reads, or that a known prefix misreads (see docs/security.md,
/// "Inferred prefixes": known prefixes are preferred). `Err` holds the closest
/// inference for the error message when nothing reads it.
///
/// `live` (`keibi run`, a file still being written): an inferred prefix is taken only
/// once the head shows the names (a message naming its user or database, a name field
/// filled, or 50 lines), or cannot grow any more; until then the caller waits for more
/// lines (or until the file stops growing, then asks again not `live`), also when a
/// known prefix reads the head, so that the inferred one may still refine it. A
/// live log starts with the server's own lines, whose user and database are empty,
/// and a prefix inferred from them alone would not read the clients' lines.
pub(crate) fn choose(
    head: &[u8],
    complete: bool,
    opts: &IngestOptions,
    live: bool,
) -> Result<(Format, Option<String>), Option<Inference>> {
    if let Some(f) = opts.format {
        return Ok((f, None));
    }
    let grown = complete || head.len() >= HEAD;
    let sure = |i: &Inference| i.accepted() && (!live || grown || i.settled());
    match detect_with_prefix(head, complete, opts.pg_prefix.as_deref()) {
        // A known prefix that reads the lines into other names than the inferred
        // one does, which reads them all too, was a misparse.
        // Live, an accepted inference not settled yet waits here too: a prefix
        // inferred from a longer head may refine the known one (which a restart would
        // then switch to mid-file).
        Some(Format::PostgresStderr) if opts.pg_prefix.is_none() => match infer::infer(head) {
            Some(i) if i.accepted() && !sure(&i) => Err(Some(i)),
            inferred => Ok((
                Format::PostgresStderr,
                inferred
                    .filter(|i| sure(i) && infer::refines_known(head, i))
                    .map(|i| i.prefix),
            )),
        },
        Some(f) => Ok((f, None)),
        None if opts.pg_prefix.is_none() => match infer::infer(head) {
            Some(i) if sure(&i) => Ok((Format::PostgresStderr, Some(i.prefix))),
            closest => Err(closest),
        },
        None => Err(None),
    }
}

fn closest_text(closest: &Option<Inference>) -> String {
    match closest {
        Some(i) => format!(
            "; the closest log_line_prefix, inferred from its first lines, is '{}' and reads \
             only {} of {} of them",
            i.prefix.escape_debug(),
            i.explained,
            i.sampled
        ),
        None => String::new(),
    }
}

/// What `keibi events --explain` tells of an input: its detected format, and for a
/// PostgreSQL stderr log the prefix it is read with (configured, known or inferred).
#[derive(Debug)]
pub struct Explanation {
    pub format: Option<Format>,
    /// The inference from the first lines (also when a known prefix reads them).
    pub inference: Option<Inference>,
    /// Whether the inferred prefix is the one the input is read with (no format and
    /// no known prefix reads it).
    pub inferred_used: bool,
}

/// Detects an input's format the way [`Opened::open`] does, and infers its
/// PostgreSQL prefix, without reading further than detection does.
pub fn explain(input: &Input, opts: &IngestOptions) -> Result<Explanation, OpenError> {
    let (mut reader, _) = decode::open(input, Arc::new(AtomicU64::new(0)))?;
    let mut head = Vec::with_capacity(HEAD);
    let (complete, _) = read_up_to(&mut reader, &mut head, HEAD)?;
    let inference = infer::infer(&head);
    let detected = match opts.format {
        Some(f) => Some(f),
        None => detect_with_prefix(&head, complete, opts.pg_prefix.as_deref()),
    };
    let inferred_used = opts.format.is_none()
        && opts.pg_prefix.is_none()
        && inference.as_ref().is_some_and(|i| match detected {
            None => i.accepted(),
            Some(Format::PostgresStderr) => infer::refines_known(&head, i),
            Some(_) => false,
        });
    Ok(Explanation {
        format: detected.or(inferred_used.then_some(Format::PostgresStderr)),
        inference,
        inferred_used,
    })
}

fn gave_up(whole: bool, bytes: u64, lines: u64) -> String {
    if whole {
        String::new()
    } else {
        format!(
            "; gave up on it after its first {bytes} bytes ({lines} lines), the rest is not read"
        )
    }
}

/// Counts the lines of an input that could not be read, so they are reported as
/// unrecognized rather than silently dropped, looking at no more than
/// [`UNDETECTED_BYTES`] or [`UNDETECTED_LINES`]. Returns the lines and bytes looked
/// at and whether that was the whole input (`complete`: `head` already is).
fn count_lines(head: &[u8], complete: bool, reader: &mut dyn Read) -> (u64, u64, bool) {
    let mut lines = 0u64;
    let mut bytes = 0u64;
    let mut last = None;
    // Counts the lines of `data`, stopping at the line bound; false once a bound is met.
    let mut look = |data: &[u8]| -> bool {
        let room = (UNDETECTED_BYTES - bytes).min(data.len() as u64) as usize;
        let data = &data[..room];
        let mut taken = data.len();
        for nl in memchr::memchr_iter(b'\n', data) {
            lines += 1;
            if lines == UNDETECTED_LINES {
                taken = nl + 1;
                break;
            }
        }
        bytes += taken as u64;
        if taken > 0 {
            last = Some(data[taken - 1]);
        }
        lines < UNDETECTED_LINES && bytes < UNDETECTED_BYTES
    };
    let mut going = look(head);
    let mut whole = complete && going;
    if !complete && going {
        let mut buf = vec![0u8; CHUNK];
        loop {
            match reader.read(&mut buf) {
                Ok(0) => {
                    whole = true;
                    break;
                }
                Ok(k) => {
                    going = look(&buf[..k]);
                    if !going {
                        break;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                // A damaged archive of unknown content: what was read is all there is.
                Err(_) => {
                    whole = true;
                    break;
                }
            }
        }
    }
    let unfinished = u64::from(last.is_some_and(|b| b != b'\n'));
    (lines + unfinished, bytes, whole)
}

/// Reads until `buf` holds `limit` bytes or the input ends; returns whether it ended,
/// and the error that ended it early after some bytes were read.
fn read_up_to(
    r: &mut dyn Read,
    buf: &mut Vec<u8>,
    limit: usize,
) -> io::Result<(bool, Option<io::Error>)> {
    let mut chunk = [0u8; 16 * 1024];
    while buf.len() < limit {
        let want = (limit - buf.len()).min(chunk.len());
        match r.read(&mut chunk[..want]) {
            Ok(0) => return Ok((true, None)),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            // A damaged archive: detect on what we have and report the error after it.
            Err(e) if !buf.is_empty() => return Ok((true, Some(e))),
            Err(e) => return Err(e),
        }
    }
    Ok((false, None))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_live_known_prefix_waits_for_an_unsettled_inference() {
        // The server's own lines in a known prefix: the inference is accepted but
        // has not seen a client's names yet.
        let head = b"2026-01-01 10:00:00.100 UTC [900] LOG:  database system was shut down\n\
                     2026-01-01 10:00:00.300 UTC [901] LOG:  database system is ready to accept connections\n";
        let i = infer::infer(head).unwrap();
        assert!(i.accepted() && !i.settled(), "{i:?}");
        let opts = IngestOptions::default();
        assert!(choose(head, false, &opts, true).is_err(), "live: waits");
        // Not live, or the file stopped growing: decided with what is there.
        assert_eq!(
            choose(head, false, &opts, false).unwrap(),
            (Format::PostgresStderr, None)
        );
        assert_eq!(
            choose(head, true, &opts, true).unwrap(),
            (Format::PostgresStderr, None)
        );
        // pgbadger's queryid.log: a known prefix misreads `[queryid=N] postgres` as
        // the user; live, the inferred prefix is taken as scan takes it.
        let queryid = b"2022-02-17 14:45:10.440 UTC [691] [queryid=1081270519976314062] postgres@stackoverflow LOG:  duration: 0.140 ms  statement: set log_min_duration_statement to 0;\n\
                        2022-02-17 14:45:13.727 UTC [691] [queryid=4266247047529477710] postgres@stackoverflow LOG:  duration: 25.450 ms  statement: SELECT 1\n";
        let scan = choose(queryid, true, &opts, false).unwrap();
        assert!(scan.1.is_some(), "{scan:?}");
        assert_eq!(choose(queryid, false, &opts, true).unwrap(), scan);
    }

    /// An endless reader of one repeated line.
    struct Endless(&'static [u8], usize);
    impl Read for Endless {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            for b in buf.iter_mut() {
                *b = self.0[self.1 % self.0.len()];
                self.1 += 1;
            }
            Ok(buf.len())
        }
    }

    #[test]
    fn counting_an_unrecognized_input_is_bounded() {
        // Short lines: the line bound is met first, at exactly that many lines.
        let (lines, bytes, whole) = count_lines(b"", false, &mut Endless(b"garbage\n", 0));
        assert_eq!(
            (lines, bytes, whole),
            (UNDETECTED_LINES, 8 * UNDETECTED_LINES, false)
        );
        // Long lines: the byte bound.
        let mut long = vec![b'x'; 999];
        long.push(b'\n');
        let long: &'static [u8] = long.leak();
        let (lines, bytes, whole) = count_lines(b"", false, &mut Endless(long, 0));
        assert_eq!(bytes, UNDETECTED_BYTES);
        assert_eq!(
            lines,
            UNDETECTED_BYTES / 1000 + 1,
            "the cut line counts once"
        );
        assert!(!whole);
        // A short input is counted whole, with or without a final newline.
        let mut r: &[u8] = b"c\nd";
        assert_eq!(count_lines(b"a\nb\n", false, &mut r), (4, 7, true));
        let mut r: &[u8] = b"";
        assert_eq!(count_lines(b"a\nb", true, &mut r), (2, 3, true));
    }
}
