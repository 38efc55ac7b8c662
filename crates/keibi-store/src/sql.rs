//! The one SQL layer the store is written against, over SQLite (rusqlite) or
//! PostgreSQL (the `postgres` crate), so every query is written once.
//!
//! Its shape is rusqlite's (`execute`, `query_row`, `prepare(…)?.query_map`,
//! `optional()`, a transaction that derefs to the connection), with [`params!`] and
//! [`Value`] of its own. The SQL is the subset both engines read the same way:
//! `?N` placeholders (rewritten to `$N` for PostgreSQL), `ON CONFLICT … DO`,
//! `RETURNING`, `coalesce`, quoted `"user"`; where the engines differ, code asks
//! [`Conn::dialect`]. Values are converted as SQLite would, whatever type the
//! PostgreSQL server infers for a parameter or returns for a column (`BIGINT` and
//! `INTEGER`, `DOUBLE PRECISION`, `TEXT`, `BYTEA`, `BOOLEAN`), so a query reads its
//! columns as the same Rust types on both.
//!
//! Transactions: [`Conn::begin_write`] is SQLite's `BEGIN IMMEDIATE`; on PostgreSQL
//! a transaction that first takes one advisory lock, so the store's writers run one
//! after the other on both engines (what the read-modify-write of a commit assumes),
//! whichever machine they run on. Readers never wait.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::error::Error as StdError;

use postgres::types::{FromSql, IsNull, ToSql, Type};

/// Which engine a connection speaks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// The advisory lock every PostgreSQL write transaction takes first ("keibi" in
/// ASCII): one writer at a time, as in SQLite.
pub(crate) const WRITE_LOCK: i64 = 0x6b_6569_6269;

/// Statements kept prepared per PostgreSQL connection.
const STATEMENT_CACHE: usize = 256;

/// Why a statement failed.
#[derive(Debug, thiserror::Error)]
pub enum SqlError {
    #[error("{0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("{}", pg_message(.0))]
    Postgres(#[from] postgres::Error),
    #[error("the query returned no row")]
    NoRows,
    #[error("column {index}: {why}")]
    Type { index: usize, why: String },
}

/// PostgreSQL's own words (its `Display` says only "db error").
pub(crate) fn pg_message(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} ({}): {}", db.severity(), db.code().code(), db.message()),
        None => {
            // The client's own words, then why (a TLS handshake: the certificate).
            let mut text = e.to_string();
            let mut cause = StdError::source(e);
            while let Some(c) = cause {
                let more = c.to_string();
                if !text.contains(&more) {
                    text.push_str(": ");
                    text.push_str(&more);
                }
                cause = c.source();
            }
            text
        }
    }
}

impl SqlError {
    fn ty(index: usize, why: impl Into<String>) -> SqlError {
        SqlError::Type {
            index,
            why: why.into(),
        }
    }
}

pub type Result<T, E = SqlError> = std::result::Result<T, E>;

/// `query_row(…).optional()`: no row is `None`.
pub trait OptionalExtension<T> {
    fn optional(self) -> Result<Option<T>>;
}

impl<T> OptionalExtension<T> for Result<T> {
    fn optional(self) -> Result<Option<T>> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(SqlError::NoRows) | Err(SqlError::Sqlite(rusqlite::Error::QueryReturnedNoRows)) => {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }
}

/// An owned value, for parameters built at run time.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

/// A borrowed value: what a parameter gives and a column holds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ValueRef<'a> {
    Null,
    Integer(i64),
    Real(f64),
    Text(&'a str),
    Blob(&'a [u8]),
}

impl ValueRef<'_> {
    fn kind(&self) -> &'static str {
        match self {
            ValueRef::Null => "NULL",
            ValueRef::Integer(_) => "an integer",
            ValueRef::Real(_) => "a real",
            ValueRef::Text(_) => "text",
            ValueRef::Blob(_) => "a blob",
        }
    }
}

/// A parameter.
pub trait ToCol {
    fn to_col(&self) -> ValueRef<'_>;
}

impl<T: ToCol + ?Sized> ToCol for &T {
    fn to_col(&self) -> ValueRef<'_> {
        (**self).to_col()
    }
}

impl<T: ToCol> ToCol for Option<T> {
    fn to_col(&self) -> ValueRef<'_> {
        match self {
            Some(v) => v.to_col(),
            None => ValueRef::Null,
        }
    }
}

impl ToCol for Value {
    fn to_col(&self) -> ValueRef<'_> {
        match self {
            Value::Null => ValueRef::Null,
            Value::Integer(i) => ValueRef::Integer(*i),
            Value::Real(f) => ValueRef::Real(*f),
            Value::Text(s) => ValueRef::Text(s),
            Value::Blob(b) => ValueRef::Blob(b),
        }
    }
}

impl ToCol for str {
    fn to_col(&self) -> ValueRef<'_> {
        ValueRef::Text(self)
    }
}

