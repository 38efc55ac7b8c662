#!/usr/bin/env bash
# Latency benchmark of `keibi run` (issue 11): from the write() of a failed-login
# burst to a followed PostgreSQL log to the brute-force finding being stored.
#
# Usage: benches/latency.sh [keibi-latency flags]   (default: --trials 1000)
#   --trials N  --burst N  --poll MS  --seed N: see crates/keibi-bench/src/latency.rs
#
# Builds `keibi` and `keibi-latency` in release and runs the benchmark: it starts
# `keibi run` on a log in a temporary directory, appends one burst from a new
# address at a random moment of the poll cycle per trial, times each to the
# daemon's `finding new` line (written after the commit), checks the store holds
# one finding per trial, and prints min, p50, p90, p99, max and mean.
# About 5.5 minutes for 1,000 trials (3 at --poll 50). CARGO_TARGET_DIR is honoured.
set -euo pipefail

cd "$(dirname "$0")/.."
cargo build --release -q -p keibi --bin keibi -p keibi-bench --bin keibi-latency
target=${CARGO_TARGET_DIR:-target}
[ $# -gt 0 ] || set -- --trials 1000
exec "$target/release/keibi-latency" --keibi "$target/release/keibi" "$@"
