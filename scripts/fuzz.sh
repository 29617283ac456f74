#!/usr/bin/env bash
# Fuzzes the parsers of axes-core (the cargo-fuzz crate in fuzz/), each
# target for a bounded time, one after the other, and prints a summary line
# per target (runs, coverage, crashes).
#
#   scripts/fuzz.sh [-t SECONDS] [TARGET...]
#
# SECONDS per target: -t, else $FUZZ_SECONDS, else 600. TARGETs: every
# target of fuzz/ unless named. Needs a nightly toolchain and cargo-fuzz
# (`cargo install cargo-fuzz --locked`).
#
# FUZZ_KNOWN_BUGS=1 also checks the properties broken by known, unfixed bugs
# (fuzz/src/lib.rs). FUZZ_SANITIZER (default none: the code is safe Rust)
# and FUZZ_TOOLCHAIN (default nightly) change the build. New inputs go to
# fuzz/corpus/<target>/ (shrink it before committing:
# `cargo +nightly fuzz cmin -s none <target>`); crashing inputs and each
# target's log to fuzz/artifacts/<target>/ (not committed). Reproduce a crash
# with `cargo +nightly fuzz run -s none -a <target> <file>`.
#
# Exit status: 0 when no target found anything, 1 when one did, 2 on bad
# usage or a failed build.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${FUZZ_SECONDS:-600}"
while getopts "t:h" opt; do
    case $opt in
    t) seconds=$OPTARG ;;
    h)
        sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    *) exit 2 ;;
    esac
done
shift $((OPTIND - 1))
if ! [[ $seconds =~ ^[0-9]+$ ]] || ((seconds == 0)); then
    echo "fuzz.sh: the time per target must be a whole number of seconds, got '$seconds'" >&2
    exit 2
fi

fuzz=(cargo "+${FUZZ_TOOLCHAIN:-nightly}" fuzz)
build_flags=(--sanitizer "${FUZZ_SANITIZER:-none}" --debug-assertions)

mapfile -t all < <("${fuzz[@]}" list)
if (($#)); then
    targets=("$@")
    for t in "${targets[@]}"; do
        if ! printf '%s\n' "${all[@]}" | grep -qx -- "$t"; then
            echo "fuzz.sh: no target '$t' (targets: ${all[*]})" >&2
            exit 2
        fi
    done
else
    targets=("${all[@]}")
fi

echo "fuzz.sh: building ${targets[*]}" >&2
for t in "${targets[@]}"; do
    "${fuzz[@]}" build "${build_flags[@]}" "$t" >&2 || exit 2
done

found=0
for t in "${targets[@]}"; do
    mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t"
    log="fuzz/artifacts/$t/last-run.log"
    echo "fuzz.sh: $t for ${seconds}s (log: $log)" >&2
    set +e
    "${fuzz[@]}" run "${build_flags[@]}" "$t" -- \
        -max_total_time="$seconds" -print_final_stats=1 -timeout=10 \
        -rss_limit_mb=2048 -max_len=8192 >"$log" 2>&1
    rc=$?
    set -e

    runs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -1)
    stats=$(grep -E '^#[0-9]+[[:space:]]+(DONE|INITED|NEW|REDUCE|pulse)' "$log" | tail -1 || true)
    field() { sed -n "s|.* $1: \([^ ]*\).*|\1|p" <<<"$stats"; }
    crashes=$(grep -c 'Test unit written to' "$log" || true)
    status=ok
    if ((crashes > 0)); then
        status="FOUND $(sed -n 's/.*Test unit written to \(.*\)/\1/p' "$log" | tr '\n' ' ')"
        found=1
    elif ((rc != 0)); then
        status="ERROR (exit $rc, see $log)"
        found=1
    fi
    printf '%-20s runs=%s cov=%s ft=%s corpus=%s exec/s=%s crashes=%s %s\n' \
        "$t" "${runs:-?}" "$(field cov)" "$(field ft)" "$(field corp)" "$(field exec/s)" \
        "$crashes" "$status"
done
exit "$found"