impl ToCol for String {
    fn to_col(&self) -> ValueRef<'_> {
        ValueRef::Text(self)
    }
}

impl ToCol for [u8] {
    fn to_col(&self) -> ValueRef<'_> {
        ValueRef::Blob(self)
    }
}

impl ToCol for Vec<u8> {
    fn to_col(&self) -> ValueRef<'_> {
        ValueRef::Blob(self)
    }
}

impl ToCol for f64 {
    fn to_col(&self) -> ValueRef<'_> {
        ValueRef::Real(*self)
    }
}

impl ToCol for f32 {
    fn to_col(&self) -> ValueRef<'_> {
        ValueRef::Real(f64::from(*self))
    }
}

impl ToCol for bool {
    fn to_col(&self) -> ValueRef<'_> {
        ValueRef::Integer(i64::from(*self))
    }
}

macro_rules! int_to_col {
    ($($t:ty),*) => {$(
        impl ToCol for $t {
            fn to_col(&self) -> ValueRef<'_> {
                ValueRef::Integer(i64::from(*self))
            }
        }
    )*};
}
int_to_col!(i64, i32, i16, i8, u32, u16, u8);

/// A column read into a Rust value (as SQLite converts: an integer reads as `f64`
/// too, a boolean is an integer).
pub trait FromCol: Sized {
    fn from_col(v: ValueRef<'_>, index: usize) -> Result<Self>;
}

impl<T: FromCol> FromCol for Option<T> {
    fn from_col(v: ValueRef<'_>, index: usize) -> Result<Self> {
        match v {
            ValueRef::Null => Ok(None),
            v => T::from_col(v, index).map(Some),
        }
    }
}

impl FromCol for i64 {
    fn from_col(v: ValueRef<'_>, index: usize) -> Result<Self> {
        match v {
            ValueRef::Integer(i) => Ok(i),
            other => Err(SqlError::ty(
                index,
                format!("{} where an integer was expected", other.kind()),
            )),
        }
    }
}

macro_rules! int_from_col {
    ($($t:ty),*) => {$(
        impl FromCol for $t {
            fn from_col(v: ValueRef<'_>, index: usize) -> Result<Self> {
                let i = i64::from_col(v, index)?;
                <$t>::try_from(i).map_err(|_| SqlError::ty(index, format!("{i} is out of range")))
            }
        }
    )*};
}
int_from_col!(i32, i16, u32, u16, u8, u64, usize);

impl FromCol for f64 {
    fn from_col(v: ValueRef<'_>, index: usize) -> Result<Self> {
        match v {
            ValueRef::Real(f) => Ok(f),
            ValueRef::Integer(i) => Ok(i as f64),
            other => Err(SqlError::ty(
                index,
                format!("{} where a number was expected", other.kind()),
            )),
        }
    }
}

impl FromCol for bool {
    fn from_col(v: ValueRef<'_>, index: usize) -> Result<Self> {
        i64::from_col(v, index).map(|i| i != 0)
    }
}

impl FromCol for String {
    fn from_col(v: ValueRef<'_>, index: usize) -> Result<Self> {
        match v {
            ValueRef::Text(s) => Ok(s.to_string()),
            other => Err(SqlError::ty(
                index,
                format!("{} where text was expected", other.kind()),
            )),
        }
    }
}

impl FromCol for Vec<u8> {
    fn from_col(v: ValueRef<'_>, index: usize) -> Result<Self> {
        match v {
            ValueRef::Blob(b) => Ok(b.to_vec()),
            ValueRef::Text(s) => Ok(s.as_bytes().to_vec()),
            other => Err(SqlError::ty(
                index,
                format!("{} where bytes were expected", other.kind()),
            )),
        }
    }
}

impl FromCol for Value {
    fn from_col(v: ValueRef<'_>, _: usize) -> Result<Self> {
        Ok(match v {
            ValueRef::Null => Value::Null,
            ValueRef::Integer(i) => Value::Integer(i),
            ValueRef::Real(f) => Value::Real(f),
            ValueRef::Text(s) => Value::Text(s.to_string()),
            ValueRef::Blob(b) => Value::Blob(b.to_vec()),
        })
    }
}

/// What a statement's parameters can be given as: `[]`, an array, a slice of
/// [`ToCol`], a `Vec<Value>`, or [`params!`].
pub trait Params {
    fn cols(&self) -> Vec<ValueRef<'_>>;
}

impl Params for [&dyn ToCol; 0] {
    fn cols(&self) -> Vec<ValueRef<'_>> {
        Vec::new()
    }
}

impl Params for &[&dyn ToCol] {
    fn cols(&self) -> Vec<ValueRef<'_>> {
        self.iter().map(|v| v.to_col()).collect()
    }
}

impl Params for Vec<Value> {
    fn cols(&self) -> Vec<ValueRef<'_>> {
        self.iter().map(ToCol::to_col).collect()
    }
}

