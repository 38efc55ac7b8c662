//! The `table` format for events: one aligned line per event, for a person at a
//! terminal. Every field is escaped and cut to its column.

use std::io::{self, Write};

use chrono::SecondsFormat;
use keibi_model::{Action, Event};

use super::sanitize::{cut, terminal};

/// Writes events as aligned columns.
pub struct EventTable<W: Write> {
    out: W,
    color: bool,
    header_done: bool,
}

impl<W: Write> EventTable<W> {
    pub fn new(out: W, color: bool) -> Self {
        EventTable {
            out,
            color,
            header_done: false,
        }
    }

    pub fn write(&mut self, e: &Event) -> io::Result<()> {
        if !self.header_done {
            self.header_done = true;
            writeln!(
                self.out,
                "{:<24} {:<16} {:<19} {:<24} {:<22} WHAT",
                "TIME", "INSTANCE", "ACTION", "USER@DATABASE", "CLIENT"
            )?;
        }
        let precision = if e.time.timestamp_subsec_nanos() == 0 {
            SecondsFormat::Secs
        } else {
            SecondsFormat::Millis
        };
        let time = e.time.to_rfc3339_opts(precision, true);
        let instance = e.instance.as_deref().unwrap_or("-");
        let who = match (&e.user, &e.database) {
            (Some(u), Some(d)) => format!("{u}@{d}"),
            (Some(u), None) => u.to_string(),
            (None, Some(d)) => format!("@{d}"),
            (None, None) => "-".into(),
        };
        let client = match (e.client_ip, &e.client_host, e.client_port) {
            (Some(ip), _, Some(p)) if ip.is_ipv6() => format!("[{ip}]:{p}"),
            (Some(ip), _, Some(p)) => format!("{ip}:{p}"),
            (Some(ip), _, None) => ip.to_string(),
            (None, Some(h), _) => h.to_string(),
            (None, None, _) => "-".into(),
        };
        let what = describe(e);
        let what = match &e.error_code {
            Some(code) if e.action == Action::LoginFailure => format!("[{code}] {what}"),
            _ => what.into_owned(),
        };
        let action = e.action.as_str();
        let (on, off) = match (self.color, e.action) {
            (false, _) => ("", ""),
            (true, Action::LoginFailure) => ("\x1b[31m", "\x1b[0m"),
            (true, Action::Probe) => ("\x1b[33m", "\x1b[0m"),
            (true, Action::LoginSuccess) => ("\x1b[32m", "\x1b[0m"),
            (true, Action::Statement | Action::ApiCall) => ("\x1b[36m", "\x1b[0m"),
            (true, _) => ("", ""),
        };
        writeln!(
            self.out,
            "{:<24} {:<16} {on}{:<19}{off} {:<24} {:<22} {}",
            time,
            cut(&terminal(instance), 16),
            action,
            cut(&terminal(&who), 24),
            cut(&terminal(&client), 22),
            cut(&terminal(&what), 120),
        )
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// The WHAT column: the statement, else the log's message, else a few words for the
/// action (MySQL audit records carry no message of their own).
fn describe(e: &Event) -> std::borrow::Cow<'_, str> {
    if let Some(st) = &e.statement {
        if !st.text.is_empty() {
            return st.text.as_str().into();
        }
        let parts: Vec<&str> = [st.command.as_deref(), st.object.as_deref()]
            .into_iter()
            .flatten()
            .collect();
        return parts.join(" ").into();
    }
    if let Some(m) = &e.message {
        return m.as_str().into();
    }
    match e.action {
        Action::LoginSuccess => "login".into(),
        Action::LoginFailure => "login failed".into(),
        Action::Probe => "connection closed without authenticating".into(),
        Action::Disconnect => "disconnected".into(),
        Action::ConnectionReceived => "connection received".into(),
        _ => "".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn escapes_hostile_fields() {
        let mut e = Event::new(
            chrono::DateTime::from_timestamp(0, 0).unwrap(),
            keibi_model::SourceKind::MysqlAudit,
            Arc::from("f"),
            1,
            Action::LoginFailure,
        );
        e.user = Some("evil\x1b]0;pwned\x07".into());
        e.error_code = Some("1045".into());
        let mut buf = Vec::new();
        EventTable::new(&mut buf, false).write(&e).unwrap();
        let s = String::from_utf8(buf).unwrap();
        assert!(!s.contains('\x1b'), "{s}");
        assert!(s.contains("evil\\u{1b}]0;pwned"), "{s}");
        assert!(s.contains("[1045]"));
    }
}
