#!/usr/bin/env bash
# The test command: installs what is missing, builds, and runs every test.
#
#   bash scripts/test.sh              # normal build in build/, all suites
#   bash scripts/test.sh --sanitize   # ASan+UBSan build in build-asan/, unit suite
#
# Ends with one line "N passed, N failed" and exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."

mode=normal
[ "${1:-}" = "--sanitize" ] && mode=sanitize

bash scripts/setup.sh || { echo "0 passed, 1 failed"; exit 1; }

if [ "$mode" = sanitize ]; then
  dir=build-asan
  setup_args=(-Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug)
  test_args=(--suite unit)
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
else
  dir=build
  setup_args=()
  test_args=()
fi

if [ ! -f "$dir/build.ninja" ]; then
  meson setup "$dir" "${setup_args[@]}" >/dev/null || { echo "0 passed, 1 failed"; exit 1; }
fi
if ! meson compile -C "$dir" >"$dir.compile.log" 2>&1; then
  tail -n 60 "$dir.compile.log"
  echo "build failed (full log: $dir.compile.log)"
  echo "0 passed, 1 failed"
  exit 1
fi

log="$dir.test.log"
meson test -C "$dir" --print-errorlogs --num-processes 2 "${test_args[@]}" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

# Count test cases, not test programs: a TAP test's line ends with
# "N subtests passed" (all passed) or "N/M subtests passed" (some failed);
# any other line counts as one case.
read -r passed failed < <(awk '
  /^ *[0-9]+\/[0-9]+ / {
    ok = ($0 ~ / OK / || $0 ~ / EXPECTEDFAIL /)
    if (match($0, /[0-9]+\/[0-9]+ subtests passed/)) {
      split(substr($0, RSTART, RLENGTH), f, /[\/ ]/); p += f[1]; q += f[2] - f[1]
    } else if (match($0, /[0-9]+ subtests passed/)) {
      split(substr($0, RSTART, RLENGTH), f, / /); p += f[1]
    } else if (ok) { p += 1 } else { q += 1 }
  }
  END { print p + 0, q + 0 }' "$log")
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
echo "$passed passed, $failed failed"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ]