impl Params for &Vec<Value> {
    fn cols(&self) -> Vec<ValueRef<'_>> {
        self.iter().map(ToCol::to_col).collect()
    }
}

impl Params for &[Value] {
    fn cols(&self) -> Vec<ValueRef<'_>> {
        self.iter().map(ToCol::to_col).collect()
    }
}

macro_rules! array_params {
    ($($n:literal),*) => {$(
        impl<T: ToCol> Params for [T; $n] {
            fn cols(&self) -> Vec<ValueRef<'_>> {
                self.iter().map(ToCol::to_col).collect()
            }
        }
    )*};
}
array_params!(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16);

/// Parameters of mixed types: `params![id, count, note]`.
#[macro_export]
#[doc(hidden)]
macro_rules! __sql_params {
    () => { &[] as &[&dyn $crate::sql::ToCol] };
    ($($p:expr),+ $(,)?) => { &[$(&$p as &dyn $crate::sql::ToCol),+] as &[&dyn $crate::sql::ToCol] };
}
pub(crate) use crate::__sql_params as params;

/// A column's place in a row (only `usize`: so `get(0)` needs no suffix).
pub trait ColIndex {
    fn index(self) -> usize;
}

impl ColIndex for usize {
    fn index(self) -> usize {
        self
    }
}

/// One row of a result.
pub enum Row<'a> {
    Sqlite(&'a rusqlite::Row<'a>),
    Postgres(&'a postgres::Row),
    /// Read whole ([`Stmt::query`]).
    Owned(Vec<Value>),
}

impl Row<'_> {
    /// Column `index` (from 0) as `T`. The first type parameter is only there so
    /// `get::<_, i64>(0)` reads as it does with rusqlite.
    pub fn get<I: ColIndex, T: FromCol>(&self, index: I) -> Result<T> {
        let index = index.index();
        match self {
            Row::Sqlite(r) => {
                use rusqlite::types::ValueRef as L;
                let v = r.get_ref(index)?;
                let v = match v {
                    L::Null => ValueRef::Null,
                    L::Integer(i) => ValueRef::Integer(i),
                    L::Real(f) => ValueRef::Real(f),
                    L::Text(t) => ValueRef::Text(
                        std::str::from_utf8(t)
                            .map_err(|e| SqlError::ty(index, format!("text not UTF-8: {e}")))?,
                    ),
                    L::Blob(b) => ValueRef::Blob(b),
                };
                T::from_col(v, index)
            }
            Row::Postgres(r) => {
                if index >= r.len() {
                    return Err(SqlError::ty(index, "no such column"));
                }
                let v: PgValue<'_> = r.try_get(index)?;
                T::from_col(v.0, index)
            }
            Row::Owned(values) => match values.get(index) {
                Some(v) => T::from_col(v.to_col(), index),
                None => Err(SqlError::ty(index, "no such column")),
            },
        }
    }

    /// Every column, owned.
    fn to_owned(&self) -> Result<Vec<Value>> {
        let n = match self {
            Row::Sqlite(r) => r.as_ref().column_count(),
            Row::Postgres(r) => r.len(),
            Row::Owned(v) => v.len(),
        };
        (0..n).map(|i| self.get(i)).collect()
    }
}

impl From<&Value> for Value {
    fn from(v: &Value) -> Value {
        v.clone()
    }
}

/// Parameters from an iterator (rusqlite's `params_from_iter`).
pub fn params_from_iter<I>(iter: I) -> Vec<Value>
where
    I: IntoIterator,
    I::Item: Into<Value>,
{
    iter.into_iter().map(Into::into).collect()
}

impl From<i64> for Value {
    fn from(v: i64) -> Value {
        Value::Integer(v)
    }
}

impl From<f64> for Value {
    fn from(v: f64) -> Value {
        Value::Real(v)
    }
}

impl From<String> for Value {
    fn from(v: String) -> Value {
        Value::Text(v)
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Value {
        Value::Text(v.to_string())
    }
}

impl From<Vec<u8>> for Value {
    fn from(v: Vec<u8>) -> Value {
        Value::Blob(v)
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Value {
        v.map_or(Value::Null, Into::into)
    }
}

/// A statement to run once or several times (rusqlite's shape; the connection
/// keeps it prepared).
pub struct Stmt<'c> {
    conn: &'c Conn,
    sql: String,
}

impl Stmt<'_> {
    pub fn execute<P: Params>(&mut self, params: P) -> Result<usize> {
        self.conn.execute(&self.sql, params)
    }

