//! The `exec` executor: runs a configured command (`respond.exec.NAME`) for an
//! action, with the action and its finding as one JSON object on standard input.
//!
//! * No shell: the configured argv is run as it is; nothing from a finding is ever
//!   in the command line. The finding (attacker-written user names, addresses,
//!   texts) reaches the command only as JSON on standard input, and its id, type and
//!   severity in `KEIBI_*` variables.
//! * The environment is cleared but for `PATH`, `HOME`, `LANG`, `LC_ALL`,
//!   `LC_CTYPE`, `TZ`, `TMPDIR`, `USER` and `LOGNAME`: keibi's own environment may
//!   hold secrets (`{env: NAME}` passwords, AWS keys) a ticket script has no need of.
//! * Bounded: killed with its whole process group at its time-out (transient: tried
//!   again); at most 4 KiB of standard output kept (the action's `done`) and 1 KiB
//!   of standard error (the failure's reason, on one line, control characters
//!   escaped); the rest is read and dropped so the command never blocks on a full
//!   pipe.
//! * Exit 0 is done; any other exit, or a signal, is a permanent failure. Not
//!   undoable (a ticket stays opened).

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use keibi_respond::{ExecError, Executor, Request, Target};
use serde_json::{json, Value};

use crate::settings::respond::RespondExec;

/// A command's time-out when its settings give none.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Standard output kept as the action's `done`.
pub const MAX_STDOUT: usize = 4096;

/// Standard error kept as a failure's reason.
pub const MAX_STDERR: usize = 1024;

/// How long the output of a command that has exited is still waited for (a child
/// it left behind may hold the pipe open).
const OUTPUT_GRACE: Duration = Duration::from_secs(1);

/// The variables of keibi's environment a command sees.
const PASSED_ENV: &[&str] = &[
    "PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "USER", "LOGNAME",
];

/// One configured command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecCommand {
    /// The program and its arguments; never empty.
    pub argv: Vec<String>,
    pub timeout: Duration,
}

/// Runs the commands of `respond.exec` for `exec:NAME` actions.
#[derive(Debug, Clone, Default)]
pub struct ExecExecutor {
    commands: BTreeMap<String, ExecCommand>,
}

impl ExecExecutor {
    /// The commands by name; one with an empty argv is left out (the settings'
    /// `problems` refuse it before the daemon starts).
    pub fn new(commands: BTreeMap<String, ExecCommand>) -> ExecExecutor {
        ExecExecutor {
            commands: commands
                .into_iter()
                .filter(|(_, c)| !c.argv.is_empty())
                .collect(),
        }
    }

    /// From the `respond.exec` section.
    pub fn from_settings(exec: &BTreeMap<String, RespondExec>) -> ExecExecutor {
        ExecExecutor::new(
            exec.iter()
                .map(|(n, e)| {
                    (
                        n.clone(),
                        ExecCommand {
                            argv: e.command.clone(),
                            timeout: e.timeout.map_or(DEFAULT_TIMEOUT, |d| d.std()),
                        },
                    )
                })
                .collect(),
        )
    }

    fn command(&self, target: &Target) -> Option<(&str, &ExecCommand)> {
        match target {
            Target::Exec { name } => self
                .commands
                .get_key_value(name)
                .map(|(n, c)| (n.as_str(), c)),
            _ => None,
        }
    }
}

impl Executor for ExecExecutor {
    fn name(&self) -> &str {
        "exec"
    }

    fn accepts(&self, target: &Target) -> bool {
        self.command(target).is_some()
    }

    fn prepare(&mut self, _req: Request<'_>) -> Result<Value, ExecError> {
        Ok(Value::Null)
    }

    fn apply(&mut self, req: Request<'_>, _prior: &Value) -> Result<Value, ExecError> {
        let (name, cmd) = self.command(&req.action.target).ok_or_else(|| {
            ExecError::Permanent(format!(
                "no command {} in respond.exec",
                one_line(&req.action.target.key())
            ))
        })?;
        let input = serde_json::to_vec(&json!({
            "action": req.action,
            "finding": req.finding,
        }))
        .map_err(|e| ExecError::Permanent(format!("exec {name}: cannot write the input: {e}")))?;
        let env = [
            ("KEIBI_ACTION_ID", req.action.id.clone()),
            ("KEIBI_FINDING_ID", req.finding.id.clone()),
            ("KEIBI_FINDING_TYPE", req.finding.finding_type.clone()),
            ("KEIBI_SEVERITY", req.finding.severity.to_string()),
        ];
        let out = run(cmd, &input, &env).map_err(|e| match e {
            ExecError::Transient(m) => ExecError::Transient(format!("exec {name}: {m}")),
            ExecError::Permanent(m) => ExecError::Permanent(format!("exec {name}: {m}")),
        })?;
        Ok(json!({
            "exit": 0,
            "stdout": String::from_utf8_lossy(&out.stdout.bytes),
            "stdout_truncated": out.stdout.truncated,
        }))
    }

