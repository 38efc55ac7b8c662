# The commands' own messages: warnings, errors and summaries on stderr, and the
# lines they print for a person (crates/keibi/src/cmd/*, crates/keibi/src/*.rs).
# English is what keibi always printed, byte for byte: tests and the README pin it.
# A count printed without separators is NUMBER($n, useGrouping: "false").

## Every command
cli-error = keibi: error: { $text }
cli-warning = keibi: warning: { $text }
cli-note = keibi: { $text }

# The operating system's errors (strerror), as Linux writes them.
oserr-2 = No such file or directory
oserr-5 = Input/output error
oserr-13 = Permission denied
oserr-17 = File exists
oserr-20 = Not a directory
oserr-21 = Is a directory
oserr-24 = Too many open files
oserr-28 = No space left on device
oserr-30 = Read-only file system
oserr-36 = File name too long
oserr-40 = Too many levels of symbolic links

not-utf8 = not UTF-8 text
too-large = larger than { NUMBER($max, useGrouping: "false") } bytes, the most keibi reads of such a file
binary-file = binary data (a NUL byte at offset { NUMBER($offset, useGrouping: "false") }), not a text file

## Reading inputs (events, scan, learn)
in-error = keibi: error: { $path }: { $reason }
in-warning = keibi: warning: { $path }: { $reason }
in-line-warning = keibi: warning: { $file }:{ $line }: { $reason }
in-unrecognized = keibi: unrecognized line: { $file }:{ $line }: { $reason }
in-more-unrecognized = keibi: { $file }: { NUMBER($n, useGrouping: "false") } more unrecognized lines not shown
in-log-timezone = --log-timezone '{ $value }' is not an offset such as +09:00 or UTC
in-not-recognized = format not recognized (first line: { $first }){ $closest }{ $gaveup }; name it with --log-format, or for PostgreSQL give your log_line_prefix with --pg-prefix
in-closest = {"; "}the closest log_line_prefix, inferred from its first lines, is '{ $prefix }' and reads only { NUMBER($explained, useGrouping: "false") } of { NUMBER($sampled, useGrouping: "false") } of them
in-gave-up = {"; "}gave up on it after its first { NUMBER($bytes, useGrouping: "false") } bytes ({ NUMBER($lines, useGrouping: "false") } lines), the rest is not read
in-empty = empty input

## keibi events
ev-skipped = keibi: { $n } lines of other programs skipped
ev-summary = keibi: { NUMBER($events, useGrouping: "false") } events from { NUMBER($files, useGrouping: "false") } files, { NUMBER($unrecognized, useGrouping: "false") } unrecognized lines{ $unread ->
    [0] {""}
    [one] {" "}(and the rest of 1 input in no known format, not read)
   *[other] {" "}(and the rest of { NUMBER($unread, useGrouping: "false") } inputs in no known format, not read)
}
ev-explain-error = keibi: { $path }: { $reason }
ev-explain-format = {"  "}format: { $format }
ev-explain-not-recognized = {"  "}format: not recognized
ev-explain-how-given = the prefix given with --pg-prefix reads it
ev-explain-how-inferred = read with the inferred prefix
ev-explain-how-detected = not used: the detected format reads it
ev-explain-how-unsure = not sure enough to read it with
ev-explain-prefix = {"  "}inferred log_line_prefix: '{ $prefix }' ({ $how })
ev-explain-explains = {"  "}explains { NUMBER($explained, useGrouping: "false") } of { NUMBER($sampled, useGrouping: "false") } sampled lines
ev-explain-ambiguous = {"  "}ambiguous: { $what }
ev-explain-none = {"  "}inferred log_line_prefix: none (no line has a PostgreSQL level word)