    pub fn query_row<T, P: Params, F>(&mut self, params: P, f: F) -> Result<T>
    where
        F: FnOnce(&Row<'_>) -> Result<T>,
    {
        self.conn.query_row(&self.sql, params, f)
    }

    /// Every row through `f`, read whole first.
    pub fn query_map<T, P: Params, F>(
        &mut self,
        params: P,
        mut f: F,
    ) -> Result<std::vec::IntoIter<Result<T>>>
    where
        F: FnMut(&Row<'_>) -> Result<T>,
    {
        let mut out = Vec::new();
        self.conn.query_each(&self.sql, params, |r| {
            out.push(f(r));
            Ok(())
        })?;
        Ok(out.into_iter())
    }

    /// The rows, read whole.
    pub fn query<P: Params>(&mut self, params: P) -> Result<Rows> {
        let mut rows = Vec::new();
        self.conn.query_each(&self.sql, params, |r| {
            rows.push(r.to_owned()?);
            Ok(())
        })?;
        Ok(Rows {
            rows: rows.into_iter(),
            current: None,
        })
    }

    pub fn exists<P: Params>(&mut self, params: P) -> Result<bool> {
        let mut any = false;
        self.conn.query_each(&self.sql, params, |_| {
            any = true;
            Ok(())
        })?;
        Ok(any)
    }
}

/// Rows read whole, handed out one at a time.
pub struct Rows {
    rows: std::vec::IntoIter<Vec<Value>>,
    current: Option<Row<'static>>,
}

impl Rows {
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Result<Option<&Row<'static>>> {
        self.current = self.rows.next().map(Row::Owned);
        Ok(self.current.as_ref())
    }
}

/// A PostgreSQL column of any type keibi's schema uses, as a [`ValueRef`].
struct PgValue<'a>(ValueRef<'a>);

impl<'a> FromSql<'a> for PgValue<'a> {
    fn from_sql(
        ty: &Type,
        raw: &'a [u8],
    ) -> std::result::Result<Self, Box<dyn StdError + Sync + Send>> {
        let v = match *ty {
            Type::INT8 => ValueRef::Integer(i64::from_sql(ty, raw)?),
            Type::INT4 => ValueRef::Integer(i64::from(i32::from_sql(ty, raw)?)),
            Type::INT2 => ValueRef::Integer(i64::from(i16::from_sql(ty, raw)?)),
            Type::OID => ValueRef::Integer(i64::from(u32::from_sql(ty, raw)?)),
            Type::FLOAT8 => ValueRef::Real(f64::from_sql(ty, raw)?),
            Type::FLOAT4 => ValueRef::Real(f64::from(f32::from_sql(ty, raw)?)),
            Type::BOOL => ValueRef::Integer(i64::from(bool::from_sql(ty, raw)?)),
            Type::BYTEA => ValueRef::Blob(raw),
            Type::JSONB => ValueRef::Text(std::str::from_utf8(raw.get(1..).unwrap_or_default())?),
            Type::NUMERIC => numeric(raw)?,
            _ => ValueRef::Text(<&str>::from_sql(ty, raw)?),
        };
        Ok(PgValue(v))
    }

    fn from_sql_null(_: &Type) -> std::result::Result<Self, Box<dyn StdError + Sync + Send>> {
        Ok(PgValue(ValueRef::Null))
    }

    fn accepts(ty: &Type) -> bool {
        matches!(
            *ty,
            Type::INT8
                | Type::INT4
                | Type::INT2
                | Type::OID
                | Type::FLOAT8
                | Type::FLOAT4
                | Type::BOOL
                | Type::BYTEA
                | Type::JSONB
                | Type::NUMERIC
        ) || <&str as FromSql>::accepts(ty)
    }
}

/// A `NUMERIC` (what PostgreSQL's `sum` of integers gives) as an integer when it is
/// one, else a real. Binary form: digit count, weight, sign, scale, then base-10000
/// digits.
fn numeric(raw: &[u8]) -> std::result::Result<ValueRef<'static>, Box<dyn StdError + Sync + Send>> {
    let word = |i: usize| -> std::result::Result<i16, Box<dyn StdError + Sync + Send>> {
        raw.get(i * 2..i * 2 + 2)
            .map(|b| i16::from_be_bytes([b[0], b[1]]))
            .ok_or_else(|| "a NUMERIC cut short".into())
    };
    let (n, weight, sign, scale) = (word(0)?, word(1)?, word(2)? as u16, word(3)?);
    if sign == 0xC000 {
        return Ok(ValueRef::Real(f64::NAN));
    }
    let mut v = 0f64;
    let mut exact: Option<i128> = Some(0);
    for i in 0..usize::try_from(n).unwrap_or(0) {
        let d = word(4 + i)?;
        let power = i32::from(weight) - i as i32;
        v += f64::from(d) * 10000f64.powi(power);
        exact = match (exact, u32::try_from(power)) {
            (Some(e), Ok(p)) => 10000i128
                .checked_pow(p)
                .and_then(|m| e.checked_add(i128::from(d) * m)),
            _ => None,
        };
    }
    let negative = sign == 0x4000;
    Ok(match exact.and_then(|e| i64::try_from(e).ok()) {
        Some(i) if scale == 0 || exact.is_some() => {
            ValueRef::Integer(if negative { -i } else { i })
        }
        _ => ValueRef::Real(if negative { -v } else { v }),
    })
}

