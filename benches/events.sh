#!/usr/bin/env bash
# End-to-end benchmark of `keibi events` (and `keibi scan`): throughput, CPU use and
# peak memory on realistic generated logs, one run per kind of input and command.
#
# Usage: benches/events.sh [SIZE] [KIND...]
#   SIZE  input per kind, uncompressed (default 1G; K/M/G suffixes, powers of 1024)
#   KIND  postgres, mariadb, cloudtrail (default: all three)
#
# What it does:
#   1. builds `keibi` and the generator `keibi-gen` (crates/keibi-bench) in release;
#   2. generates SIZE of each kind into bench-data/<kind>-<SIZE>/ unless already there
#      (bench-data/ is gitignored; delete it to regenerate): PostgreSQL stderr logs with
#      the RDS prefix in hourly 64 MiB files, MariaDB server_audit logs rotated at
#      64 MiB, CloudTrail .json.gz files of ~50 MB uncompressed in the S3 layout;
#   3. runs `keibi events --format jsonl DIR > /dev/null` on each, under
#      /usr/bin/time (installs Debian's `time` package when missing and root);
#   4. prints one row per kind: wall time, MB/s (10^6 uncompressed bytes per second),
#      events/s (from keibi's closing line), CPU% ((user+sys)/wall: 200% = both cores
#      of a 2-core machine busy), peak RSS, and unrecognized lines (should be 0).
# Targets: peak RSS < 100 MB whatever SIZE.
#
# Environment: KEIBI_BENCH_COMMANDS lists the commands to time on each input
# (default "events"; "events scan" compares scanning with all built-in rules to
# reading, the issue's scan <= 1.5x events target); KEIBI_BENCH_DATA overrides bench-data/; KEIBI_GEN_SEED the seed (1);
# KEIBI_BENCH_FILE_SIZE the size of each generated file (keibi-gen --file-size: e.g. 1G
# for one 1 GB PostgreSQL file, 200K for thousands of small CloudTrail files); for
# CloudTrail a row times `zcat FILES | wc -l` on the same files, the floor to compare with;
# CARGO_TARGET_DIR is honoured.
set -euo pipefail

cd "$(dirname "$0")/.."
size=${1:-1G}
shift || true
kinds=("$@")
[ ${#kinds[@]} -gt 0 ] || kinds=(postgres mariadb cloudtrail)
data=${KEIBI_BENCH_DATA:-bench-data}
read -r -a commands <<<"${KEIBI_BENCH_COMMANDS:-events}"
seed=${KEIBI_GEN_SEED:-1}
file_size=${KEIBI_BENCH_FILE_SIZE:-}

if [ ! -x /usr/bin/time ]; then
    if [ "$(id -u)" = 0 ]; then
        echo "events.sh: installing the 'time' package for /usr/bin/time" >&2
        apt-get install -y -qq time >/dev/null 2>&1 \
            || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
    else
        echo "events.sh: /usr/bin/time is missing (apt-get install time)" >&2
        exit 2
    fi
fi

echo "events.sh: building release binaries" >&2
cargo build --release --quiet -p keibi --bin keibi -p keibi-bench --bin keibi-gen
keibi=${CARGO_TARGET_DIR:-target}/release/keibi
gen=${CARGO_TARGET_DIR:-target}/release/keibi-gen

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

rows=()
for kind in "${kinds[@]}"; do
    dir=$data/$kind-$size${file_size:+-per-$file_size}
    # The byte count lives outside the input directory so keibi does not read it,
    # and its presence says the generation finished.
    marker=$dir.bytes
    if [ ! -s "$marker" ]; then
        echo "events.sh: generating $size of $kind into $dir" >&2
        rm -rf "$dir"
        "$gen" "$kind" --size "$size" --out "$dir" --seed "$seed" \
            ${file_size:+--file-size "$file_size"} 2>"$tmp/gen.err" \
            || { cat "$tmp/gen.err" >&2; exit 1; }
        sed -n 's/.*(\([0-9]*\) uncompressed bytes).*/\1/p' "$tmp/gen.err" >"$marker"
    fi
    bytes=$(cat "$marker")
    files=$(find "$dir" -type f | wc -l)
    # Warm the page cache so the run measures keibi, not the disk.
    cat $(find "$dir" -type f) >/dev/null

    if [ "$kind" = cloudtrail ]; then
        /usr/bin/time -f '%e %U %S %M' -o "$tmp/time" \
            sh -c 'find "$1" -type f -name "*.json.gz" -print0 | sort -z | xargs -0 zcat | wc -l' \
            sh "$dir" >/dev/null
        read -r wall user sys rss_kb <"$tmp/time"
        rows+=("$(awk -v k="$kind" -v b="$bytes" -v f="$files" -v w="$wall" -v u="$user" -v s="$sys" \
            -v r="$rss_kb" 'BEGIN { if (w <= 0) w = 0.01
            printf "%-11s %-7s %9.0f %6d %8.2f %8.1f %11s %11s %6.0f%% %9.1f %8s %8s\n",
                k, "zcat", b / 1e6, f, w, b / 1e6 / w, "-", "-", (u + s) / w * 100, r / 1024, "-", "-" }')")
    fi
    for command in "${commands[@]}"; do
        echo "events.sh: keibi $command --format jsonl $dir" >&2
        rc=0
        /usr/bin/time -f '%e %U %S %M' -o "$tmp/time" \
            "$keibi" "$command" --format jsonl "$dir" >/dev/null 2>"$tmp/keibi.err" || rc=$?
        summary=$(grep '^keibi: .* events from' "$tmp/keibi.err" | tail -1 || true)
        if [ "$rc" != 0 ] || [ -z "$summary" ]; then
            echo "events.sh: keibi exited $rc on $kind:" >&2
            tail -5 "$tmp/keibi.err" >&2
        fi
        read -r wall user sys rss_kb <"$tmp/time"
        events=$(sed -n 's/^keibi: \([0-9]*\) events from.*/\1/p' <<<"$summary")
        unrec=$(sed -n 's/.* \([0-9]*\) unrecognized lines.*/\1/p' <<<"$summary")
        findings=$(sed -n 's/^keibi: \([0-9]*\) findings.*/\1/p' "$tmp/keibi.err" | tail -1)
        rows+=("$(awk -v k="$kind" -v c="$command" -v b="$bytes" -v f="$files" -v w="$wall" -v u="$user" \
            -v s="$sys" -v r="$rss_kb" -v e="${events:-0}" -v x="${unrec:-?}" -v n="${findings:--}" 'BEGIN {
            if (w <= 0) w = 0.01
            printf "%-11s %-7s %9.0f %6d %8.2f %8.1f %11d %11.0f %6.0f%% %9.1f %8s %8s\n",
                k, c, b / 1e6, f, w, b / 1e6 / w, e, e / w, (u + s) / w * 100, r / 1024, x, n }')")
    done
done

printf '%-11s %-7s %9s %6s %8s %8s %11s %11s %7s %9s %8s %8s\n' \
    kind command input_MB files wall_s MB/s events events/s CPU peak_MiB unrecog findings
printf '%s\n' "${rows[@]}"