## keibi scan
scan-tuning = keibi: tuning (--config): { NUMBER($suppressed, useGrouping: "false") } findings suppressed, { NUMBER($disabled, useGrouping: "false") } from disabled detectors dropped, { NUMBER($rescored, useGrouping: "false") } given another severity
scan-rolled-note = keibi: note: more than { $max } findings: the most severe are listed one by one, and { $n } less severe ones are rolled up into { $rollups ->
    [one] 1 roll-up finding
   *[other] { NUMBER($rollups, useGrouping: "false") } roll-up findings
} (one per detector and type)
scan-dropped-warning = keibi: warning: { $n } findings were dropped unseen: more than { NUMBER($kinds, useGrouping: "false") } kinds of findings overflowed the { $max } kept (narrow the input with --since/--until or the paths)
scan-trusted = { NUMBER($n, useGrouping: "false") } login and connection events from trusted addresses raised no findings
scan-summary = keibi: { NUMBER($n, useGrouping: "false") } findings{ $counts }{ $extra }
scan-summary-counts = {" "}({ $list })
scan-summary-count = { NUMBER($n, useGrouping: "false") } { $label }
scan-summary-rolled = {", "}{ $n } more rolled up
scan-summary-dropped = {", "}{ $n } dropped
scan-fail-dropped = keibi: --fail-on { $min }: failing because { $n } findings were dropped unseen and may have been that severe
scan-list-problem = keibi: warning: { $file }:{ $line }: { $reason }
aws-usage = keibi: AWS: { $requests } requests, { $size }, ≈ ${ $usd } at { $region } list prices{ $errors ->
        [0] {""}
        [one] , 1 failed
       *[other] , { $errors } failed
    } ({ $apis })
aws-usage-api = { $service } { $api } { $n }
aws-usage-more = { $n } more
aws-usage-source = keibi: AWS { $source }: { $requests ->
        [one] 1 request
       *[other] { $requests } requests
    }, { $size }, ≈ ${ $usd }{ $errors ->
        [0] {""}
        [one] , 1 failed
       *[other] , { $errors } failed
    }
aws-usage-no-source = other calls

## Rules (scan, rules list, rules lint)
rules-not-loaded = keibi: warning: rule not loaded: { $problem }
rules-walk-warning = keibi: warning: --rules { $path }: { $reason }
rules-not-file = --rules { $path }: not a file or directory
rules-missing = --rules { $path }: no such file or directory
rules-list-summary = keibi: { NUMBER($types, useGrouping: "false") } finding types in { NUMBER($entries, useGrouping: "false") } entries of { NUMBER($sources, useGrouping: "false") } detectors and rules; { NUMBER($rules, useGrouping: "false") } rules, { NUMBER($problems, useGrouping: "false") } problems, { NUMBER($skipped, useGrouping: "false") } skipped (log sources keibi does not read)
rules-lint-summary = keibi: { NUMBER($files, useGrouping: "false") } files, { NUMBER($rules, useGrouping: "false") } rules loaded, { NUMBER($problems, useGrouping: "false") } problems, { NUMBER($skipped, useGrouping: "false") } skipped (log sources keibi does not read)

## keibi learn and --state
learn-done = keibi: learned { $after } (before: { $before }); saved { NUMBER($saved, useGrouping: "false") } profiles to { $path }
learn-counts = { NUMBER($logins, useGrouping: "false") } user profiles ({ NUMBER($logins_mature, useGrouping: "false") } mature), { NUMBER($instances, useGrouping: "false") } instances ({ NUMBER($instances_mature, useGrouping: "false") } mature), { NUMBER($principals, useGrouping: "false") } principals ({ NUMBER($principals_mature, useGrouping: "false") } mature)
state-skipped-profile = keibi: warning: { $path }: skipped a profile: { $reason }
mmdb-wrong-kind = { $flag } { $path }: a { $kind } database, expected { $expected } (GeoLite2 or DB-IP .mmdb)

## keibi init
init-is-dir = { $path }: is a directory
init-cannot-replace = { $path }: cannot replace it
init-exists = { $path } exists: keibi init does not replace a file without --force
init-wrote = keibi: wrote { $path }; check it with `keibi config check { $path }`