/// A parameter sent as the type the server inferred for it.
#[derive(Debug)]
struct PgParam<'a>(ValueRef<'a>);

impl ToSql for PgParam<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut postgres::types::private::BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn StdError + Sync + Send>> {
        let no = |what: &str| -> Box<dyn StdError + Sync + Send> {
            format!("cannot send {what} as PostgreSQL type {ty}").into()
        };
        match (self.0, ty.clone()) {
            (ValueRef::Null, _) => Ok(IsNull::Yes),
            (ValueRef::Integer(i), Type::INT8) => i.to_sql(ty, out),
            (ValueRef::Integer(i), Type::INT4) => i32::try_from(i)?.to_sql(ty, out),
            (ValueRef::Integer(i), Type::INT2) => i16::try_from(i)?.to_sql(ty, out),
            (ValueRef::Integer(i), Type::FLOAT8) => (i as f64).to_sql(ty, out),
            (ValueRef::Integer(i), Type::FLOAT4) => (i as f32).to_sql(ty, out),
            (ValueRef::Integer(i), Type::BOOL) => (i != 0).to_sql(ty, out),
            (ValueRef::Real(f), Type::FLOAT8) => f.to_sql(ty, out),
            (ValueRef::Real(f), Type::FLOAT4) => (f as f32).to_sql(ty, out),
            (ValueRef::Real(f), Type::INT8) if f.fract() == 0.0 => (f as i64).to_sql(ty, out),
            (ValueRef::Text(s), Type::BYTEA) => s.as_bytes().to_sql(ty, out),
            (ValueRef::Text(s), Type::INT8) => s.parse::<i64>()?.to_sql(ty, out),
            (ValueRef::Text(s), Type::JSONB) => {
                out.extend_from_slice(&[1]);
                out.extend_from_slice(s.as_bytes());
                Ok(IsNull::No)
            }
            (ValueRef::Text(s), t) if <&str as ToSql>::accepts(&t) => s.to_sql(ty, out),
            (ValueRef::Blob(b), Type::BYTEA) => b.to_sql(ty, out),
            (ValueRef::Blob(b), t) if <&str as ToSql>::accepts(&t) => {
                std::str::from_utf8(b)?.to_sql(ty, out)
            }
            (ValueRef::Integer(i), t) if <&str as ToSql>::accepts(&t) => {
                i.to_string().as_str().to_sql(ty, out)
            }
            (ValueRef::Real(f), t) if <&str as ToSql>::accepts(&t) => {
                f.to_string().as_str().to_sql(ty, out)
            }
            (v, _) => Err(no(v.kind())),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    postgres::types::to_sql_checked!();
}

impl rusqlite::ToSql for ValueRef<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef as L};
        Ok(ToSqlOutput::Borrowed(match *self {
            ValueRef::Null => L::Null,
            ValueRef::Integer(i) => L::Integer(i),
            ValueRef::Real(f) => L::Real(f),
            ValueRef::Text(s) => L::Text(s.as_bytes()),
            ValueRef::Blob(b) => L::Blob(b),
        }))
    }
}

/// `?N` and `?` placeholders as PostgreSQL's `$N` (outside quotes and comments).
pub(crate) fn to_postgres(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut next = 1usize;
    let mut chars = sql.chars().peekable();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        if let Some(q) = quote {
            out.push(c);
            if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '\'' | '"' => {
                quote = Some(c);
                out.push(c);
            }
            '-' if chars.peek() == Some(&'-') => {
                // A comment to the end of the line.
                out.push(c);
                for c in chars.by_ref() {
                    out.push(c);
                    if c == '\n' {
                        break;
                    }
                }
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                // A word: `user` is the column of that name, never PostgreSQL's
                // `current_user`.
                let mut word = String::from(c);
                while let Some(d) = chars
                    .peek()
                    .filter(|d| d.is_ascii_alphanumeric() || **d == '_')
                {
                    word.push(*d);
                    chars.next();
                }
                if word.eq_ignore_ascii_case("user") {
                    out.push_str("\"user\"");
                } else {
                    out.push_str(&word);
                }
            }
            '?' => {
                let mut digits = String::new();
                while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                    digits.push(*d);
                    chars.next();
                }
                out.push('$');
                if digits.is_empty() {
                    out.push_str(&next.to_string());
                    next += 1;
                } else {
                    out.push_str(&digits);
                }
            }
            _ => out.push(c),
        }
    }
    out
}

/// A PostgreSQL connection with its prepared statements; connected again when the
/// server closed it (a restart), outside a transaction.
pub struct PgConn {
    config: postgres::Config,
    client: Option<postgres::Client>,
    statements: HashMap<String, postgres::Statement>,
}

