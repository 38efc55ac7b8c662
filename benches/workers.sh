#!/usr/bin/env bash
# Per-worker figures of `keibi run --worker` (issue 20, docs/scaling.md "Capacity").
#
# Usage: benches/workers.sh [COPIES]   (default 4 copies of the demo week)
#   KEIBI_BIN=path/to/keibi  use this binary instead of building a release one
#   KEIBI_PARTITIONS=6       partitions of the stream (the server's mapping)
#   KEIBI_RUNS=2             how many times to run everything (the machine is noisy)
#
# Starts a private nats-server with JetStream and the partition mapping keibi's
# streams rely on (keibi.logs.<instance>.<log> -> keibi.p.<n>.<instance>.<log>) and a
# private PostgreSQL 15 (initdb + pg_ctl, as the postgres user when run as root;
# fsync on, the server's defaults otherwise). Writes the demo week (`keibi demo
# --week-ending 2026-11-29`) and publishes it COPIES times with `keibi stream send`,
# each copy under instances of its own (shop-postgres-<c>, shop-mysql-<c>), so the
# instances spread over the partitions by the server's hash. Then, each run, on a
# fresh stream and a fresh database:
#   0. idle: one worker's start-up cost (an empty stream);
#   1. one worker drains the stream from its start (a backlog);
#   2. three workers started together on the same backlog (how they share it);
#   3. three workers, once they have shared the partitions out, read the same
#      input while it is published (live);
#   4. takeover: the three idle, one of them (the one owning most partitions) is
#      killed with SIGKILL, and the time until the others own every partition is
#      measured (default lease_ttl 10 s, renew_every 3 s).
# Drain time is from the workers' start (backlog) or the publishing's (live) to
# the last commit: the newest keibi_last_commit_timestamp_seconds of their
# /metrics once every partition is owned and caught up, the server has no record
# pending for any reader, the last record it delivered to each is a position
# stored in the checkpoints, and no commit happened for 6 s. CPU is utime + stime of
# /proc/PID/stat, peak RSS VmHWM of /proc/PID/status, both read at the end of the
# drain; "xacts" are the database's committed transactions (pg_stat_database, every
# transaction: commits of rounds, lease renewals, listings) during the drain.
# About 7 minutes with a debug binary at the defaults on a busy 2-core machine. A drain
# judged done too early shows as a smaller database (and fewer activity rows) than
# the other phases': the check is not yet tight while partitions move between workers.
set -euo pipefail

cd "$(dirname "$0")/.."
copies=${1:-4}
parts=${KEIBI_PARTITIONS:-6}
runs=${KEIBI_RUNS:-2}
if [ -n "${KEIBI_BIN:-}" ]; then
    keibi=$KEIBI_BIN
else
    cargo build --release -q -p keibi --bin keibi
    keibi=${CARGO_TARGET_DIR:-target}/release/keibi