## keibi config check
config-ok = ok: { $path }: { $summary }
config-problems = keibi: { $path }: { $n ->
    [one] { NUMBER($n, useGrouping: "false") } problem
   *[other] { NUMBER($n, useGrouping: "false") } problems
}
config-flat = detection settings only (the flat form; every other section at its defaults)
config-summary = { $sources }, { $lists }, { $suppressions }, { $rules }, store { $store }, server { $server }
config-sources = { $n ->
    [one] { NUMBER($n, useGrouping: "false") } source
   *[other] { NUMBER($n, useGrouping: "false") } sources
}
config-lists = { $n ->
    [one] { NUMBER($n, useGrouping: "false") } address list
   *[other] { NUMBER($n, useGrouping: "false") } address lists
}
config-suppressions = { $n ->
    [one] { NUMBER($n, useGrouping: "false") } suppression
   *[other] { NUMBER($n, useGrouping: "false") } suppressions
}
config-rules-builtin = { $n ->
    [one] { NUMBER($n, useGrouping: "false") } rule path
   *[other] { NUMBER($n, useGrouping: "false") } rule paths
} and the built-in rules
config-rules-no-builtin = { $n ->
    [one] { NUMBER($n, useGrouping: "false") } rule path
   *[other] { NUMBER($n, useGrouping: "false") } rule paths
} (built-in rules off)

# The reasons of a settings file's problems that keibi knows the shape of (the
# others stay as keibi-engine wrote them).
problem-unknown-key = unknown key `{ $key }`: did you mean `{ $near }`?
problem-unknown-key-known = unknown key `{ $key }` (known here: { $known })
problem-unknown-section = unknown section `{ $key }`: did you mean `{ $near }`?
problem-detection-key = `{ $key }` is a detection setting: in a file of sections it goes under `detection:`
problem-missing = { $path }: does not exist
problem-is-dir = { $path }: is a directory
problem-more = { NUMBER($n, useGrouping: "false") } more problems not shown
problem-cannot-read = cannot be read
problem-not-mapping = a settings file is a mapping of sections (sources:, detection:, ...)

## keibi demo
demo-preamble = keibi demo: wrote a week of RDS logs ({ $first } to { $last }: shop-postgres, { NUMBER($pg, useGrouping: "false") } PostgreSQL files; shop-mysql, { NUMBER($mysql, useGrouping: "false") } MySQL audit files; { $lines } lines) to { $dir }, with a Tor exit list and a threat list beside them, and scans them as this command does:
demo-refuse-link = { $path } is a symbolic link: keibi demo writes only its own files and never through a link; remove it or choose an empty folder
demo-refuse-other = { $path } is not a regular file or directory: keibi demo writes only its own files and never through a link; remove it or choose an empty folder
demo-tempdir = creating a temporary directory
demo-creating = creating { $path }
demo-removing = removing { $path }
demo-reading = reading { $path }
demo-writing = writing { $path }

## Times typed on the command line (--since, --until, --older-than, --expires)
time-not-a-time = '{ $value }' is not a time: use RFC 3339, YYYY-MM-DD, or an age like 24h
time-bad-unit = '{ $value }' is not a time: the unit of an age is s, m, h, d or w
time-too-long-ago = '{ $value }' is too long ago