/// The TLS a PostgreSQL connection uses when the URL's `sslmode` asks for it
/// (`prefer`, the default, uses it when the server offers it; `require` insists;
/// `disable` never): rustls, verifying the server's certificate and name against
/// `$PGSSLROOTCERT` (a PEM bundle, such as RDS's) when set, else the platform's
/// roots. Unlike libpq's `require`, a certificate that does not verify is refused.
fn tls() -> Result<tokio_postgres_rustls::MakeRustlsConnect> {
    use rustls::pki_types::pem::PemObject;
    use rustls_platform_verifier::BuilderVerifierExt;
    let bad = |why: String| SqlError::ty(0, why);
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| bad(format!("TLS: {e}")))?;
    let config = match std::env::var_os("PGSSLROOTCERT") {
        Some(path) => {
            let mut roots = rustls::RootCertStore::empty();
            let certs = rustls::pki_types::CertificateDer::pem_file_iter(&path)
                .map_err(|e| bad(format!("PGSSLROOTCERT {}: {e}", path.to_string_lossy())))?;
            for cert in certs {
                let cert = cert
                    .map_err(|e| bad(format!("PGSSLROOTCERT {}: {e}", path.to_string_lossy())))?;
                roots
                    .add(cert)
                    .map_err(|e| bad(format!("PGSSLROOTCERT {}: {e}", path.to_string_lossy())))?;
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        }
        None => builder
            .with_platform_verifier()
            .map_err(|e| bad(format!("TLS: {e}")))?
            .with_no_client_auth(),
    };
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}

impl PgConn {
    pub fn connect(config: postgres::Config) -> Result<PgConn> {
        let client = config.connect(tls()?)?;
        Ok(PgConn {
            config,
            client: Some(client),
            statements: HashMap::new(),
        })
    }

    fn client(&mut self, in_tx: bool) -> Result<&mut postgres::Client> {
        let closed = self.client.as_ref().is_none_or(|c| c.is_closed());
        if closed {
            self.statements.clear();
            self.client = None;
            if in_tx {
                // The transaction died with the connection: say so, don't carry on
                // in a new one.
                return Err(SqlError::ty(0, "the connection to PostgreSQL was lost"));
            }
            self.client = Some(self.config.connect(tls()?)?);
        }
        self.client
            .as_mut()
            .ok_or_else(|| SqlError::ty(0, "no connection"))
    }

    fn statement(&mut self, sql: &str, in_tx: bool) -> Result<postgres::Statement> {
        // Connected again first when the server closed the connection (which
        // forgets the statements prepared on the old one).
        self.client(in_tx)?;
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let text = to_postgres(sql);
        let s = self.client(in_tx)?.prepare(&text)?;
        if self.statements.len() >= STATEMENT_CACHE {
            self.statements.clear();
        }
        self.statements.insert(sql.to_string(), s.clone());
        Ok(s)
    }

