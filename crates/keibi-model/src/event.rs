//! The normalized event: one thing that happened, from any log keibi reads.
//!
//! Every parser produces [`Event`]s; detection reads nothing else. Fields are
//! documented for users in `docs/events.md`; keep the two in step.

use std::net::IpAddr;
use std::sync::Arc;

use chrono::{DateTime, SecondsFormat, Utc};
use compact_str::CompactString;
use serde::{Deserialize, Serialize, Serializer};

/// Which log format an event was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// PostgreSQL stderr log with a `log_line_prefix` (RDS included).
    PostgresStderr,
    /// PostgreSQL logged through syslog.
    PostgresSyslog,
    /// PostgreSQL `csvlog`.
    PostgresCsv,
    /// PostgreSQL `jsonlog` (15+).
    PostgresJson,
    /// MariaDB server_audit plugin, RDS for MySQL/MariaDB audit, Aurora MySQL advanced auditing.
    MysqlAudit,
    /// MySQL/MariaDB error log.
    MysqlError,
    /// MySQL/MariaDB general query log.
    MysqlGeneral,
    /// MySQL Enterprise Audit, JSON format.
    MysqlEnterpriseAudit,
    /// PgBouncer's log (a pooler in front of PostgreSQL).
    Pgbouncer,
    /// MySQL/MariaDB slow query log.
    MysqlSlow,
    /// Percona Server audit log plugin (XML, JSON or CSV).
    PerconaAudit,
    /// AWS CloudTrail records, whatever envelope they came in.
    Cloudtrail,
}

impl SourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::PostgresStderr => "postgres_stderr",
            SourceKind::PostgresSyslog => "postgres_syslog",
            SourceKind::PostgresCsv => "postgres_csv",
            SourceKind::PostgresJson => "postgres_json",
            SourceKind::MysqlAudit => "mysql_audit",
            SourceKind::MysqlError => "mysql_error",
            SourceKind::MysqlGeneral => "mysql_general",
            SourceKind::MysqlEnterpriseAudit => "mysql_enterprise_audit",
            SourceKind::Pgbouncer => "pgbouncer",
            SourceKind::MysqlSlow => "mysql_slow",
            SourceKind::PerconaAudit => "percona_audit",
            SourceKind::Cloudtrail => "cloudtrail",
        }
    }

    /// The database engine family, for `resource.engine` in findings; `None` for
    /// logs that are not a database's (CloudTrail).
    pub fn engine(self) -> Option<Engine> {
        match self {
            SourceKind::PostgresStderr
            | SourceKind::PostgresSyslog
            | SourceKind::PostgresCsv
            | SourceKind::PostgresJson
            | SourceKind::Pgbouncer => Some(Engine::Postgres),
            SourceKind::MysqlAudit
            | SourceKind::MysqlError
            | SourceKind::MysqlGeneral
            | SourceKind::MysqlEnterpriseAudit
            | SourceKind::MysqlSlow
            | SourceKind::PerconaAudit => Some(Engine::Mysql),
            SourceKind::Cloudtrail => None,
        }
    }
}

/// A database engine family, as far as its logs tell.
///
/// Only two: a log's format says PostgreSQL or MySQL, not which server wrote it.
/// server_audit lines read the same from MariaDB, RDS for MySQL and Aurora MySQL,
/// and the error log's format does not name the fork, so MariaDB and Aurora are
/// `Mysql` here (and Aurora PostgreSQL is `Postgres`). Serialised as `postgres` and
/// `mysql`, the strings findings have always carried in `resource.engine`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Engine {
    /// PostgreSQL, RDS for PostgreSQL, Aurora PostgreSQL.
    Postgres,
    /// MySQL and MariaDB, on RDS, Aurora MySQL or self-hosted.
    Mysql,
}

impl Engine {
    pub const ALL: [Engine; 2] = [Engine::Postgres, Engine::Mysql];

    pub fn as_str(self) -> &'static str {
        match self {
            Engine::Postgres => "postgres",
            Engine::Mysql => "mysql",
        }
    }
}

impl std::fmt::Display for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an event is, in one word. Detection keys on this first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// A client opened a connection; authentication has not happened yet.
    ConnectionReceived,
    /// Authentication succeeded (a login).
    LoginSuccess,
    /// Authentication failed: wrong password, unknown user, no access rule, no such database.
    LoginFailure,
    /// A connection that never tried to authenticate (port scan, health check, protocol probe).
    Probe,
    /// A session ended.
    Disconnect,
    /// A SQL statement (from pgaudit, `log_statement`, server_audit QUERY, the general log).
    Statement,
    /// An AWS API call (CloudTrail).
    ApiCall,
    /// Anything else the log says (server start, checkpoints, errors that are not logins).
    Other,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::ConnectionReceived => "connection_received",
            Action::LoginSuccess => "login_success",
            Action::LoginFailure => "login_failure",
            Action::Probe => "probe",
            Action::Disconnect => "disconnect",
            Action::Statement => "statement",
            Action::ApiCall => "api_call",
            Action::Other => "other",
        }
    }
}