## keibi findings
fnd-no-store = { $path }: no store here (`keibi findings import` creates one from `keibi scan --format jsonl` output; or give --store FILE)
fnd-export-not-dir = --export { $path }: not a directory
fnd-exported = keibi: exported to { $path }
export-none = keibi: no stored findings to export
export-refused = keibi: Security Hub refused finding { $id }: { $code }: { $message }
export-done = keibi: { $imported ->
    [one] 1 finding
   *[other] { NUMBER($imported, useGrouping: "false") } findings
} imported into Security Hub (account { $account }, { $region }) in { $calls ->
    [one] 1 call
   *[other] { NUMBER($calls, useGrouping: "false") } calls
}; { NUMBER($refused, useGrouping: "false") } refused
asff-no-target = finding { $id }: no AWS account or region for ASFF (its resource names none): set AWS_ACCOUNT_ID and AWS_REGION
export-workflow-refused = keibi: Security Hub did not set the workflow status of finding { $id }: { $code }: { $message }
export-workflow-done = keibi: workflow status set on { $set ->
    [one] 1 finding
   *[other] { NUMBER($set, useGrouping: "false") } findings
} in { $calls ->
    [one] 1 call
   *[other] { NUMBER($calls, useGrouping: "false") } calls
}; { NUMBER($refused, useGrouping: "false") } refused
fnd-pruned = keibi: { NUMBER($findings, useGrouping: "false") } findings and { NUMBER($history, useGrouping: "false") } history entries last seen before { $cutoff } deleted; store { $before } -> { $after }
fnd-status = keibi: { $id } { $status }: { $title }
fnd-expires-bad = --expires '{ $value }': use a duration (90m, 24h, 7d, 2w) or a time
fnd-expires-past = --expires '{ $value }' is in the past
fnd-ip-bad = --ip '{ $value }' is not an address or CIDR range
fnd-suppress-empty = give at least one of --type, --resource, --ip, --user
fnd-suppressed = keibi: { $rule }; { NUMBER($n, useGrouping: "false") } stored findings suppressed
fnd-import-long-line = { $file }:{ $line }: line longer than { NUMBER($mib, useGrouping: "false") } MiB
fnd-import-not-finding = { $file }:{ $line }: not a finding (import reads `keibi scan --format jsonl` output)
fnd-import-bad-id = { $file }:{ $line }: { $id } is not a finding id
fnd-import-too-many = { $file }: more than { NUMBER($max, useGrouping: "false") } findings (a scan writes at most { NUMBER($scan, useGrouping: "false") }); split the file
fnd-import-again = keibi: { $file } was imported before (same content): nothing changed
fnd-imported = keibi: imported { NUMBER($n, useGrouping: "false") } findings into { $store }: { NUMBER($new, useGrouping: "false") } new, { NUMBER($grew, useGrouping: "false") } grew, { NUMBER($suppressed, useGrouping: "false") } suppressed
fnd-stdin = standard input

## keibi findings show: the labels (padded by the code to one column) and values
show-id = id
show-type = type
show-severity = severity
show-status = status
show-resource = resource
show-actor = actor
show-seen = seen
show-detector = detector
show-mitre = mitre
show-todo = What to do:
show-evidence = Evidence:
show-history = History:
show-status-by = {" "}by { $by }
show-status-at = {" "}at { $at }
show-status-note = : { $note }
show-actor-value = addresses { $ips }; users { $users }{ $app }
show-actor-app = ; app { $app }
show-seen-value = { $first } to { $last }, { NUMBER($n, useGrouping: "false") } events
show-evidence-event = {"  "}{ $source } event { $id }
show-history-line = {"  "}{ $at }  { $what }  count { $count }  severity { $severity }
show-history-by = {"  "}by { $by }
# What happened to a stored finding (the store's history `what`).
history-new = new
history-grew = grew
history-severity_raised = severity_raised
history-closed = closed
history-acknowledged = acknowledged
history-resolved = resolved
history-reopened = reopened
history-suppressed = suppressed

## keibi findings info
info-store = store
info-size = size
info-findings = findings
info-history = history
info-rules = rules
info-sources = sources
info-size-value = { $total } (file { $file }, write-ahead log { $wal }, free inside { $free })
info-findings-value = { NUMBER($n, useGrouping: "false") } ({ $by })
info-by-status = { NUMBER($n, useGrouping: "false") } { $status }
info-history-value = { NUMBER($n, useGrouping: "false") } entries
info-rules-value = { NUMBER($n, useGrouping: "false") } suppressions
info-sources-value = { NUMBER($n, useGrouping: "false") } checkpoints