    fn query(
        &mut self,
        sql: &str,
        params: &[ValueRef<'_>],
        in_tx: bool,
    ) -> Result<Vec<postgres::Row>> {
        let stmt = self.statement(sql, in_tx)?;
        let args: Vec<PgParam<'_>> = params.iter().map(|v| PgParam(*v)).collect();
        let refs: Vec<&(dyn ToSql + Sync)> =
            args.iter().map(|a| a as &(dyn ToSql + Sync)).collect();
        match self.client(in_tx)?.query(&stmt, &refs) {
            Ok(rows) => Ok(rows),
            Err(e) => {
                // A statement prepared before a schema change: prepare it again.
                if e.code() == Some(&postgres::error::SqlState::FEATURE_NOT_SUPPORTED) {
                    self.statements.remove(sql);
                }
                Err(e.into())
            }
        }
    }

    fn execute(&mut self, sql: &str, params: &[ValueRef<'_>], in_tx: bool) -> Result<u64> {
        let stmt = self.statement(sql, in_tx)?;
        let args: Vec<PgParam<'_>> = params.iter().map(|v| PgParam(*v)).collect();
        let refs: Vec<&(dyn ToSql + Sync)> =
            args.iter().map(|a| a as &(dyn ToSql + Sync)).collect();
        Ok(self.client(in_tx)?.execute(&stmt, &refs)?)
    }

    fn batch(&mut self, sql: &str, in_tx: bool) -> Result<()> {
        Ok(self.client(in_tx)?.batch_execute(sql)?)
    }
}

/// A connection to either engine.
pub enum Conn {
    Sqlite(rusqlite::Connection),
    Postgres {
        pg: Box<RefCell<PgConn>>,
        /// Inside [`Conn::begin_write`]'s transaction (no reconnecting then).
        in_tx: Cell<bool>,
    },
}

impl Conn {
    pub fn postgres(pg: PgConn) -> Conn {
        Conn::Postgres {
            pg: Box::new(RefCell::new(pg)),
            in_tx: Cell::new(false),
        }
    }

    pub fn dialect(&self) -> Dialect {
        match self {
            Conn::Sqlite(_) => Dialect::Sqlite,
            Conn::Postgres { .. } => Dialect::Postgres,
        }
    }

    /// `column`'s JSON text's top-level `key` as text (SQLite's `json_extract`,
    /// PostgreSQL's `->>`). `key` is the code's own, never input.
    pub fn json_field(&self, column: &str, key: &str) -> String {
        match self.dialect() {
            Dialect::Sqlite => format!("json_extract({column}, '$.{key}')"),
            Dialect::Postgres => format!("(({column})::jsonb ->> '{key}')"),
        }
    }

    /// SQLite's ` INDEXED BY name` (its planner told which index to use); nothing on
    /// PostgreSQL, whose planner has statistics.
    pub fn indexed_by(&self, index: &str) -> String {
        match self.dialect() {
            Dialect::Sqlite => format!(" INDEXED BY {index}"),
            Dialect::Postgres => String::new(),
        }
    }

    /// The name of a row's physical id, for "all but the newest n" deletes.
    pub fn row_id(&self) -> &'static str {
        match self.dialect() {
            Dialect::Sqlite => "rowid",
            Dialect::Postgres => "ctid",
        }
    }

    /// The SQLite connection (pragmas, files), if this is one.
    pub fn sqlite(&self) -> Option<&rusqlite::Connection> {
        match self {
            Conn::Sqlite(c) => Some(c),
            Conn::Postgres { .. } => None,
        }
    }

    fn pg<R>(&self, f: impl FnOnce(&mut PgConn, bool) -> Result<R>) -> Result<R> {
        match self {
            Conn::Postgres { pg, in_tx } => {
                let mut pg = pg.try_borrow_mut().map_err(|_| {
                    SqlError::ty(0, "a query was run inside another's row callback")
                })?;
                f(&mut pg, in_tx.get())
            }
            Conn::Sqlite(_) => unreachable!("pg() on SQLite"),
        }
    }

    /// Runs a statement; returns the rows it changed.
    pub fn execute<P: Params>(&self, sql: &str, params: P) -> Result<usize> {
        let cols = params.cols();
        match self {
            Conn::Sqlite(c) => Ok(c
                .prepare_cached(sql)?
                .execute(rusqlite::params_from_iter(cols.iter()))?),
            Conn::Postgres { .. } => self
                .pg(|pg, tx| pg.execute(sql, &cols, tx))
                .map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
        }
    }

    /// A statement (prepared when first run; kept prepared by the connection).
    pub fn prepare(&self, sql: &str) -> Result<Stmt<'_>> {
        Ok(Stmt {
            conn: self,
            sql: sql.to_string(),
        })
    }

