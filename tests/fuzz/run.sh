#!/usr/bin/env bash
# tests/fuzz/run.sh [--no-build] [--fresh] [TARGET...] [SECONDS]
#
# Builds the libFuzzer targets (clang-22, ASan+UBSan, in build-fuzz/ at the top
# of the tree) and fuzzes each TARGET for SECONDS (default 60), then prints a
# summary: runs, exec/s, coverage (cov: instrumented C edges; ft: features,
# which for session and template include the Lua lines reel's scripts ran),
# corpus size and peak memory. Targets (default all): gen_spec position format
# loopback soundfile session template. SECONDS may come first, too.
#
#   bash tests/fuzz/run.sh              # every target, 60 s each
#   bash tests/fuzz/run.sh session 600  # ten minutes on the session loader
#
# Each target starts from its seed corpus tests/fuzz/corpus/TARGET/ (replayed
# first, so it is also a regression test; template also takes the hostile
# templates of tests/lua/hostile/ and the shipped ones of share/templates/)
# plus what earlier runs found, kept in
# build-fuzz/fuzz-corpus/TARGET/. A crash, sanitizer report, broken
# contract ("==reel-fuzz== FINDING"), hang (10 s per input) or memory blow-up
# (2 GiB) fails the run; the input is saved under build-fuzz/fuzz-artifacts/
# TARGET/ and the summary says how to replay and minimise it:
#
#   build-fuzz/tests/fuzz/fuzz_TARGET ARTIFACT                   # replay
#   build-fuzz/tests/fuzz/fuzz_TARGET -minimize_crash=1 -runs=10000 ARTIFACT
#
# --no-build: use the targets already built. --fresh: start from the seeds
# only and keep nothing (what the ctest tests fuzz.TARGET do, so that their
# time does not grow with what earlier runs found: libFuzzer replays the whole
# corpus before it looks at the clock). Environment: REEL_FUZZ_BUILD_DIR (default build-fuzz), CC (clang-22),
# REEL_FUZZ_FLAGS (more libFuzzer flags, e.g. "-jobs=2 -workers=2").
set -uo pipefail

src=${REEL_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${REEL_FUZZ_BUILD_DIR:-$src/build-fuzz}
all=(gen_spec position format loopback soundfile session template)

do_build=1
fresh=0
while [ $# -gt 0 ]; do
  case $1 in
    --no-build) do_build=0; shift ;;
    --fresh) fresh=1; shift ;;
    *) break ;;
  esac
done
# The number is the time, the words are targets, in either order.
seconds=60
targets=()
for a in "$@"; do
  if [[ $a =~ ^[0-9]+$ ]]; then seconds=$a; else targets+=("$a"); fi
done
[ ${#targets[@]} -eq 0 ] && targets=("${all[@]}")
for t in "${targets[@]}"; do
  if [[ " ${all[*]} " != *" $t "* ]]; then
    echo "run.sh: unknown target '$t' (targets: ${all[*]})" >&2
    exit 2
  fi
done

if [ $do_build = 1 ]; then
  cc=${CC:-clang-22}
  command -v "$cc" >/dev/null || { echo "run.sh: $cc not found (apt-get install clang-22 libclang-rt-22-dev)" >&2; exit 1; }
  if ! grep -q 'tests/fuzz' "$src/CMakeLists.txt"; then
    echo "run.sh: $src/CMakeLists.txt does not build tests/fuzz; it needs" >&2
    echo "  option(REEL_FUZZ \"build the libFuzzer targets (clang)\" OFF)" >&2
    echo "and, at its end:" >&2
    echo "  if(REEL_FUZZ)" >&2
    echo "    add_subdirectory(tests/fuzz)" >&2
    echo "  endif()" >&2
    exit 1
  fi
  echo "=== configure and build $build ($cc, ASan+UBSan, libFuzzer)"
  mkdir -p "$build"
  cmake -S "$src" -B "$build" -DCMAKE_C_COMPILER="$cc" -DREEL_SANITIZE=address -DREEL_FUZZ=ON \
    >"$build/fuzz-configure.log" 2>&1 \
    || { cat "$build/fuzz-configure.log" >&2; exit 1; }
  cmake --build "$build" -j"$(nproc)" --target fuzz >"$build/fuzz-build.log" 2>&1 \
    || { tail -n 60 "$build/fuzz-build.log" >&2; exit 1; }
fi

# Files the targets write go to memory when possible (session.new fsyncs).
base_tmp=/tmp
[ -d /dev/shm ] && [ -w /dev/shm ] && base_tmp=/dev/shm
export TMPDIR
TMPDIR=$(mktemp -d "$base_tmp/reel-fuzz.XXXXXX")
trap 'rm -rf "$TMPDIR"' EXIT

export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=1:allocator_may_return_null=0:abort_on_error=0"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}print_stacktrace=1:halt_on_error=1"
export LSAN_OPTIONS="suppressions=$src/tests/lsan.supp:print_suppressions=0"
# Symbolised stack traces (Debian's llvm-symbolizer is not on clang-22's path).
sym=${ASAN_SYMBOLIZER_PATH:-$(command -v llvm-symbolizer-22 || command -v llvm-symbolizer || true)}
[ -n "$sym" ] && export ASAN_SYMBOLIZER_PATH=$sym

max_len() {
  case $1 in
    gen_spec|position|format|loopback) echo 256 ;;
    template) echo 16384 ;;
    *) echo 65536 ;;
  esac
}