fi
command -v nats-server >/dev/null || { echo "nats-server is not installed (package nats-server)" >&2; exit 1; }
pg_bin=
for d in /usr/lib/postgresql/*/bin; do [ -x "$d/initdb" ] && pg_bin=$d; done
[ -n "$pg_bin" ] || { echo "no PostgreSQL server under /usr/lib/postgresql" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/keibi-workers-bench.XXXXXX")
chmod 711 "$work"
nats_pid=
workers=()
as_postgres() {
    if [ "$(id -u)" -eq 0 ]; then
        setpriv --reuid=postgres --regid=postgres --init-groups "$@"
    else
        "$@"
    fi
}
cleanup() {
    local p
    for p in "${workers[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    [ -z "$nats_pid" ] || kill "$nats_pid" 2>/dev/null || true
    [ ! -d "$work/pg/data" ] || as_postgres "$pg_bin/pg_ctl" stop -D "$work/pg/data" -m immediate -w >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now() { date +%s.%N; }
calc() { python3 -c "print($1)"; }
wait_port() {
    for _ in $(seq 1 200); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.1
    done
    echo "nothing listens on port $1" >&2
    return 1
}

# --- PostgreSQL ------------------------------------------------------------------
mkdir "$work/pg"
[ "$(id -u)" -ne 0 ] || chown postgres:postgres "$work/pg"
as_postgres "$pg_bin/initdb" -A trust -U postgres -E UTF8 --locale=C -D "$work/pg/data" >"$work/pg/initdb.log" 2>&1 ||
    { cat "$work/pg/initdb.log" >&2; exit 1; }
pg_port=$(free_port)
as_postgres "$pg_bin/pg_ctl" start -w -D "$work/pg/data" -l "$work/pg/server.log" \
    -o "-c listen_addresses=127.0.0.1 -p $pg_port -c unix_socket_directories=$work/pg" >/dev/null ||
    { cat "$work/pg/server.log" >&2; exit 1; }
psql_q() { psql -X -q -t -A -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -c "$1"; }

# --- The input -------------------------------------------------------------------
"$keibi" demo --week-ending 2026-11-29 --write-to "$work/demo" >/dev/null
logs=$work/demo/logs
week_events=$("$keibi" events "$logs" 2>/dev/null | wc -l)
events=$((week_events * copies))
# The reference the page's release figures were measured with: one `keibi scan` of
# the demo week (release: 0.87 CPU-seconds), to relate this binary's speed to them.
/usr/bin/time -f '%e %U %S %M' -o "$work/scan.time" "$keibi" scan "$logs" >/dev/null 2>&1 || true
read -r s_wall s_user s_sys s_rss <"$work/scan.time"

# --- nats-server, fresh each phase -------------------------------------------------
start_nats() {
    [ -z "$nats_pid" ] || { kill "$nats_pid"; wait "$nats_pid" 2>/dev/null || true; }
    rm -rf "$work/nats"
    mkdir -p "$work/nats"
    nats_port=$(free_port)
    nats_http=$(free_port)
    cat >"$work/nats/nats.conf" <<EOF
listen: "127.0.0.1:$nats_port"
http: "127.0.0.1:$nats_http"
jetstream { store_dir: "$work/nats/js" }
mappings = {
  "keibi.logs.*.>": "keibi.p.{{partition($parts,1)}}.{{wildcard(1)}}.>"
}
EOF
    nats-server -c "$work/nats/nats.conf" >"$work/nats/nats.log" 2>&1 &
    nats_pid=$!
    wait_port "$nats_port"
}

publish() {
    local c t0
    t0=$(now)
    for c in $(seq 1 "$copies"); do
        # shellcheck disable=SC2046
        "$keibi" stream send -q --nats "nats://127.0.0.1:$nats_port" --stream KEIBI \
            --key "shop-postgres-$c.postgresql" $(ls -d "$logs"/shop-postgres/error/* | sort) >/dev/null
        "$keibi" stream send -q --nats "nats://127.0.0.1:$nats_port" --stream KEIBI \
            --key "shop-mysql-$c.audit" "$logs/shop-mysql/audit/server_audit.log.1" \
            "$logs/shop-mysql/audit/server_audit.log" >/dev/null
    done
    publish_s=$(calc "round($(now) - $t0, 1)")
}

# Worker n of database db: its settings, its /metrics port in port_<n>.
declare -A mport
start_worker() {
    local n=$1 db=$2 port
    port=$(free_port)
    mport[$n]=$port
    cat >"$work/w$n.yaml" <<EOF
store:
  path: postgres://postgres@127.0.0.1:$pg_port/$db
server:
  listen: 127.0.0.1:$port
stream:
  nats: {url: "nats://127.0.0.1:$nats_port", stream: KEIBI, partitions: $parts}
worker:
  id: bench-$n
  lease_ttl: 10s
  renew_every: 3s
EOF
    KEIBI_LANG=en "$keibi" run --worker --config "$work/w$n.yaml" >/dev/null 2>"$work/$db-w$n.log" &
    workers[n]=$!
}

metrics() { curl -s -m 2 "http://127.0.0.1:${mport[$1]}/metrics" || true; }
# Sum of a metric's values over workers (names without labels or with).
metric_sum() {
    local name=$1 n
    shift
    for n in "$@"; do metrics "$n"; done | awk -v m="$name" '$1 == m || index($1, m "{") == 1 { s += $2 } END { print s + 0 }'
}
metric_max() {
    local name=$1 n
    shift
    for n in "$@"; do metrics "$n"; done | awk -v m="$name" '$1 == m || index($1, m "{") == 1 { if ($2 > s) s = $2 } END { printf "%.3f\n", s + 0 }'
}

# Whether everything the server delivered is committed: of the readers (consumers
# on a partition's filter subject, from the server's /jsz), none has records
# pending, and the last record delivered to each is a position stored in the
# database's checkpoints.
committed_all() {
    {
        curl -s -m 2 "http://127.0.0.1:$nats_http/jsz?accounts=true&streams=true&consumers=true&config=true"
        printf '\n@@rows@@\n'
        psql -X -q -t -A -h 127.0.0.1 -p "$pg_port" -U postgres -d "$1" -c "SELECT convert_from(data, 'UTF8') FROM checkpoints" | tr '\n' ' '
    } | python3 -c '
import json, re, sys
jsz, rows = sys.stdin.read().split("\n@@rows@@\n", 1)
best = {}
for a in json.loads(jsz).get("account_details") or []:
    for st in a.get("stream_detail") or []:
        for c in st.get("consumer_detail") or []:
            f = (c.get("config") or {}).get("filter_subject")
            d = c.get("delivered") or {}
            k = (d.get("stream_seq", 0), d.get("consumer_seq", 0), c.get("num_pending", 0))
            if f and (f not in best or k > best[f]):
                best[f] = k
stored = {int(x) for x in re.findall(r"\"after_key\": *\"(\d+)\"", rows)}
ok = any(n > 0 for s, n, p in best.values()) and all(p == 0 and (n == 0 or s in stored) for s, n, p in best.values())
print(1 if ok else 0)
if not ok and len(sys.argv) > 2:
    print(best, sorted(stored), file=sys.stderr)
' "$parts" ${KEIBI_DEBUG:+debug}
}

# Waits until every partition is owned, caught up, everything delivered is
# committed, and no commit happened for 6 s.
wait_drained() {
    local db=$1 last="" since t c owned lag
    shift
    since=$(now)
    while :; do
        owned=$(metric_sum keibi_worker_partitions_owned "$@")
        lag=$(metric_max keibi_worker_partition_lag_seconds "$@")
        c=$(metric_sum keibi_commits_total "$@")
        t=$(now)
        if [ "$c" != "$last" ]; then
            last=$c
            since=$t
        elif [ "$owned" -eq "$parts" ] && [ "$lag" = "0.000" ] && [ "$c" -gt 0 ] &&
            [ "$(calc "int($t - $since >= 6)")" = 1 ] && [ "$(committed_all "$db")" = 1 ]; then
            return 0
        fi
        [ "$(calc "int($t - $since > 300)")" = 0 ] || { echo "not drained: no commit for 300 s" >&2; exit 1; }
        sleep 0.5
    done
}

cpu_of() { awk '{ print ($14 + $15) / 100 }' "/proc/$1/stat"; }
rss_of() { awk '/^VmHWM/ { printf "%d\n", $2 / 1024 }' "/proc/$1/status"; }
xacts() { psql_q "SELECT xact_commit FROM pg_stat_database WHERE datname = '$1'"; }

# A worker's cost before any event: one worker on an empty stream and database,
# until it owns every partition and 3 s more (start-up: settings, rules, store).
idle_start() {
    start_nats
    psql_q "CREATE DATABASE idle_$run" >/dev/null
    start_worker 1 "idle_$run"
    wait_port "${mport[1]}"
    while [ "$(metric_sum keibi_worker_partitions_owned 1)" -lt "$parts" ]; do sleep 0.2; done
    sleep 3
    idle_cpu=$(cpu_of "${workers[1]}")
    printf '%-4s %-6s %s\n' "$run" "idle" "one worker started, owning $parts partitions, no events: $idle_cpu s CPU, $(rss_of "${workers[1]}") MB RSS"
    stop_workers
}

# One phase: k workers on a fresh stream and database. "live": once they have
# shared the partitions out, the input is published and they read it as it comes
# (the wall time is then bound by the publisher's). "backlog": the input is
# published first and the workers started on it (workers started together on a
# backlog may not share it at first: the first to renew can see itself alone and
# claim every partition; phase 2 shows it); their CPU then includes their start-up, taken off with the idle start's.
drain() {
    local k=$1 db=$2 mode=$3 t0 x0 x1 end wall n owned total_cpu=0 cpu rss commits start
    local -A base
    start_nats
    psql_q "CREATE DATABASE $db" >/dev/null
    if [ "$mode" = backlog ]; then
        publish
        x0=$(xacts "$db")
        t0=$(now)
        for n in $(seq 1 "$k"); do start_worker "$n" "$db"; done
        for n in $(seq 1 "$k"); do wait_port "${mport[$n]}"; base[$n]=$idle_cpu; done
    else
        for n in $(seq 1 "$k"); do start_worker "$n" "$db"; done
        for n in $(seq 1 "$k"); do wait_port "${mport[$n]}"; done
        start=$(now)
        while :; do
            owned=0
            for n in $(seq 1 "$k"); do
                [ "$(metric_sum keibi_worker_partitions_owned "$n")" -ge $((parts / k)) ] && owned=$((owned + 1))
            done
            [ "$owned" -eq "$k" ] && [ "$(metric_sum keibi_worker_partitions_owned $(seq 1 "$k"))" -eq "$parts" ] && break
            [ "$(calc "int($(now) - $start > 60)")" = 0 ] || { echo "the partitions were not shared out in 60 s" >&2; exit 1; }
            sleep 0.2
        done
        for n in $(seq 1 "$k"); do base[$n]=$(cpu_of "${workers[n]}"); done
        x0=$(xacts "$db")
        t0=$(now)
        publish
    fi
    wait_drained "$db" $(seq 1 "$k")
    end=$(metric_max keibi_last_commit_timestamp_seconds $(seq 1 "$k"))
    wall=$(calc "round($end - $t0, 1)")
    x1=$(xacts "$db")
    commits=$(metric_sum keibi_commits_total $(seq 1 "$k"))
    printf '%-4s %-6s %6s %7s %6s %6s %6s %7s %8s %8s %8s\n' \
        "$run" "$k $mode" "$publish_s" "$events" "$wall" "$(calc "round($events / $wall)")" "" "" \
        "$commits" "$(calc "round(($x1 - $x0) / $wall, 1)")" \
        "$(psql_q "SELECT pg_size_pretty(pg_database_size('$db'))" | tr -d ' ')"
    printf '%-4s %-6s %s\n' "" " store" "largest tables: $(psql -X -q -t -A -h 127.0.0.1 -p "$pg_port" -U postgres -d "$db" -c \
        "SELECT string_agg(relname || ' ' || pg_size_pretty(s), ', ') FROM (SELECT relname, pg_total_relation_size(oid) s FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace ORDER BY 2 DESC LIMIT 4) t")"
    for n in $(seq 1 "$k"); do
        cpu=$(calc "round($(cpu_of "${workers[n]}") - ${base[$n]}, 2)")
        rss=$(rss_of "${workers[n]}")
        owned=$(metric_sum keibi_worker_partitions_owned "$n")
        total_cpu=$(calc "$total_cpu + $cpu")
        printf '%-4s %-6s %6s %7s %6s %6s %6s %7s %s\n' "" " w$n" "" "" "" "" "$cpu" "$rss" \
            "  owns $owned partitions, $(metric_sum keibi_commits_total "$n") commits"
    done
    printf '%-4s %-6s %s\n' "" " all" "CPU $(calc "round($total_cpu, 2)") s: $(calc "round($total_cpu * 1e6 / $events)") us/event, $(calc "round($events / $total_cpu)") events/CPU-s"
}

takeover() {
    local k=$1 victim=1 n best=-1 o t0 t1 others=()
    for n in $(seq 1 "$k"); do
        o=$(metric_sum keibi_worker_partitions_owned "$n")
        if [ "$o" -gt "$best" ]; then best=$o; victim=$n; fi
    done
    for n in $(seq 1 "$k"); do [ "$n" = "$victim" ] || others+=("$n"); done
    t0=$(now)
    kill -9 "${workers[victim]}"
    wait "${workers[victim]}" 2>/dev/null || true
    unset 'workers[victim]'
    while [ "$(metric_sum keibi_worker_partitions_owned "${others[@]}")" -lt "$parts" ]; do
        sleep 0.1
        [ "$(calc "int($(now) - $t0 > 60)")" = 0 ] || { echo "no takeover in 60 s" >&2; return 1; }
    done
    t1=$(now)
    printf '%-4s %-6s killed w%s owning %s partitions: the others own all %s after %s s\n' \
        "$run" "takeover" "$victim" "$best" "$parts" "$(calc "round($t1 - $t0, 1)")"
}

stop_workers() {
    local p
    for p in "${workers[@]}"; do kill -9 "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    workers=()
}

echo "keibi $("$keibi" --version | cut -d' ' -f2) ($keibi), nats-server $(nats-server --version | sed 's/^.*v//'), PostgreSQL $("$pg_bin/postgres" --version | sed 's/^.* //'), $(nproc) CPUs"
echo "input: the demo week x $copies (instances shop-postgres-1..$copies, shop-mysql-1..$copies), $events events, $parts partitions"
echo "reference: keibi scan of one demo week ($week_events events): ${s_wall} s wall, $(calc "round($s_user + $s_sys, 2)") s CPU, $((s_rss / 1024)) MB RSS"
printf '%-4s %-6s %6s %7s %6s %6s %6s %7s %8s %8s %8s\n' run phase send_s events wall_s ev/s cpu_s rss_MB commits xacts/s db_size
for run in $(seq 1 "$runs"); do
    idle_start
    drain 1 "one_$run" backlog
    stop_workers
    drain 3 "three_backlog_$run" backlog
    stop_workers
    drain 3 "three_$run" live
    takeover 3
    stop_workers
done
