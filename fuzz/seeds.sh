#!/usr/bin/env bash
# Rebuilds fuzz/seeds/<target>/ from the repository's own fixtures (real captures and
# documented examples, see the READMEs next to them) plus a few constructed lines for
# formats without a fixture. Each seed gets the leading control byte the targets read
# (see src/lib.rs): one copy read whole (0x00), one cut into chunks of 1..=16 bytes (0x04).
set -euo pipefail
cd "$(dirname "$0")/.."
parse=crates/keibi-parse/tests/data
captured=crates/keibi/tests/data/captured
seeds=fuzz/seeds
rm -rf "$seeds"

add() { # target file...
    local target=$1
    shift
    mkdir -p "$seeds/$target"
    for f in "$@"; do
        [ -f "$f" ] || continue
        local name
        name=$(basename "$f")
        { printf '\x00'; cat "$f"; } >"$seeds/$target/$name"
        { printf '\x04'; head -c 4096 "$f"; } >"$seeds/$target/$name.chunked"
    done
}

constructed=$(mktemp -d)
trap 'rm -rf "$constructed"' EXIT
# From docs/reference formats: PostgreSQL syslog (pgbadger's fixture shape, with
# multi-line [N-M] continuations), MySQL 8 / 5.7 / old MariaDB error lines, MySQL
# Enterprise Audit JSON, PostgreSQL stderr with a non-RDS prefix.
cat >"$constructed/postgres.syslog" <<'LOG'
Feb 11 13:15:40 test-pc postgres[10819]: [6-1] db=postgres,user=postgres,app=[unknown],client=[local] LOG:  connection authorized: user=postgres database=postgres
Feb 11 13:15:41 test-pc postgres[10820]: [7-1] db=shop,user=eve,app=[unknown],client=203.0.113.9 FATAL:  password authentication failed for user "eve"
Feb 11 13:15:41 test-pc postgres[10820]: [7-2] db=shop,user=eve,app=[unknown],client=203.0.113.9 DETAIL:  Role "eve" does not exist.
<134>Feb 11 13:15:42 test-pc postgres[10821]: [8-1] db=shop,user=app,app=psql,client=10.0.0.5 LOG:  AUDIT: SESSION,1,1,READ,SELECT,,,"SELECT a,
Feb 11 13:15:42 test-pc postgres[10821]: [8-2] #011b FROM t",<not logged>
2026-11-28T15:41:22.123456+00:00 db1 postgres[123]: [9-1] db=shop,user=app,app=psql,client=10.0.0.5 LOG:  disconnection: session time: 0:00:00.026 user=app database=shop host=10.0.0.5 port=5555
LOG
cat >"$constructed/mysql-error.log" <<'LOG'
2019-01-03T08:50:04.634875Z 113 [Note] [MY-010926] [Server] Access denied for user 'root'@'192.0.2.1' (using password: NO)
2020-04-16T05:13:40.861934Z 344 [Note] Access denied for user 'root'@'27.155.87.54' (using password: YES)
2023-11-21 19:42:20 134334 [Warning] Access denied for user 'root'@'34.140.248.32' (using password: NO)
130324 17:56:14 [Warning] Access denied for user 'root'@'61.160.223.112' (using password: YES)
2023-11-21 19:42:21 134335 [Warning] Access denied for user 'app'@'%' to database 'secret'
LOG
cat >"$constructed/enterprise-audit.json" <<'LOG'
{ "timestamp": "2020-08-21 17:54:08", "id": 0, "class": "connection", "event": "connect", "connection_id": 20, "account": { "user": "", "host": "localhost" }, "login": { "user": "notauser", "os": "", "ip": "::1", "proxy": "" }, "connection_data": { "connection_type": "plugin", "status": 1045, "db": "" } }
{ "timestamp": "2020-08-21 17:55:01", "id": 1, "class": "general", "event": "status", "connection_id": 21, "account": { "user": "app", "host": "10.0.0.5" }, "login": { "user": "app", "os": "", "ip": "10.0.0.5", "proxy": "" }, "general_data": { "command": "Query", "sql_command": "select", "query": "SELECT * FROM customers WHERE note = 'a, \"b\"'", "status": 0 } }
LOG
cat >"$constructed/stderr-debian.log" <<'LOG'
2021-09-28 09:22:18.536 UTC [147] 1.2.3.4 i_dont_exist@postgres FATAL:  password authentication failed for user "i_dont_exist"
2020-03-11 20:40:50 CET:192.168.1.201(50906):gilles@pgbench:[12795]:FATAL:  no pg_hba.conf entry for host "192.168.1.201", user "gilles", database "pgbench", SSL on
LOG

