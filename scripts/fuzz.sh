#!/usr/bin/env bash
# Builds and runs the libFuzzer targets of fuzz/ (see fuzz/README.md).
#
#   scripts/fuzz.sh build               build every target (instrumented, release + debug assertions)
#   scripts/fuzz.sh seeds               (re)write fuzz/seeds/<target>/ from the tests (scripts/fuzz_seeds.py)
#   scripts/fuzz.sh run [TARGET...]     fuzz each target for FUZZ_SECONDS (default 600), one at a time
#   scripts/fuzz.sh smoke               build, seed, replay fuzz/regressions/, fuzz each target FUZZ_SMOKE_SECONDS (5)
#   scripts/fuzz.sh list                the target names
#
# Plain `cargo build` with the flags cargo-fuzz passes for `--sanitizer none` (cargo-fuzz 0.13
# src/project.rs): works on the stable toolchain, nothing to install but a C++ compiler for
# libFuzzer. FUZZ_SANITIZER=address adds AddressSanitizer (a -Z flag: RUSTC_BOOTSTRAP=1 is set).
# The core forbids `unsafe`, so the default is no sanitizer and about twice the executions.
#
# Other knobs: FUZZ_TIMEOUT (seconds per input, default 10), FUZZ_RSS_MB (default 2048),
# FUZZ_MAX_LEN (libFuzzer -max_len; default: libFuzzer's own), FUZZ_NICE (default 19).
# Every run appends a line to fuzz/logs/stats.tsv: end time (UTC), target, wall seconds,
# executions, cov, ft, exit status, CPU seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
FUZZ=$ROOT/fuzz
TRIPLE=$(rustc -vV | sed -n 's/^host: //p')
BIN=$FUZZ/target/$TRIPLE/release
TARGETS=$(sed -n 's/^name = "\(.*\)"$/\1/p' "$FUZZ/Cargo.toml" | grep -vE "^pullkey[-_]fuzz$")
NICE=(nice -n "${FUZZ_NICE:-19}")

build() {
    command -v c++ >/dev/null || apt-get install -y --no-install-recommends g++
    local flags="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4"
    flags+=" -Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table"
    flags+=" -Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing"
    flags+=" -Cllvm-args=-sanitizer-coverage-stack-depth -Cdebug-assertions -Coverflow-checks"
    if [[ ${FUZZ_SANITIZER:-none} != none ]]; then
        flags+=" -Zsanitizer=$FUZZ_SANITIZER"
        export RUSTC_BOOTSTRAP=1
    fi
    # --target: the flags reach the targets but not build scripts (as cargo-fuzz does it).
    RUSTFLAGS="$flags" "${NICE[@]}" cargo build -q --release --manifest-path "$FUZZ/Cargo.toml" \
        --target "$TRIPLE" --bins
}

seeds() {
    "${PYTHON:-python3}" scripts/fuzz_seeds.py
}

# run_one TARGET SECONDS: fuzz, then record the final figures. Non-zero on a crash/timeout/OOM.
run_one() {
    local t=$1 secs=$2 log=$FUZZ/logs/$1.log
    mkdir -p "$FUZZ/corpus/$t" "$FUZZ/artifacts/$t" "$FUZZ/logs" "$FUZZ/seeds/$t" "$FUZZ/regressions/$t"
    local extra=()
    [[ -n ${FUZZ_MAX_LEN:-} ]] && extra+=("-max_len=$FUZZ_MAX_LEN")
    local start=$SECONDS rc=0 timer=() cpu=?
    # CPU seconds (user + system) when GNU time is there: on a shared machine, the honest figure.
    [[ -x /usr/bin/time ]] && timer=(/usr/bin/time -f "%U %S" -o "$FUZZ/logs/$t.cpu")
    # The first directory receives new inputs; seeds and regressions are only read.
    "${timer[@]}" "${NICE[@]}" "$BIN/$t" "$FUZZ/corpus/$t" "$FUZZ/seeds/$t" "$FUZZ/regressions/$t" \
        -max_total_time="$secs" -timeout="${FUZZ_TIMEOUT:-10}" -rss_limit_mb="${FUZZ_RSS_MB:-2048}" \
        -artifact_prefix="$FUZZ/artifacts/$t/" -print_final_stats=1 "${extra[@]}" >"$log" 2>&1 || rc=$?
    local execs cov ft
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
    ft=$(grep -oE 'ft: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
    [[ -s $FUZZ/logs/$t.cpu ]] && cpu=$(awk 'END { printf "%d", $1 + $2 }' "$FUZZ/logs/$t.cpu")
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$t" "$((SECONDS - start))" \
        "${execs:-?}" "${cov:-?}" "${ft:-?}" "$rc" "$cpu" >>"$FUZZ/logs/stats.tsv"
    printf '%-16s %5ss  execs %-10s cov %-6s ft %-6s %s\n' "$t" "$((SECONDS - start))" \
        "${execs:-?}" "${cov:-?}" "${ft:-?}" "$([[ $rc == 0 ]] && echo ok || echo "FAILED (rc $rc, see $log)")"
    if [[ $rc != 0 ]]; then
        grep -E '^(==[0-9]+==|thread|panicked|.*SUMMARY|artifact_prefix|Test unit written)' "$log" | head -20 >&2 || true
    fi
    return "$rc"
}

run() {
    local secs=$1 failed=0
    shift
    for t in "${@:-$TARGETS}"; do
        for one in $t; do run_one "$one" "$secs" || failed=1; done
    done
    return "$failed"
}

case ${1:-} in
    build) build ;;
    seeds) seeds ;;
    list) echo "$TARGETS" ;;
    run) shift; build; seeds; run "${FUZZ_SECONDS:-600}" "$@" ;;
    smoke) build; seeds; run "${FUZZ_SMOKE_SECONDS:-5}" ;;
    *) sed -n '2,9s/^# \{0,1\}//p' "$0"; exit 2 ;;
esac