/// pgaudit's statement classes; keibi derives the same classes from plain SQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StatementClass {
    Read,
    Write,
    Function,
    Role,
    Ddl,
    Misc,
    MiscSet,
}

impl StatementClass {
    pub fn as_str(self) -> &'static str {
        match self {
            StatementClass::Read => "READ",
            StatementClass::Write => "WRITE",
            StatementClass::Function => "FUNCTION",
            StatementClass::Role => "ROLE",
            StatementClass::Ddl => "DDL",
            StatementClass::Misc => "MISC",
            StatementClass::MiscSet => "MISC_SET",
        }
    }

    /// Parses pgaudit's class names (`READ`, `MISC_SET`, ...), case-insensitively.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name.trim().to_ascii_uppercase().as_str() {
            "READ" => StatementClass::Read,
            "WRITE" => StatementClass::Write,
            "FUNCTION" => StatementClass::Function,
            "ROLE" => StatementClass::Role,
            "DDL" => StatementClass::Ddl,
            "MISC" => StatementClass::Misc,
            "MISC_SET" => StatementClass::MiscSet,
            _ => return None,
        })
    }
}

/// A SQL statement and what kind of statement it is.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Statement {
    /// The statement text as logged (possibly truncated by the server).
    pub text: String,
    /// pgaudit class, or derived from the SQL when the log has no audit class.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<StatementClass>,
    /// Command tag, upper case: `SELECT`, `CREATE TABLE`, `GRANT`, `ALTER ROLE` ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<CompactString>,
    /// Object type from the audit record (`TABLE`, `FUNCTION` ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_type: Option<CompactString>,
    /// Fully qualified object name from the audit record (`public.accounts`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<CompactString>,
    /// pgaudit audit type: `SESSION` or `OBJECT`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit_type: Option<CompactString>,
    /// How long the statement ran, in microseconds (the MySQL slow query log's
    /// `Query_time`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_us: Option<u64>,
    /// Rows the statement sent to the client: a big read (the slow query log's
    /// `Rows_sent`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows_sent: Option<u64>,
    /// Rows the server read to answer it (`Rows_examined`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows_examined: Option<u64>,
    /// Rows it changed (`Rows_affected`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows_affected: Option<u64>,
}

impl Statement {
    /// A statement from plain SQL text, with class and command derived from the SQL
    /// and password literals masked (see [`crate::sql::redact_passwords`]).
    pub fn from_sql(text: impl Into<String>) -> Self {
        let mut text = text.into();
        if let std::borrow::Cow::Owned(masked) = crate::sql::redact_passwords(&text) {
            text = masked;
        }
        let (class, command) = crate::sql::classify(&text);
        Statement {
            class,
            command,
            text,
            ..Statement::default()
        }
    }
}

/// One normalized event.
///
/// Optional fields are omitted from JSON when unknown. Strings are kept exactly as
/// the log wrote them: they are attacker-controlled, and every output must escape them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// When it happened, UTC; sub-second when the log has it.
    #[serde(serialize_with = "ser_time")]
    pub time: DateTime<Utc>,
    /// The log format it was read from.
    pub source: SourceKind,
    /// Database instance identifier (see `docs/events.md` for where it comes from).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<CompactString>,
    /// File it was read from (`-` for standard input).
    pub file: Arc<str>,
    /// 1-based line of the file where the event starts.
    pub line: u64,
    /// Set when the event was read from a line longer than the parsers' bound (1 MiB):
    /// that line's length in bytes. Only its head and tail were read; the text says
    /// where the middle was left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oversized: Option<u64>,
    pub action: Action,
    /// Client address, when the log gives one as an IP address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_ip: Option<IpAddr>,
    /// Client host when it is not an IP address (`[local]`, a host name, `rds.amazonaws.com`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_host: Option<CompactString>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_port: Option<u16>,
    /// Database user, or for CloudTrail the principal's ARN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<CompactString>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<CompactString>,
    /// `application_name`, MySQL program name, or CloudTrail `userAgent`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application: Option<CompactString>,
    /// Server session or connection id (PostgreSQL `%c`, MySQL connection id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<CompactString>,
    /// Server process id, when the log has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    /// Authentication method (`scram-sha-256`, `md5`, `trust` ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_method: Option<CompactString>,
    /// Whether the connection used TLS, when the log says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statement: Option<Box<Statement>>,
    /// SQLSTATE (PostgreSQL), MySQL error number, or CloudTrail `errorCode`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<CompactString>,
    /// The server's own level word (`LOG`, `FATAL`, `Warning`, `Note` ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<CompactString>,
    /// The log message, or for CloudTrail `eventSource:eventName`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Extra lines that belong to the message (PostgreSQL DETAIL/HINT/CONTEXT).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The whole CloudTrail record, native field names intact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<Box<serde_json::Value>>,
    /// Set when the line shows text a client planted to forge log lines: a user or
    /// database name carrying a log prefix, a level word or a line break, or prefix
    /// fields that contradict the message or the process's session. The event's own
    /// fields are then the ones the server asserted (see `docs/events.md`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub injection: Option<Box<Injection>>,
}