declare -A result runs eps cov ft corp rss
status=0
for t in "${targets[@]}"; do
  bin=$build/tests/fuzz/fuzz_$t
  if [ ! -x "$bin" ]; then
    echo "run.sh: $bin is not built (run without --no-build)" >&2
    result[$t]="NOT BUILT"; status=1; continue
  fi
  work=$build/fuzz-corpus/$t
  [ $fresh = 1 ] && work=$TMPDIR/corpus-$t
  art=$build/fuzz-artifacts/$t
  seeds=$src/tests/fuzz/corpus/$t
  log=$build/fuzz-$t.log
  mkdir -p "$work" "$art"
  flags=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len="$(max_len "$t")"
         -print_final_stats=1 -artifact_prefix="$art/" -close_fd_mask=1)
  [ -f "$src/tests/fuzz/dict/$t.dict" ] && flags+=(-dict="$src/tests/fuzz/dict/$t.dict")
  # shellcheck disable=SC2206
  flags+=(${REEL_FUZZ_FLAGS:-})
  dirs=("$work")
  [ -d "$seeds" ] && dirs+=("$seeds")
  # the sandbox's hostile templates and the shipped ones seed the template
  # target too (read from where they live, not copied into corpus/)
  if [ "$t" = template ]; then
    for extra in "$src/tests/lua/hostile" "$src/share/templates"; do
      [ -d "$extra" ] && dirs+=("$extra")
    done
  fi
  echo "=== fuzz_$t: $seconds s (log: $log)"
  before=$(ls "$art" | wc -l)
  timeout --signal=INT --kill-after=30 $((seconds + 120)) "$bin" "${flags[@]}" "${dirs[@]}" >"$log" 2>&1
  rc=$?
  after=$(ls "$art" | wc -l)
  last=$(grep -E '^#[0-9]+' "$log" | grep -E 'cov:|ft:' | tail -n 1)
  runs[$t]=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  eps[$t]=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
  rss[$t]=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -n 1)
  cov[$t]=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft[$t]=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  corp[$t]=$(sed -n 's/.* corp: \([0-9]*\/[0-9]*[a-zA-Z]*\).*/\1/p' <<<"$last")
  if [ $rc -eq 0 ] && [ "$after" -eq "$before" ]; then
    result[$t]=ok
  else
    status=1
    newest=$(ls -t "$art" 2>/dev/null | head -n 1)
    result[$t]="FAILED (exit $rc${newest:+, input $art/$newest})"
    echo "--- fuzz_$t failed; the report:" >&2
    grep -nE 'ERROR:|FINDING|runtime error|SUMMARY|#[0-9]+ 0x' "$log" | head -n 40 >&2
    [ -n "$newest" ] && echo "replay: $bin $art/$newest" >&2
  fi
done

echo
printf '%-10s %10s %8s %6s %7s %14s %7s  %s\n' target runs exec/s cov ft corpus rss_mb result
for t in "${targets[@]}"; do
  printf '%-10s %10s %8s %6s %7s %14s %7s  %s\n' "$t" "${runs[$t]:--}" "${eps[$t]:--}" \
    "${cov[$t]:--}" "${ft[$t]:--}" "${corp[$t]:--}" "${rss[$t]:--}" "${result[$t]}"
done
exit $status