add postgres_stderr "$parse"/postgres/*.log "$captured"/postgresql-rds-prefix.log "$constructed"/stderr-debian.log
add postgres_syslog "$constructed"/postgres.syslog
add postgres_csv "$captured"/postgresql.csv "$parse"/postgres/postgresql-injection.csv
add postgres_json "$parse"/postgres/postgresql-jsonlog.json "$captured"/postgresql.json "$parse"/postgres/postgresql-injection.json
add mysql_audit "$parse"/mysql/*audit*.log "$captured"/mariadb-server_audit.log
add mysql_error "$parse"/mysql/*error*.log "$captured"/mariadb-error.log "$constructed"/mysql-error.log
add mysql_general "$captured"/mariadb-general.log "$parse"/mysql/*general*.log
add mysql_enterprise_audit "$constructed"/enterprise-audit.json
add pgbouncer "$parse"/pgbouncer/*.log
add mysql_slow "$parse"/mysql/*slow*.log
add percona_audit "$parse"/percona/percona-audit*
add cloudtrail $(ls "$parse"/cloudtrail/*.json* | grep -v cloudwatch)
add cloudwatch_logs "$parse"/cloudtrail/cloudwatch-*.json
add cnpg "$parse"/cnpg/*.log
add cloudsql "$parse"/cloudsql/*.json
add azure "$parse"/azure/*.json
add heroku "$parse"/heroku/*.log
add supabase "$parse"/supabase/*.json
# CloudWatch Logs exports: real logs with the export's time (and `aws logs tail`'s
# stream) in front of each line.
sed 's/^/2026-11-28T16:00:00.000Z /' "$captured"/postgresql-rds-prefix.log >"$constructed/export-postgres"
sed 's/^/2026-11-28T16:00:00.000000+00:00 orders-db /' "$captured"/mariadb-server_audit.log >"$constructed/tail-mariadb"
add cloudwatch_export "$constructed"/export-postgres "$constructed"/tail-mariadb
# oversized_lines: a byte choosing the line format (its index among the line formats,
# see src/lib.rs), the control byte, then the first 4 KiB of a real log, whose long
# lines pass the target's 256-byte bound.
cut_seed() { # index name file
    mkdir -p "$seeds/oversized_lines"
    { printf "\\x$1\\x00"; head -c 4096 "$3"; } >"$seeds/oversized_lines/$2"
    { printf "\\x$1\\x05"; head -c 4096 "$3"; } >"$seeds/oversized_lines/$2.chunked"
}
cut_seed 00 postgres.json "$captured"/postgresql.json
cut_seed 01 postgres.csv "$captured"/postgresql.csv
cut_seed 03 postgres-rds.log "$captured"/postgresql-rds-prefix.log
cut_seed 04 mariadb-server_audit.log "$captured"/mariadb-server_audit.log
cut_seed 06 mariadb-general.log "$captured"/mariadb-general.log
mkdir -p "$seeds/detect"
for t in "$seeds"/*/; do
    case "$(basename "$t")" in detect | oversized_lines) ;; *) cp "$t"* "$seeds/detect/" ;; esac
done
# detect reads its control byte's low bit as "the head is the whole input".
for f in "$seeds"/detect/*; do
    printf '\x01' | dd of="$f" bs=1 count=1 conv=notrunc status=none
done
find "$seeds" -type f | wc -l
