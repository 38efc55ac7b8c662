# The SQL-activity findings (crates/keibi-detect/src/detectors/activity/):
# MassDestruction, RansomNote, SchemaEnumeration, OversizedStatement. English is the
# contract's language: these render exactly as keibi's English texts always have
# (counts the English wrote without separators use NUMBER(..., useGrouping: "false")).

# A name from a statement (a table), and a database named in one.
act-name = { $name }
act-database = database { $name }

# Durations as the rule templates' {duration} writes them.
act-dur-s = { $n } s
act-dur-min = { $n } min
act-dur-h = { $n } h
act-dur-days = { $n } days

## Impact:RDS/MassDestruction
# (`-pg` and `-mysql` pairs: the same English, the Japanese gives that engine's command.)

mass-title = { $actor } destroyed { NUMBER($distinct, useGrouping: "false") } tables or databases on { $instance }
mass-destroyed = { $actor } (from { $ips }) destroyed { NUMBER($distinct, useGrouping: "false") } distinct tables or databases on { $instance } between { $first } and { $last } ({ $what }): { $list }.
mass-not-restored = None of them was created again or reloaded within { NUMBER($settle, useGrouping: "false") } min, as a dump restore or an ETL reload would do.
mass-weighed = Destruction is weighed, not counted: a database or schema takes its tables with it and weighs { NUMBER($db, useGrouping: "false") } tables, as does a table emptied of { $huge } rows or more (from { $rows } rows: 2); these weigh { NUMBER($weight, useGrouping: "false") } against the threshold of { NUMBER($threshold, useGrouping: "false") }.
mass-drops = { NUMBER($n, useGrouping: "false") } DROP
mass-truncates = { NUMBER($n, useGrouping: "false") } TRUNCATE
mass-deletes = { NUMBER($n, useGrouping: "false") } DELETE without WHERE
mass-lock-pg = If nobody planned this clean-up: lock { $actor } now (PostgreSQL: ALTER ROLE ... NOLOGIN and pg_terminate_backend its sessions; MySQL: ALTER USER ... ACCOUNT LOCK and KILL its connections) and rotate its password.
mass-lock-mysql = If nobody planned this clean-up: lock { $actor } now (PostgreSQL: ALTER ROLE ... NOLOGIN and pg_terminate_backend its sessions; MySQL: ALTER USER ... ACCOUNT LOCK and KILL its connections) and rotate its password.
mass-restore = Restore the lost data from the latest snapshot or point-in-time recovery to just before { $first } into a new instance (RDS: restore-db-instance-to-point-in-time) and copy back what is missing.
mass-look = Look for a ransom note (tables or databases named README/RECOVER/WARNING) and for bulk reads or exports by the same user before the drops.

## Impact:RDS/RansomNote

ransom-title = Ransom note on { $instance }: data destroyed, then { $what } left
ransom-a-demand = a ransom demand
ransom-destroyed = { NUMBER($n, useGrouping: "false") } table(s) or database(s) destroyed on { $instance } ({ $gone }) by { $users } from { $ips }, between { $first } and { $last }{ $created }{ $demand }.
ransom-created = {", "}with { $notes } created
ransom-demand = {" "}and a demand written: { $text }
ransom-campaign = This is how the extortion campaigns against exposed databases work: the data is usually gone (not encrypted), and paying does not bring it back.
ransom-demand-title = Ransom demand written to { $instance }
ransom-demand-only = A ransom demand was written to { $instance } by { $users } from { $ips } at { $at }: { $text }.
ransom-not-seen = The destruction that usually comes with it was not seen in these logs (it may be in logs not read, or statement logging may not cover it).
ransom-no-pay = Do not pay: these campaigns rarely keep a copy.
ransom-close = Close the database to the internet now (security group or firewall: no 0.0.0.0/0 on the database port), lock the account that did it and rotate every database password.
ransom-restore = Restore from the latest snapshot or point-in-time recovery to just before the first drop into a new instance, and check which tables are missing or emptied.
ransom-keep = Keep the logs: they are the evidence.

## Discovery:RDS/SchemaEnumeration

enum-actor = { $user } from { $client }
enum-title = Schema enumeration on { $instance }: { $actor } read { NUMBER($n, useGrouping: "false") } catalog objects
enum-ran = { $actor } ran { NUMBER($reads, useGrouping: "false") } catalog queries on { $instance } between { $first } and { $last }, over { $list }.
enum-late = This client had run { NUMBER($n, useGrouping: "false") } statements over { $span } without reading the catalogs, unlike an application or ORM that inspects the schema when it starts.
enum-credential = It read password-hash or credential catalogs ({ $list }).
enum-server = It read the server's databases, roles or grants, which applications do not.
enum-tool = The client names itself { $tool }, an administration tool: likely a person browsing, severity lowered.
enum-who = Check who uses this account from this address.
enum-app = If it is an application, look for SQL injection in the endpoints it served at that time (catalog reads in the middle of its normal traffic are a classic sign) and for InitialAccess:RDS/SQLInjection findings.
enum-lock-pg = If it is not a known person or tool: lock the account, rotate its password, and review what it read and exported next.
enum-lock-mysql = If it is not a known person or tool: lock the account, rotate its password, and review what it read and exported next.

## DefenseEvasion:RDS/OversizedStatement

over-title = Oversized statement on { $instance } from { $actor }: { $size }
over-sent = { $actor } sent { $instance } a statement of { $bytes } bytes{ $many }; { $how }.
over-many = {" "}({ NUMBER($count, useGrouping: "false") } such statements, the largest shown)
over-cut = keibi read only its first and last 512 KiB
over-whole = it was read whole
over-why = Padding a statement to megabytes hides its end from tools that cut long log lines or log only the first kilobyte of a query.
over-ends = It ends: { $end }
over-read = Read the statement at the evidence line, and look at its end, after the padding: a DROP, GRANT, COPY ... PROGRAM or a second statement is the point of it.
over-compromised-pg = If the client is not an application you know to load large data, treat the account as compromised: rotate its password and check what else it ran.
over-compromised-mysql = If the client is not an application you know to load large data, treat the account as compromised: rotate its password and check what else it ran.
over-limit = On MariaDB and MySQL, raise server_audit_query_log_limit so that the audit log keeps whole statements.
