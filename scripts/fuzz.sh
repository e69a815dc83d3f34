#!/usr/bin/env bash
# Runs every libFuzzer target for a while, growing its corpus in a scratch
# directory, and merges new coverage into tests/fuzz/corpus/NAME/.
#
#   bash scripts/fuzz.sh [SECONDS_PER_TARGET] [NAME...]   (default 60 s, all)
#
# Needs clang (installed by scripts/setup.sh).  Builds into build-fuzz/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
bash scripts/setup.sh
[ -f build-fuzz/build.ninja ] || CC=clang meson setup build-fuzz -Dfuzz=true >/dev/null
ninja -C build-fuzz >/dev/null
targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then
  for f in build-fuzz/tests/fuzz/fuzz-*; do
    [ -x "$f" ] && [ -f "$f" ] && targets+=("$(basename "$f" | sed 's/^fuzz-//')")
  done
fi
for name in "${targets[@]}"; do
  work=$(mktemp -d)
  cp -r "tests/fuzz/corpus/$name/." "$work/" 2>/dev/null || true
  echo "fuzz: $name for ${seconds}s"
  ./build-fuzz/tests/fuzz/"fuzz-$name" -max_total_time="$seconds" -max_len=4096 \
      -artifact_prefix="build-fuzz/crash-$name-" "$work" 2>&1 | grep -E 'DONE|ERROR|SUMMARY' || true
  mkdir -p "tests/fuzz/corpus/$name"
  ./build-fuzz/tests/fuzz/"fuzz-$name" -merge=1 "tests/fuzz/corpus/$name" "$work" >/dev/null 2>&1
  rm -rf "$work"
done