    /// [`Conn::prepare`] (every statement is kept prepared).
    pub fn prepare_cached(&self, sql: &str) -> Result<Stmt<'_>> {
        self.prepare(sql)
    }

    /// Runs several statements without parameters.
    pub fn execute_batch(&self, sql: &str) -> Result<()> {
        match self {
            Conn::Sqlite(c) => Ok(c.execute_batch(sql)?),
            Conn::Postgres { .. } => self.pg(|pg, tx| pg.batch(sql, tx)),
        }
    }

    /// The first row, through `f`; [`SqlError::NoRows`] when there is none.
    pub fn query_row<T, P: Params, F>(&self, sql: &str, params: P, f: F) -> Result<T>
    where
        F: FnOnce(&Row<'_>) -> Result<T>,
    {
        let cols = params.cols();
        match self {
            Conn::Sqlite(c) => {
                let mut stmt = c.prepare_cached(sql)?;
                let mut rows = stmt.query(rusqlite::params_from_iter(cols.iter()))?;
                match rows.next()? {
                    Some(r) => f(&Row::Sqlite(r)),
                    None => Err(SqlError::NoRows),
                }
            }
            Conn::Postgres { .. } => {
                let rows = self.pg(|pg, tx| pg.query(sql, &cols, tx))?;
                match rows.first() {
                    Some(r) => f(&Row::Postgres(r)),
                    None => Err(SqlError::NoRows),
                }
            }
        }
    }

    /// Every row through `f`, in order.
    pub fn query_map<T, P: Params, F>(&self, sql: &str, params: P, mut f: F) -> Result<Vec<T>>
    where
        F: FnMut(&Row<'_>) -> Result<T>,
    {
        let mut out = Vec::new();
        self.query_each(sql, params, |r| {
            out.push(f(r)?);
            Ok(())
        })?;
        Ok(out)
    }

    /// Hands every row to `f`, in order (SQLite streams them; PostgreSQL's come
    /// whole first).
    pub fn query_each<P: Params, F>(&self, sql: &str, params: P, mut f: F) -> Result<()>
    where
        F: FnMut(&Row<'_>) -> Result<()>,
    {
        let cols = params.cols();
        match self {
            Conn::Sqlite(c) => {
                let mut stmt = c.prepare_cached(sql)?;
                let mut rows = stmt.query(rusqlite::params_from_iter(cols.iter()))?;
                while let Some(r) = rows.next()? {
                    f(&Row::Sqlite(r))?;
                }
                Ok(())
            }
            Conn::Postgres { .. } => {
                let rows = self.pg(|pg, tx| pg.query(sql, &cols, tx))?;
                for r in &rows {
                    f(&Row::Postgres(r))?;
                }
                Ok(())
            }
        }
    }

    /// A write transaction: SQLite's `BEGIN IMMEDIATE`; on PostgreSQL a transaction
    /// holding the store's write lock (see the module documentation). Rolled back
    /// when dropped without [`Tx::commit`].
    pub fn begin_write(&self) -> Result<Tx<'_>> {
        match self {
            Conn::Sqlite(c) => c.execute_batch("BEGIN IMMEDIATE")?,
            Conn::Postgres { in_tx, .. } => {
                self.pg(|pg, _| {
                    pg.batch(
                        &format!("BEGIN; SELECT pg_advisory_xact_lock({WRITE_LOCK})"),
                        false,
                    )
                })?;
                in_tx.set(true);
            }
        }
        Ok(Tx {
            conn: self,
            open: true,
        })
    }

    /// A read transaction: one snapshot for several queries (SQLite's deferred
    /// `BEGIN`; PostgreSQL's `REPEATABLE READ, READ ONLY`).
    pub fn begin_read(&self) -> Result<Tx<'_>> {
        match self {
            Conn::Sqlite(c) => c.execute_batch("BEGIN")?,
            Conn::Postgres { in_tx, .. } => {
                self.pg(|pg, _| {
                    pg.batch("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY", false)
                })?;
                in_tx.set(true);
            }
        }
        Ok(Tx {
            conn: self,
            open: true,
        })
    }

    fn end(&self, sql: &str) -> Result<()> {
        let r = self.execute_batch(sql);
        if let Conn::Postgres { in_tx, .. } = self {
            in_tx.set(false);
        }
        r
    }
}

/// An open transaction; derefs to its connection.
pub struct Tx<'a> {
    conn: &'a Conn,
    open: bool,
}

impl Tx<'_> {
    pub fn commit(mut self) -> Result<()> {
        self.open = false;
        self.conn.end("COMMIT")
    }

    pub fn rollback(mut self) -> Result<()> {
        self.open = false;
        self.conn.end("ROLLBACK")
    }
}

impl std::ops::Deref for Tx<'_> {
    type Target = Conn;

    fn deref(&self) -> &Conn {
        self.conn
    }
}

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        if self.open {
            let _ = self.conn.end("ROLLBACK");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_become_dollars_outside_quotes() {
        assert_eq!(
            to_postgres("SELECT a FROM t WHERE b = ?1 AND c = ?12 AND d = '?3' -- ?4\n AND e = ?"),
            "SELECT a FROM t WHERE b = $1 AND c = $12 AND d = '?3' -- ?4\n AND e = $1"
        );
        assert_eq!(
            to_postgres("VALUES (?, ?, \"a?\")"),
            "VALUES ($1, $2, \"a?\")"
        );
    }

    #[test]
    fn sqlite_reads_and_writes_through_the_layer() {
        let c = Conn::Sqlite(rusqlite::Connection::open_in_memory().unwrap());
        c.execute_batch("CREATE TABLE t (a INTEGER, b TEXT, c BLOB, d REAL)")
            .unwrap();
        let tx = c.begin_write().unwrap();
        tx.execute(
            "INSERT INTO t VALUES (?1, ?2, ?3, ?4)",
            params![7i64, "x", vec![1u8, 2], 0.5],
        )
        .unwrap();
        tx.execute(
            "INSERT INTO t VALUES (?1, ?2, NULL, NULL)",
            params![8i64, None::<String>],
        )
        .unwrap();
        tx.commit().unwrap();
        type Four = (i64, Option<String>, Option<Vec<u8>>, Option<f64>);
        let rows: Vec<Four> = c
            .query_map("SELECT a, b, c, d FROM t ORDER BY a", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .unwrap();
        assert_eq!(
            rows,
            [
                (7, Some("x".into()), Some(vec![1, 2]), Some(0.5)),
                (8, None, None, None)
            ]
        );
        let none: Option<i64> = c
            .query_row("SELECT a FROM t WHERE a = ?1", [9i64], |r| r.get(0))
            .optional()
            .unwrap();
        assert_eq!(none, None);
        // Dropped without commit: rolled back.
        {
            let tx = c.begin_write().unwrap();
            tx.execute("DELETE FROM t", []).unwrap();
        }
        let n: i64 = c
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 2);
    }
}
