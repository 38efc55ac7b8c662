#!/usr/bin/env bash
# Page times of the dashboard with 100,000 findings in the store (issue 19 §7).
#
# Usage: benches/dashboard.sh [N]   (default 100000 findings)
#   KEIBI_BIN=path/to/keibi  use this binary instead of building a release one
#   KEIBI_LOADS=20           loads per page
#   KEIBI_FILTER=query       the filtered list's query string
#   KEIBI_KEEP=dir           fill (or reuse) the store in dir and keep it
#
# Fills a store with N findings from tests/browser/findings.mjs's filler (types,
# resources, accounts, addresses and users spread like a busy estate, over 90
# days) through `keibi findings import`, adds a user, starts `keibi dashboard` on a
# free loopback port and runs tests/browser/bench.mjs: median and p95 of the
# server's answer per page (overview, findings, filtered, page 200, a finding, its
# address and its user) and one load in Chromium, and the overview's first,
# uncached load. Needs node, Chromium and `npm ci` in
# tests/browser (scripts/test.sh installs them). About 3 minutes at 100,000 on a
# small machine, most of it the import.
set -euo pipefail

cd "$(dirname "$0")/.."
n=${1:-100000}
if [ -n "${KEIBI_BIN:-}" ]; then
    keibi=$KEIBI_BIN
else
    cargo build --release -q -p keibi --bin keibi
    keibi=${CARGO_TARGET_DIR:-target}/release/keibi
fi
[ -d tests/browser/node_modules/playwright-core ] || { echo "run npm ci in tests/browser first" >&2; exit 1; }

if [ -n "${KEIBI_KEEP:-}" ]; then
    work=$KEIBI_KEEP
    mkdir -p "$work"
else
    work=$(mktemp -d "${TMPDIR:-/tmp}/keibi-dashboard-bench.XXXXXX")
fi
pid=
cleanup() {
    [ -z "$pid" ] || kill "$pid" 2>/dev/null || true
    [ -n "${KEIBI_KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

store=$work/keibi.db
if [ ! -f "$store" ]; then
    start=$(date +%s)
    # At most 100,000 findings an import file.
    done_n=0
    while [ "$done_n" -lt "$n" ]; do
        chunk=$((n - done_n > 100000 ? 100000 : n - done_n))
        node tests/browser/findings.mjs fill "$chunk" 19 "$done_n" >"$work/fill.jsonl"
        "$keibi" findings --store "$store" import "$work/fill.jsonl" >/dev/null
        done_n=$((done_n + chunk))
    done
    rm -f "$work/fill.jsonl"
    echo "filled $store with $n findings in $(($(date +%s) - start)) s ($(du -h "$store" | cut -f1))"
    printf 'bench-password-123\n' | "$keibi" users add bench --role viewer --store "$store" --password-stdin >/dev/null
fi

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$keibi" dashboard --store "$store" --listen "127.0.0.1:$port" >"$work/dashboard.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.1
done

echo "keibi $("$keibi" --version | cut -d' ' -f2) ($keibi), $n findings, ${KEIBI_LOADS:-20} loads a page"
(cd tests/browser && KEIBI_URL=http://127.0.0.1:$port KEIBI_USER=bench KEIBI_PASSWORD=bench-password-123 node bench.mjs)