/// Evidence of a log-injection attempt on one event (see [`Event::injection`]).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Injection {
    /// Which field carried it: `user`, `database`, `application` or `prefix` (the
    /// line's prefix fields contradict what the server asserted).
    pub field: CompactString,
    /// The offending text as the server logged it (escaped by every output).
    pub value: String,
    /// Why, in a few words: `prefix and level in a name`, `line break in a name`,
    /// `prefix contradicts the message` ...
    pub reason: CompactString,
}

fn s<T: std::ops::Deref<Target = str>>(v: &Option<T>) -> Option<FieldRef<'_>> {
    v.as_deref().map(FieldRef::Str)
}

fn int(v: Option<u64>) -> Option<FieldRef<'static>> {
    v.map(|n| FieldRef::Int(i64::try_from(n).unwrap_or(i64::MAX)))
}

fn ser_time<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&t.to_rfc3339_opts(SecondsFormat::AutoSi, true))
}

/// A field value found by [`Event::get`].
#[derive(Debug, Clone, PartialEq)]
pub enum FieldRef<'a> {
    Str(&'a str),
    Owned(String),
    Int(i64),
    Bool(bool),
    Json(&'a serde_json::Value),
}

impl Event {
    /// An event with only the required fields set; parsers fill in the rest.
    pub fn new(
        time: DateTime<Utc>,
        source: SourceKind,
        file: Arc<str>,
        line: u64,
        action: Action,
    ) -> Self {
        Event {
            time,
            source,
            instance: None,
            file,
            line,
            oversized: None,
            action,
            client_ip: None,
            client_host: None,
            client_port: None,
            user: None,
            database: None,
            application: None,
            session_id: None,
            pid: None,
            auth_method: None,
            tls: None,
            statement: None,
            error_code: None,
            level: None,
            message: None,
            detail: None,
            record: None,
            injection: None,
        }
    }

    /// Sets the client from a host string: an IP address goes to `client_ip`, anything
    /// else (`[local]`, a host name) to `client_host`. Empty strings are ignored.
    pub fn set_client(&mut self, host: &str) {
        let host = host.trim();
        if host.is_empty() {
            return;
        }
        // IPv6 literals may come bracketed, and IPv4-mapped IPv6 is normalised.
        let bare = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        match bare.parse::<IpAddr>() {
            Ok(IpAddr::V6(v6)) => {
                self.client_ip = Some(
                    v6.to_ipv4_mapped()
                        .map(IpAddr::V4)
                        .unwrap_or(IpAddr::V6(v6)),
                )
            }
            Ok(ip) => self.client_ip = Some(ip),
            Err(_) => self.client_host = Some(host.into()),
        }
    }

    /// Looks a field up by dotted path.
    ///
    /// Common fields answer to their JSON names (`user`, `client_ip`, `statement.text` ...).
    /// For CloudTrail events, any other path is looked up in the native record
    /// (`eventName`, `requestParameters.publiclyAccessible`, `userIdentity.type`).
    pub fn get(&self, path: &str) -> Option<FieldRef<'_>> {
        match path {
            "time" => {
                return Some(FieldRef::Owned(
                    self.time.to_rfc3339_opts(SecondsFormat::AutoSi, true),
                ))
            }
            "source" => return Some(FieldRef::Str(self.source.as_str())),
            "instance" => return s(&self.instance),
            "file" => return Some(FieldRef::Str(&self.file)),
            "line" => return Some(FieldRef::Int(self.line as i64)),
            "oversized" => return self.oversized.map(|n| FieldRef::Int(n as i64)),
            "action" => return Some(FieldRef::Str(self.action.as_str())),
            "client_ip" => return self.client_ip.map(|ip| FieldRef::Owned(ip.to_string())),
            "client_host" => return s(&self.client_host),
            "client_port" => return self.client_port.map(|p| FieldRef::Int(p.into())),
            "user" => return s(&self.user),
            "database" => return s(&self.database),
            "application" => return s(&self.application),
            "session_id" => return s(&self.session_id),
            "pid" => return self.pid.map(|p| FieldRef::Int(p.into())),
            "auth_method" => return s(&self.auth_method),
            "tls" => return self.tls.map(FieldRef::Bool),
            "error_code" => return s(&self.error_code),
            "level" => return s(&self.level),
            "message" => return s(&self.message),
            "detail" => return s(&self.detail),
            "injection.field" => return self.injection.as_deref().map(|i| FieldRef::Str(&i.field)),
            "injection.value" => return self.injection.as_deref().map(|i| FieldRef::Str(&i.value)),
            "injection.reason" => {
                return self.injection.as_deref().map(|i| FieldRef::Str(&i.reason))
            }
            _ => {}
        }
        if let Some(rest) = path.strip_prefix("statement.") {
            let st = self.statement.as_deref()?;
            return match rest {
                "text" => Some(FieldRef::Str(&st.text)),
                "class" => st.class.map(|c| FieldRef::Str(c.as_str())),
                "command" => s(&st.command),
                "object_type" => s(&st.object_type),
                "object" => s(&st.object),
                "audit_type" => s(&st.audit_type),
                "duration_us" => int(st.duration_us),
                "rows_sent" => int(st.rows_sent),
                "rows_examined" => int(st.rows_examined),
                "rows_affected" => int(st.rows_affected),
                _ => None,
            };
        }
        let record = self.record.as_deref()?;
        let path = path.strip_prefix("record.").unwrap_or(path);
        let mut v = record;
        for part in path.split('.') {
            v = match v {
                serde_json::Value::Object(m) => m.get(part)?,
                serde_json::Value::Array(a) => a.get(part.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        Some(match v {
            serde_json::Value::String(s) => FieldRef::Str(s),
            serde_json::Value::Bool(b) => FieldRef::Bool(*b),
            serde_json::Value::Number(n) if n.is_i64() => {
                FieldRef::Int(n.as_i64().unwrap_or_default())
            }
            other => FieldRef::Json(other),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev() -> Event {
        Event::new(
            DateTime::parse_from_rfc3339("2026-11-28T15:41:27.158Z")
                .unwrap()
                .into(),
            SourceKind::Cloudtrail,
            Arc::from("f.json"),
            3,
            Action::ApiCall,
        )
    }

    #[test]
    fn time_serializes_with_subseconds_only_when_present() {
        let mut e = ev();
        let j = serde_json::to_value(&e).unwrap();
        assert_eq!(j["time"], "2026-11-28T15:41:27.158Z");
        e.time = DateTime::parse_from_rfc3339("2026-11-28T15:41:27Z")
            .unwrap()
            .into();
        let j = serde_json::to_value(&e).unwrap();
        assert_eq!(j["time"], "2026-11-28T15:41:27Z");
        assert!(j.get("user").is_none(), "unknown fields are omitted");
    }

    #[test]
    fn set_client_splits_ip_and_host() {
        let mut e = ev();
        e.set_client("::ffff:10.0.0.1");
        assert_eq!(e.client_ip, Some("10.0.0.1".parse().unwrap()));
        let mut e = ev();
        e.set_client("[local]");
        assert_eq!(e.client_ip, None);
        assert_eq!(e.client_host.as_deref(), Some("[local]"));
    }

    #[test]
    fn dotted_paths_reach_the_native_record() {
        let mut e = ev();
        e.record = Some(Box::new(serde_json::json!({
            "eventName": "ModifyDBInstance",
            "requestParameters": {"publiclyAccessible": true, "vpcSecurityGroupIds": ["sg-1"]},
            "userIdentity": {"type": "Root"}
        })));
        assert_eq!(e.get("eventName"), Some(FieldRef::Str("ModifyDBInstance")));
        assert_eq!(
            e.get("requestParameters.publiclyAccessible"),
            Some(FieldRef::Bool(true))
        );
        assert_eq!(
            e.get("requestParameters.vpcSecurityGroupIds.0"),
            Some(FieldRef::Str("sg-1"))
        );
        assert_eq!(e.get("userIdentity.type"), Some(FieldRef::Str("Root")));
        assert_eq!(e.get("userIdentity.nope"), None);
        assert_eq!(e.get("action"), Some(FieldRef::Str("api_call")));
    }

    #[test]
    fn slow_log_counters_are_integers_for_rules() {
        let mut e = ev();
        let mut st = Statement::from_sql("SELECT * FROM customers");
        st.rows_sent = Some(250_000);
        st.duration_us = Some(1_500_000);
        e.statement = Some(Box::new(st));
        assert_eq!(e.get("statement.rows_sent"), Some(FieldRef::Int(250_000)));
        assert_eq!(
            e.get("statement.duration_us"),
            Some(FieldRef::Int(1_500_000))
        );
        assert_eq!(e.get("statement.rows_examined"), None);
        let j = serde_json::to_value(&e).unwrap();
        assert_eq!(j["statement"]["rows_sent"], 250_000);
        assert!(j["statement"].get("rows_affected").is_none());
    }
}
