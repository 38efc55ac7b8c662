//! Checking a settings file: every value that deserialized is judged (ranges,
//! names, patterns, URLs, secrets, cross-references), and each problem is placed on
//! its line and column of the file.

use super::*;

impl Reader<'_> {
    pub(super) fn problem(&self, line: usize, column: usize, reason: String) -> Problem {
        Problem {
            file: self.file.to_string(),
            line,
            column,
            reason,
        }
    }

    pub(super) fn at(&mut self, path: &[Seg], reason: String) {
        // Each is found by reading the text again: a file of 100,000 mistakes
        // must not take 100,000 readings.
        if self.problems.len() >= MAX_PROBLEMS {
            self.more += 1;
            return;
        }
        let (line, col) = locate(self.text, path);
        self.problems.push(self.problem(line, col, reason));
    }

    pub(super) fn yaml_error(
        &mut self,
        e: &yaml_serde::Error,
        fallback: &[Seg],
        candidates: &[&str],
    ) {
        let (line, col) = match e.location() {
            Some(l) => (l.line(), l.column()),
            None => locate(self.text, fallback),
        };
        let reason = explain(&e.to_string(), candidates);
        self.problems.push(self.problem(line, col, reason));
    }

    pub(super) fn read(&mut self) -> Option<(Settings, Form)> {
        if let Err(e) = keibi_detect::yamlguard::check(self.text, &LIMITS) {
            use keibi_detect::yamlguard::YamlLimitError as Y;
            let line = match e {
                Y::TooLarge { .. } => 1,
                Y::Alias { line, .. } | Y::TooDeep { line, .. } | Y::TooManyNodes { line, .. } => {
                    line as usize
                }
            };
            let reason = e.to_string();
            let reason = reason
                .strip_prefix(&format!("line {line}: "))
                .unwrap_or(&reason)
                .to_string();
            self.problems.push(self.problem(line, 1, reason));
            return None;
        }
        let doc: yaml_serde::Value = match yaml_serde::from_str(self.text) {
            Ok(v) => v,
            Err(e) => {
                self.yaml_error(&e, &[], &[]);
                return None;
            }
        };
        let map = match doc {
            yaml_serde::Value::Null => return Some((Settings::default(), Form::Sectioned)),
            yaml_serde::Value::Mapping(m) => m,
            _ => {
                self.problems.push(self.problem(
                    1,
                    1,
                    "a settings file is a mapping of sections (sources:, detection:, ...)".into(),
                ));
                return None;
            }
        };
        let mut keys = Vec::new();
        for k in map.keys() {
            match k.as_str() {
                Some(k) => keys.push(k.to_string()),
                None => {
                    self.problems.push(self.problem(
                        1,
                        1,
                        format!("a key that is not a name: {k:?}"),
                    ));
                    return None;
                }
            }
        }
        let sectioned = keys.iter().any(|k| SECTIONS.contains(&k.as_str()));
        if !sectioned {
            // The flat form: all of it is detection settings.
            let raw = yaml_serde::Value::Mapping(map);
            return self.detection(self.text, None, raw, &[]).map(|detection| {
                let s = Settings {
                    detection,
                    ..Settings::default()
                };
                (s, Form::Flat)
            });
        }
        let mut settings = Settings::default();
        let lines = top_level_lines(self.text, &keys);
        let Some(lines) = lines else {
            // Not written as block YAML at the top (`{sources: ...}`): one reading,
            // its first problem.
            return match yaml_serde::from_str::<Settings>(self.text) {
                Ok(s) => Some((s, Form::Sectioned)),
                Err(e) => {
                    self.yaml_error(&e, &[], &SECTIONS);
                    None
                }
            };
        };
        // Where each line starts, to cut a section's lines out of the text.
        let mut line_starts = vec![0];
        line_starts.extend(self.text.match_indices('\n').map(|(i, _)| i + 1));
        for (i, k) in keys.iter().enumerate() {
            let (start, end) = lines[i];
            // A known section's own lines, at their own line numbers (the lines
            // before it blank). Only sections: there are at most ten.
            let padded = if SECTIONS.contains(&k.as_str()) {
                let from = line_starts.get(start).copied().unwrap_or(self.text.len());
                let to = line_starts.get(end).copied().unwrap_or(self.text.len());
                format!("{}{}", "\n".repeat(start), &self.text[from..to])
            } else {
                String::new()
            };
            let value = map.get(k.as_str()).cloned().unwrap_or_default();
            let path = [key(k)];
            // A section that cannot be read keeps its defaults (its problem is kept).
            let _read = match k.as_str() {
                "sources" => self.section(&padded, (start, end), &path, &mut settings.sources),
                "lists" => self.section(&padded, (start, end), &path, &mut settings.lists),
                "tuning" => self.section(&padded, (start, end), &path, &mut settings.tuning),
                "rules" => self.section(&padded, (start, end), &path, &mut settings.rules),
                "store" => self.section(&padded, (start, end), &path, &mut settings.store),
                "server" => self.section(&padded, (start, end), &path, &mut settings.server),
                "log" => self.section(&padded, (start, end), &path, &mut settings.log),
                "display" => self.section(&padded, (start, end), &path, &mut settings.display),
                "notify" => self.section(&padded, (start, end), &path, &mut settings.notify),
                "audit" => self.section(&padded, (start, end), &path, &mut settings.audit),
                "listen" => self.section(&padded, (start, end), &path, &mut settings.listen),
                "respond" => self.section(&padded, (start, end), &path, &mut settings.respond),
                "dashboard" => self.section(&padded, (start, end), &path, &mut settings.dashboard),
                "stream" => self.section(&padded, (start, end), &path, &mut settings.stream),
                "worker" => self.section(&padded, (start, end), &path, &mut settings.worker),
                "detection" => match self.detection(&padded, Some((start, end)), value, &path) {
                    Some(d) => {
                        settings.detection = d;
                        true
                    }
                    None => false,
                },
                _ if self.problems.len() >= MAX_PROBLEMS => {
                    self.more += 1;
                    false
                }
                other => {
                    let is_detection = {
                        let mut one = yaml_serde::Mapping::new();
                        one.insert(other.into(), value);
                        Detection::from_value(yaml_serde::Value::Mapping(one)).is_ok()
                    };
                    let reason = if is_detection {
                        format!("`{other}` is a detection setting: in a file of sections it goes under `detection:`")
                    } else {
                        match closest(other, &SECTIONS) {
                            Some(c) => format!("unknown section `{other}`: did you mean `{c}`?"),
                            None => format!(
                                "unknown section `{other}` (the sections are {})",
                                SECTIONS.join(", ")
                            ),
                        }
                    };
                    self.at(&path, reason);
                    false
                }
            };
        }
        Some((settings, Form::Sectioned))
    }

    /// Reads one section from its own lines (`padded`: the file's other lines
    /// blank), so its problems carry their place in the file.
    pub(super) fn section<T: serde::de::DeserializeOwned>(
        &mut self,
        padded: &str,
        (start, end): (usize, usize),
        path: &[Seg],
        out: &mut T,
    ) -> bool {
        match yaml_serde::from_str::<BTreeMap<String, Option<T>>>(padded) {
            Ok(mut m) => {
                if let Some(v) = m.pop_first().and_then(|(_, v)| v) {
                    *out = v;
                }
                true
            }
            Err(e) => {
                if !self.refine::<T>(start, end) {
                    self.yaml_error(&e, path, &[]);
                }
                false
            }
        }
    }

    /// Finds the problems of a section that did not read, one per key of it and
    /// one per item of a list under a key: each part is read alone, the others left
    /// out (every field has a default). False when no part alone has a problem
    /// (one that lies between parts is then reported whole).
    pub(super) fn refine<T: serde::de::DeserializeOwned>(
        &mut self,
        start: usize,
        end: usize,
    ) -> bool {
        let lines: Vec<&str> = self.text.lines().collect();
        let fails = |keep: &[(usize, usize)]| -> Option<yaml_serde::Error> {
            let mut text = String::new();
            let mut cur = 0;
            for &(lo, hi) in keep {
                text.extend(std::iter::repeat_n('\n', lo.saturating_sub(cur)));
                for l in lines.get(lo..hi).unwrap_or_default() {
                    text.push_str(l);
                    text.push('\n');
                }
                cur = hi;
            }
            yaml_serde::from_str::<BTreeMap<String, Option<T>>>(&text).err()
        };
        let head = (start, start + 1);
        let mut found = Vec::new();
        // Each reading costs a pass over the file's head: bounded as problems are.
        let mut tries = 0;
        for (lo, hi) in locate::blocks(&lines, start + 1, end) {
            if found.len() >= MAX_PROBLEMS || tries >= 4 * MAX_PROBLEMS {
                break;
            }
            tries += 1;
            let Some(e) = fails(&[head, (lo, hi)]) else {
                continue;
            };
            let items = locate::blocks(&lines, lo + 1, hi);
            let is_list = items
                .first()
                .is_some_and(|(i, _)| locate::parts(lines[*i]).1.starts_with('-'));
            let mut in_items = Vec::new();
            if is_list {
                for (n, &(ilo, ihi)) in items.iter().enumerate() {
                    if found.len() + in_items.len() >= MAX_PROBLEMS || tries >= 4 * MAX_PROBLEMS {
                        break;
                    }
                    tries += 1;
                    // Read alone, the item is item 0 in the message's path.
                    in_items.extend(fails(&[head, (lo, lo + 1), (ilo, ihi)]).map(|e| (e, Some(n))));
                }
            }
            if in_items.is_empty() {
                found.push((e, None));
            } else {
                found.extend(in_items);
            }
        }
        for (e, item) in &found {
            self.yaml_error(e, &[], &[]);
            if let (Some(n), Some(p)) = (item, self.problems.last_mut()) {
                p.reason = p.reason.replacen("[0]", &format!("[{n}]"), 1);
            }
        }
        !found.is_empty()
    }

    /// The detection settings under `path` (`raw` is their value): deserialized
    /// from the text for the place of a wrong key, then checked as `--config` is.
    pub(super) fn detection(
        &mut self,
        text: &str,
        lines: Option<(usize, usize)>,
        raw: yaml_serde::Value,
        path: &[Seg],
    ) -> Option<Detection> {
        let typed = if path.is_empty() {
            yaml_serde::from_str::<Option<keibi_detect::Config>>(text).map(|_| ())
        } else {
            yaml_serde::from_str::<BTreeMap<String, Option<keibi_detect::Config>>>(text).map(|_| ())
        };
        if let Err(e) = typed {
            let refined =
                lines.is_some_and(|(start, end)| self.refine::<keibi_detect::Config>(start, end));
            if !refined {
                let cands: &[&str] = if path.is_empty() { &SECTIONS } else { &[] };
                self.yaml_error(&e, path, cands);
            }
            return None;
        }
        match Detection::from_value(raw) {
            Ok(d) => Some(d),
            Err(reason) => {
                // `Config::validate` names the key first: "login.x_secs: ...".
                let mut at: Vec<Seg> = path.to_vec();
                if let Some((k, _)) = reason.split_once(": ") {
                    at.extend(k.split('.').map(key));
                }
                self.at(&at, reason);
                None
            }
        }
    }

    /// The `respond` section: patterns, action names that exist, the webhooks and
    /// commands they name, URLs, the ACL rule range (`Respond::problems`).
    pub(super) fn check_respond(&mut self, r: &super::Respond) {
        for (dotted, reason) in r.problems() {
            let mut at = Vec::new();
            for part in dotted.split('.') {
                match part.split_once('[') {
                    Some((k, rest)) => {
                        at.push(key(k));
                        if let Ok(i) = rest.trim_end_matches(']').parse::<usize>() {
                            at.push(Seg::Item(i));
                        }
                    }
                    None => at.push(key(part)),
                }
            }
            self.at(&at, format!("{dotted}: {reason}"));
        }
    }

    /// The `listen` section: a listener that takes requests has its secret, and
    /// the bounds leave room for one request.
    pub(super) fn check_listen(&mut self, l: &ListenSettings) {
        let at = |k: &[&'static str]| {
            let mut p = vec![key("listen")];
            p.extend(k.iter().map(|k| key(k)));
            p
        };
        if l.firehose.listen.addr().is_some() && l.firehose.access_key.is_none() {
            self.at(
                &at(&["firehose", "listen"]),
                "listen.firehose.access_key: required when the Firehose endpoint is on ({env: NAME} or {file: PATH})".into(),
            );
        }
        if l.http.listen.addr().is_some() && l.http.token.is_none() {
            self.at(
                &at(&["http", "listen"]),
                "listen.http.token: required when the HTTP listener is on ({env: NAME} or {file: PATH})".into(),
            );
        }
        if l.max_body_bytes < 1024 {
            self.at(
                &at(&["max_body_bytes"]),
                "listen.max_body_bytes: 1024 or more".into(),
            );
        }
        if l.queue_bytes < l.max_body_bytes {
            self.at(
                &at(&["queue_bytes"]),
                "listen.queue_bytes: at least listen.max_body_bytes".into(),
            );
        }
        if l.syslog.max_connections == 0 {
            self.at(
                &at(&["syslog", "max_connections"]),
                "listen.syslog.max_connections: 1 or more".into(),
            );
        }
        if l.syslog.max_line_bytes < 1024 {
            self.at(
                &at(&["syslog", "max_line_bytes"]),
                "listen.syslog.max_line_bytes: 1024 or more (RFC 5424 receivers take at least 480, RFC 3164 messages are up to 1024)".into(),
            );
        }
    }

    /// The `stream` and `worker` sections: one stream named, a partition count a
    /// server can map, a known format, renewals well within a lease.
    pub(super) fn check_stream(&mut self, st: &super::Stream, w: &super::Worker) {
        if st.nats.is_some() && st.kinesis.is_some() {
            self.at(
                &[key("stream"), key("kinesis")],
                "stream: name one of nats and kinesis, not both".into(),
            );
        }
        if let Some(n) = &st.nats {
            if !(1..=1024).contains(&n.partitions) {
                self.at(
                    &[key("stream"), key("nats"), key("partitions")],
                    "stream.nats.partitions: from 1 to 1024".into(),
                );
            }
            if n.stream.is_empty() || n.url.is_empty() {
                self.at(
                    &[key("stream"), key("nats")],
                    "stream.nats: url and stream must be given".into(),
                );
            }
        }
        if st.kinesis.as_ref().is_some_and(|k| k.stream.is_empty()) {
            self.at(
                &[key("stream"), key("kinesis"), key("stream")],
                "stream.kinesis.stream: the stream's name must be given".into(),
            );
        }
        if let Some(f) = &st.format {
            if let Err(reason) = f.parse::<keibi_parse::Format>() {
                self.at(
                    &[key("stream"), key("format")],
                    format!("stream.format: {reason}"),
                );
            }
        }
        if w.lease_ttl.std() < std::time::Duration::from_secs(1) {
            self.at(
                &[key("worker"), key("lease_ttl")],
                "worker.lease_ttl: at least 1s".into(),
            );
        }
        if w.renew_every.std().is_zero() || w.renew_every.std() * 2 > w.lease_ttl.std() {
            self.at(
                &[key("worker"), key("renew_every")],
                "worker.renew_every: more than 0 and at most half of worker.lease_ttl (a renewal may be late once without losing the lease)".into(),
            );
        }
        if w.id
            .as_ref()
            .is_some_and(|i| i.is_empty() || i.len() > 200 || i.chars().any(char::is_control))
        {
            self.at(
                &[key("worker"), key("id")],
                "worker.id: 1 to 200 bytes, no control characters".into(),
            );
        }
    }

    /// The `dashboard` section: TLS files given together and present, the bind
    /// rules (plain HTTP on loopback only, unless `allow_plain_http_on` names the
    /// address), a proxy header with its trusted addresses and known roles, limits
    /// that leave a session and a login possible.
    pub(super) fn check_dashboard(&mut self, d: &super::Dashboard) {
        use super::dashboard::{header_name, ROLES};
        let at = |k: &[&'static str]| {
            let mut p = vec![key("dashboard")];
            p.extend(k.iter().map(|k| key(k)));
            p
        };
        let tls = match (&d.tls.cert, &d.tls.key) {
            (Some(c), Some(k)) => {
                for (name, p) in [("cert", c), ("key", k)] {
                    if !p.is_file() {
                        self.at(
                            &at(&["tls", if name == "cert" { "cert" } else { "key" }]),
                            format!("dashboard.tls.{name}: {} does not exist", p.display()),
                        );
                    }
                }
                true
            }
            (None, None) => false,
            _ => {
                self.at(
                    &at(&["tls"]),
                    "dashboard.tls: give both cert and key (PEM files), or neither".into(),
                );
                true
            }
        };
        if let Some(addr) = d.listen.addr() {
            if !tls && !addr.ip().is_loopback() && d.allow_plain_http_on != Some(addr) {
                self.at(
                    &at(&["listen"]),
                    format!("dashboard.listen: {addr} is not loopback and has no TLS: give dashboard.tls.cert and key, or listen on 127.0.0.1 behind a TLS-terminating proxy, or (such a proxy reaching it on this address) set dashboard.allow_plain_http_on: {addr}"),
                );
            }
        }
        if let Some(u) = &d.public_url {
            if !(u.starts_with("http://") || u.starts_with("https://")) || u.len() > 2048 {
                self.at(
                    &at(&["public_url"]),
                    "dashboard.public_url: an http:// or https:// URL".into(),
                );
            }
        }
        if d.session.idle.std() < std::time::Duration::from_secs(60)
            || d.session.idle > d.session.absolute
        {
            self.at(
                &at(&["session", "idle"]),
                "dashboard.session.idle: 1m or longer, and no longer than dashboard.session.absolute".into(),
            );
        }
        if d.login.max_failures == 0 {
            self.at(
                &at(&["login", "max_failures"]),
                "dashboard.login.max_failures: 1 or more".into(),
            );
        }
        if d.login.window.std() < std::time::Duration::from_secs(60) {
            self.at(
                &at(&["login", "window"]),
                "dashboard.login.window: 1m or longer".into(),
            );
        }
        let p = &d.auth.proxy;
        if let Some(h) = &p.header {
            if !header_name(h) {
                self.at(
                    &at(&["auth", "proxy", "header"]),
                    format!("dashboard.auth.proxy.header: {h:?} is not a header name"),
                );
            }
            if p.trusted.is_empty() {
                self.at(
                    &at(&["auth", "proxy", "trusted"]),
                    "dashboard.auth.proxy.trusted: the proxies' addresses are required with a header (it is taken from them only)".into(),
                );
            }
        }
        if let Some(h) = &p.groups_header {
            if !header_name(h) {
                self.at(
                    &at(&["auth", "proxy", "groups_header"]),
                    format!("dashboard.auth.proxy.groups_header: {h:?} is not a header name"),
                );
            }
        }
        for (g, r) in &p.groups {
            if !ROLES.contains(&r.as_str()) {
                self.at(
                    &at(&["auth", "proxy", "groups"]),
                    format!("dashboard.auth.proxy.groups.{g}: {r:?} is not a role (viewer, responder, admin)"),
                );
            }
        }
        if let Some(r) = &p.default_role {
            if !ROLES.contains(&r.as_str()) {
                self.at(
                    &at(&["auth", "proxy", "default_role"]),
                    format!("dashboard.auth.proxy.default_role: {r:?} is not a role (viewer, responder, admin)"),
                );
            }
        }
    }

    /// The `audit` section: files exist, URLs are database URLs without a password
    /// written in, suppressions name a known control and say why.
    pub(super) fn check_audit(&mut self, a: &Audit) {
        let at = |k: &[Seg]| {
            let mut p = vec![key("audit")];
            p.extend(k.iter().cloned());
            p
        };
        let every = a.every.std();
        if !every.is_zero() && every < std::time::Duration::from_secs(1) {
            self.at(
                &at(&[key("every")]),
                "audit.every: 1s or longer, or 0 for off".into(),
            );
        }
        for (k, why) in
            super::audit::role_problems(a.aws.role_arn.as_deref(), a.aws.external_id.as_deref())
        {
            self.at(&at(&[key("aws"), key(k)]), format!("audit.aws.{k}: {why}"));
        }
        if a.aws.role_arn.is_some() && !a.aws.accounts.is_empty() {
            self.at(
                &at(&[key("aws"), key("role_arn")]),
                "audit.aws: give role_arn (one account) or accounts (several), not both".into(),
            );
        }
        for (i, acc) in a.aws.accounts.iter().enumerate() {
            for (k, why) in
                super::audit::role_problems(Some(&acc.role_arn), acc.external_id.as_deref())
            {
                self.at(
                    &at(&[key("aws"), key("accounts"), Seg::Item(i), key(k)]),
                    format!("audit.aws.accounts[{i}].{k}: {why}"),
                );
            }
        }
        for (i, p) in a.aws_json.iter().enumerate() {
            if !p.exists() {
                self.at(
                    &at(&[key("aws_json"), Seg::Item(i)]),
                    format!("{}: does not exist", p.display()),
                );
            }
        }
        for (name, schemes, list) in [
            (
                "postgres",
                &["postgres://", "postgresql://"][..],
                &a.postgres,
            ),
            ("mysql", &["mysql://", "mariadb://"][..], &a.mysql),
        ] {
            for (i, t) in list.iter().enumerate() {
                let place = at(&[key(name), Seg::Item(i), key("url")]);
                let url = t.url.trim();
                if !schemes.iter().any(|s| url.starts_with(s)) {
                    self.at(
                        &place,
                        format!(
                            "{:?} is not a {name} URL (it starts with {})",
                            t.display_url(),
                            schemes.join(" or ")
                        ),
                    );
                } else if t.password.is_some() && t.display_url() != t.url {
                    self.at(
                        &place,
                        "the URL has a password and `password` gives one too: keep only `password`"
                            .into(),
                    );
                }
            }
        }
        for (i, r) in a.suppress.iter().enumerate() {
            let place = |k: &str| at(&[key("suppress"), Seg::Item(i), key(k)]);
            if r.control.trim().is_empty() {
                self.at(
                    &place("control"),
                    "a suppression names its control (as RDS.2)".into(),
                );
            } else if keibi_posture::control(r.control.trim()).is_none() {
                self.at(
                    &place("control"),
                    format!(
                        "{:?} is not a control keibi checks (keibi audit --list-controls lists them)",
                        r.control
                    ),
                );
            }
            let rule = keibi_posture::Suppress {
                control: r.control.clone(),
                resource: r.resource.clone(),
                reason: r.reason.clone(),
            };
            if let Err(e) = rule.pattern() {
                self.at(&place("resource"), e);
            }
            if r.reason.trim().is_empty() {
                self.at(
                    &place("reason"),
                    "a suppression says why (reason), for whoever reads the findings next".into(),
                );
            }
        }
    }

    /// Checks what parsed: each problem found is kept, all are reported.
    pub(super) fn check(&mut self, s: &Settings, form: Form) {
        if form == Form::Flat {
            return;
        }
        let base = [key("sources"), key("inputs")];
        for (i, src) in s.sources.inputs.iter().enumerate() {
            let at = |k: &str| {
                let mut p = base.to_vec();
                p.push(Seg::Item(i));
                if !k.is_empty() {
                    p.push(key(k));
                }
                p
            };
            let named = [
                src.path.is_some(),
                src.glob.is_some(),
                src.dir.is_some(),
                src.stdin,
                src.url.is_some(),
            ]
            .iter()
            .filter(|b| **b)
            .count();
            if named != 1 {
                self.at(
                    &at(""),
                    format!(
                        "a source names one thing to read, one of path, glob, dir, url or stdin: true ({})",
                        if named == 0 { "it names none".to_string() } else { format!("it names {named}") }
                    ),
                );
            }
            if let Some(p) = &src.path {
                if !p.is_file() {
                    let why = if p.exists() {
                        "is not a file"
                    } else {
                        "does not exist"
                    };
                    self.at(&at("path"), format!("{}: {why}", p.display()));
                }
            }
            if let Some(p) = &src.dir {
                if !p.is_dir() {
                    let why = if p.exists() {
                        "is not a directory"
                    } else {
                        "does not exist"
                    };
                    self.at(&at("dir"), format!("{}: {why}", p.display()));
                }
            }
            if let Some(u) = &src.url {
                if !u.starts_with("s3://")
                    && !u.starts_with("cloudwatch://")
                    && !u.starts_with("rds://")
                    && !u.starts_with("cloudtrail-history://")
                {
                    self.at(
                        &at("url"),
                        format!(
                            "{u:?} is not a URL keibi reads (s3://bucket/prefix, cloudwatch://log-group, rds://instance, cloudtrail-history://region)"
                        ),
                    );
                }
            }
            for (k, why) in
                super::audit::role_problems(src.role_arn.as_deref(), src.external_id.as_deref())
            {
                self.at(&at(k), why);
            }
            if src.role_arn.is_some() && src.url.is_none() {
                self.at(
                    &at("role_arn"),
                    "a role reads a `url` source (s3://, cloudwatch://, rds://, cloudtrail-history://)"
                        .into(),
                );
            }
            if let Some(g) = &src.glob {
                if let Err(e) = globset::Glob::new(g) {
                    self.at(&at("glob"), format!("{g:?} is not a glob: {}", e.kind()));
                }
            }
            if let Some(f) = &src.format {
                if let Err(e) = f.parse::<keibi_parse::Format>() {
                    self.at(&at("format"), e.to_string());
                }
            }
            if let Some(z) = &src.log_timezone {
                if keibi_parse::time::zone_offset(z).is_none() {
                    self.at(
                        &at("log_timezone"),
                        format!("{z:?} is not a UTC offset (as +09:00, -05:00, UTC)"),
                    );
                }
            }
        }
        if let Some(lang) = &s.display.lang {
            if let Err(e) = lang.parse::<keibi_i18n::Lang>() {
                self.at(&[key("display"), key("lang")], e.to_string());
            }
        }
        if let Some(tz) = &s.display.tz {
            if let Err(e) = keibi_i18n::DisplayZone::named(tz) {
                self.at(&[key("display"), key("tz")], e.to_string());
            }
        }
        for p in s.notify.problems() {
            let mut at = vec![key("notify")];
            at.extend(p.at.iter().map(|a| match a {
                keibi_notify::settings::At::Key(k) => key(k),
                keibi_notify::settings::At::Item(i) => Seg::Item(*i),
            }));
            self.at(&at, p.reason);
        }
        let l = &s.lists;
        for (name, paths) in [
            ("tor", &l.tor),
            ("threat", &l.threat),
            ("trusted", &l.trusted),
        ] {
            for (i, p) in paths.iter().enumerate() {
                self.file_exists(p, &[key("lists"), key(name), Seg::Item(i)]);
            }
        }
        for (name, p) in [("asn_db", &l.asn_db), ("geoip_db", &l.geoip_db)] {
            if let Some(p) = p {
                self.file_exists(p, &[key("lists"), key(name)]);
            }
        }
        for (i, a) in l.trusted_accounts.iter().enumerate() {
            if a.len() != 12 || !a.bytes().all(|b| b.is_ascii_digit()) {
                self.at(
                    &[key("lists"), key("trusted_accounts"), Seg::Item(i)],
                    format!("{a:?} is not an AWS account id (12 digits)"),
                );
            }
        }
        for (i, rule) in s.tuning.suppress.iter().enumerate() {
            if rule.is_empty() {
                self.at(
                    &[key("tuning"), key("suppress"), Seg::Item(i)],
                    "a suppression says what it suppresses: at least one of type, resource, ip, user".into(),
                );
            }
        }
        for (i, d) in s.tuning.disable.iter().enumerate() {
            if d.trim().is_empty() {
                self.at(
                    &[key("tuning"), key("disable"), Seg::Item(i)],
                    "an empty detector name".into(),
                );
            }
        }
        for (i, p) in s.rules.paths.iter().enumerate() {
            if !p.exists() {
                self.at(
                    &[key("rules"), key("paths"), Seg::Item(i)],
                    format!("{}: does not exist", p.display()),
                );
            }
        }
        let store = &s.store.path;
        if keibi_store::is_postgres(store) {
            // A server's URL: checked when connecting.
        } else if store.is_dir() {
            self.at(
                &[key("store"), key("path")],
                format!("{}: is a directory", store.display()),
            );
        } else if let Some(parent) = store.parent().filter(|p| !p.as_os_str().is_empty()) {
            if !parent.is_dir() {
                self.at(
                    &[key("store"), key("path")],
                    format!(
                        "{}: no directory {} to create it in",
                        store.display(),
                        parent.display()
                    ),
                );
            }
        }
        if s.store.retention.std() < std::time::Duration::from_secs(3600) {
            self.at(
                &[key("store"), key("retention")],
                "store.retention: keep findings at least 1h".into(),
            );
        }
        self.check_audit(&s.audit);
        self.check_listen(&s.listen);
        self.check_respond(&s.respond);
        self.check_dashboard(&s.dashboard);
        self.check_stream(&s.stream, &s.worker);
        if s.store.prune_every.std() < std::time::Duration::from_secs(60) {
            self.at(
                &[key("store"), key("prune_every")],
                "store.prune_every: 1m or longer".into(),
            );
        }
        if s.store.activity_retention.std() < std::time::Duration::from_secs(3600) {
            self.at(
                &[key("store"), key("activity_retention")],
                "store.activity_retention: keep activity at least 1h".into(),
            );
        }
        if s.store.activity_max_rows == 0 {
            self.at(
                &[key("store"), key("activity_max_rows")],
                "store.activity_max_rows: at least 1".into(),
            );
        }
        if let Some(d) = &s.store.export_dir {
            if !d.is_dir() {
                let why = if d.exists() {
                    "is not a directory"
                } else {
                    "does not exist"
                };
                self.at(
                    &[key("store"), key("export_dir")],
                    format!("{}: {why}", d.display()),
                );
            }
        }
    }

    pub(super) fn file_exists(&mut self, p: &Path, at: &[Seg]) {
        if !p.is_file() {
            let why = if p.exists() {
                "is not a file"
            } else {
                "does not exist"
            };
            self.at(at, format!("{}: {why}", p.display()));
        }
    }
}