## keibi rules list: the table's headers
rules-col-severity = SEVERITY
rules-col-type = TYPE
rules-col-mitre = MITRE
rules-col-source = SOURCE
rules-col-origin = ORIGIN
# The origin of a built-in detector's entries (a rule's is its file).
rules-origin-detector = detector

## Why a parser did not recognize a line (keibi-parse's reasons, said at the edge by
## locale::library_text; the English is the parser's, byte for byte)
why-pg-prefix = expected log_line_prefix '{ $prefix }' followed by a level such as LOG:
why-pg-known-prefix = expected a known log_line_prefix followed by a level such as LOG: (give the prefix with --pg-prefix)
why-pg-orphan = { $word } line with no report of its process before it
why-pg-chunk = chunk [{ $n }-{ $m }] of a report whose first line was not read
why-pg-syslog = expected a syslog header (time, host, program[pid]:) before the PostgreSQL message
why-pg-jsonlog = expected a jsonlog JSON object
why-pg-cnpg = expected a CloudNativePG JSON object
why-pgbouncer = expected a PgBouncer log line (time, [pid], level)
why-my-error = expected an error log line (timestamp, thread id, [level], message)
why-my-error-time = expected an error log line starting with a timestamp
why-my-banner = start-up banner before any timestamped line
why-my-syslog-pg = a syslog line from PostgreSQL, not MySQL/MariaDB
why-my-general = expected a general log record (time, id, command, argument)
why-my-slow = expected a slow log record (# Time: or # User@Host:)
why-my-slow-time = unreadable time in a slow log `# Time:` line
why-my-audit = expected a server_audit record (timestamp,serverhost,username,...)
why-my-audit-fields = expected server_audit fields after the timestamp
why-my-audit-columns = expected server_audit fields: host,connectionid,queryid,operation,database,object,retcode
why-my-audit-lineup = fields do not line up
why-percona-json = expected a Percona audit JSON record
why-percona = expected a Percona audit record (XML, JSON or CSV)
why-heroku = expected a Heroku log line (time, source[process])
why-json = invalid JSON: { $error }
why-json-object = expected a JSON object
why-pg-csv = expected a csvlog record starting with a time and a comma
why-ct-no-name = not a cloudtrail record: no eventName
why-ct-no-time = not a cloudtrail record: no eventTime
why-ct-no-both = not a cloudtrail record: no eventTime and eventName

## keibi findings import --from guardduty
fnd-gd-imported = keibi: read { NUMBER($n, useGrouping: "false") } GuardDuty findings from { NUMBER($detectors, useGrouping: "false") } detectors in { $region } ({ NUMBER($calls, useGrouping: "false") } calls) into { $store }: { NUMBER($new, useGrouping: "false") } new, { NUMBER($updated, useGrouping: "false") } updated, { NUMBER($unchanged, useGrouping: "false") } unchanged; { NUMBER($linked, useGrouping: "false") } links to keibi's findings of the same activity; { NUMBER($skipped, useGrouping: "false") } other findings skipped
fnd-gd-truncated = keibi: GuardDuty has more matching findings than keibi reads at once (5000): give a later --since to read the rest
fnd-gd-region-failed = keibi: GuardDuty in { $region } could not be read: { $error }
fnd-gd-all-failed = keibi: GuardDuty could not be read in any of the { NUMBER($n, useGrouping: "false") } regions

## keibi stream send
stream-sent = sent { NUMBER($records, useGrouping: "false") } records ({ NUMBER($bytes, useGrouping: "false") } bytes) of { $file } on { $subject }
stream-skipped = { $file }: { NUMBER($n, useGrouping: "false") } entries longer than 1 MiB, the most a record holds, were not sent
stream-bad-subject = { $subject } is not a subject to publish on: dot-separated tokens without spaces or the wildcards * and >
stream-no-nats = this keibi was built without NATS (cargo feature nats)