    fn undo(&mut self, _req: Request<'_>, _prior: &Value, _done: &Value) -> Result<(), ExecError> {
        Err(ExecError::Permanent(
            "a command that ran cannot be undone".into(),
        ))
    }
}

/// What was kept of one output stream.
#[derive(Debug, Default, Clone)]
struct Kept {
    bytes: Vec<u8>,
    truncated: bool,
}

struct Ran {
    stdout: Kept,
}

/// Runs `cmd` in a process group of its own, `input` on its standard input, and
/// waits for it at most its time-out.
fn run(cmd: &ExecCommand, input: &[u8], env: &[(&str, String)]) -> Result<Ran, ExecError> {
    let mut c = Command::new(&cmd.argv[0]);
    c.args(&cmd.argv[1..])
        .env_clear()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own group: the time-out kills what it started too.
        .process_group(0);
    for k in PASSED_ENV {
        if let Some(v) = std::env::var_os(k) {
            c.env(k, v);
        }
    }
    for (k, v) in env {
        // A NUL cannot be in a variable; no keibi id or type holds one.
        c.env(k, v.replace('\0', ""));
    }
    let mut child = c
        .spawn()
        .map_err(|e| ExecError::Permanent(format!("cannot run {:?}: {e}", cmd.argv[0])))?;
    let start = Instant::now();

    // Written by a thread: a command that does not read its input must not block
    // keibi; it gets a broken pipe, or is killed at its time-out.
    if let Some(mut stdin) = child.stdin.take() {
        let input = input.to_vec();
        thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
    }
    let stdout = collect(child.stdout.take(), MAX_STDOUT);
    let stderr = collect(child.stderr.take(), MAX_STDERR);

    let status = match wait(&mut child, cmd.timeout.saturating_sub(start.elapsed())) {
        Some(s) => s,
        None => {
            kill_group(&mut child);
            return Err(ExecError::Transient(format!(
                "no exit within {}s; killed with its process group",
                cmd.timeout.as_secs_f64()
            )));
        }
    };
    let grace = Instant::now() + OUTPUT_GRACE;
    let stdout = stdout.take(grace);
    let stderr = stderr.take(grace);
    if status.success() {
        return Ok(Ran { stdout });
    }
    let said = one_line(&String::from_utf8_lossy(&stderr.bytes));
    let how = match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(sig)) => format!("killed by signal {sig}"),
        (None, None) => status.to_string(),
    };
    Err(ExecError::Permanent(if said.is_empty() {
        how
    } else {
        format!("{how}: {said}")
    }))
}

/// The child's exit within `limit`, or `None` (it is then still running, or a
/// zombie not yet reaped: its process group cannot have been reused).
fn wait(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        match child.try_wait() {
            Ok(Some(s)) => return Some(s),
            Ok(None) => {}
            Err(_) => return None,
        }
        let now = Instant::now();
        if now >= deadline {
            return None;
        }
        thread::sleep((deadline - now).min(Duration::from_millis(10)));
    }
}

/// SIGKILL to the child's whole process group (it leads it), then reaps it.
fn kill_group(child: &mut Child) {
    let pid = rustix::process::Pid::from_child(child);
    if rustix::process::kill_process_group(pid, rustix::process::Signal::KILL).is_err() {
        let _ = child.kill();
    }
    let _ = child.wait();
}

/// A stream read to its end by a thread, the first `max` bytes kept.
struct Collector(Arc<Mutex<Kept>>);

fn collect<R: Read + Send + 'static>(r: Option<R>, max: usize) -> Collector {
    let kept = Arc::new(Mutex::new(Kept::default()));
    if let Some(mut r) = r {
        let k = Arc::clone(&kept);
        thread::spawn(move || {
            let mut buf = [0u8; 8192];
            loop {
                match r.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        let Ok(mut k) = k.lock() else { break };
                        let room = max.saturating_sub(k.bytes.len());
                        k.bytes.extend_from_slice(&buf[..n.min(room)]);
                        if n > room {
                            k.truncated = true;
                        }
                    }
                }
            }
        });
    }
    Collector(kept)
}

impl Collector {
    /// What was read by `deadline` (the reader ends at the stream's end, which is
    /// at once for a command that left nothing behind holding it).
    fn take(self, deadline: Instant) -> Kept {
        loop {
            // The reader thread holds the only other reference until the end.
            if Arc::strong_count(&self.0) == 1 || Instant::now() >= deadline {
                break;
            }
            thread::sleep(Duration::from_millis(5));
        }
        self.0.lock().map(|k| k.clone()).unwrap_or_default()
    }
}

/// A command's message on one line: control and bidirectional-format characters
/// escaped (`\n`, `\u{1b}`, `\u{202e}`), so it cannot forge lines or reorder text
/// where it is shown.
fn one_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.trim_end().chars() {
        let format_char = matches!(c,
            '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2069}'
            | '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{061c}');
        if c.is_control() || format_char {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests;
