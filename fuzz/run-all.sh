#!/usr/bin/env bash
# Runs fuzz targets for SECONDS each (default 600), two at a time (the project's
# machines have two cores), and prints one line per target: executions, coverage,
# and crash/timeout artifacts. Logs go to fuzz/logs/<target>.log.
#
# Usage: fuzz/run-all.sh [SECONDS] [TARGET...]   (default: every target)
# Needs cargo-fuzz (`cargo install cargo-fuzz`); RUSTC_BOOTSTRAP lets it use the
# nightly-only sanitizer flags on a stable toolchain.
set -uo pipefail
cd "$(dirname "$0")"
export RUSTC_BOOTSTRAP=1
secs=${1:-600}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cargo fuzz list)
cargo fuzz build -O >/dev/null 2>logs.build || { cat logs.build >&2; exit 1; }
rm -f logs.build
mkdir -p logs
bin=target/$(rustc -vV | sed -n 's/^host: //p')/release

run() {
    local t=$1
    mkdir -p "corpus/$t" "artifacts/$t"
    local before
    before=$(ls "artifacts/$t" | wc -l)
    # The binaries built above, not `cargo fuzz run`: that rebuilds from the work tree,
    # which may have changed (or stopped compiling) since.
    "$bin/$t" "corpus/$t" "seeds/$t" -artifact_prefix="artifacts/$t/" \
        -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        >"logs/$t.log" 2>&1
    local rc=$?
    local execs cov found
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "logs/$t.log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "logs/$t.log" | tail -1)
    found=$(($(ls "artifacts/$t" | wc -l) - before))
    printf '%-24s rc=%-3s execs=%-10s %-10s new_artifacts=%s\n' \
        "$t" "$rc" "${execs:-?}" "${cov:-cov: ?}" "$found"
}

for t in "${targets[@]}"; do
    run "$t" &
    while [ "$(jobs -rp | wc -l)" -ge 2 ]; do
        wait -n
    done
done
wait
