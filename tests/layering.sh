#!/usr/bin/env bash
# Checks the dependency direction of DESIGN.md §1: consensus/, storage/ and
# net/ are leaf libraries; none includes another's header, node/ headers, or
# (for consensus/) any I/O library.  Prints every offending line.
set -u
root=${1:?usage: layering.sh SOURCE_ROOT}
cd "$root" || exit 2
bad=0
check() { # dir pattern why
  local hits
  hits=$(grep -nE "^[[:space:]]*#[[:space:]]*include[[:space:]]*[<\"]($2)" -r "$1" --include='*.c' --include='*.h' 2>/dev/null)
  if [ -n "$hits" ]; then
    echo "layering: $1 must not include $3:"; echo "$hits"; bad=1
  fi
}
check consensus 'uv\.h|lmdb\.h|curl/|sodium|node/|\.\./|storage|net/|net\.h|time\.h|sys/time\.h|stdio\.h|pthread' 'I/O, clock, crypto or other nanum libraries'
check storage 'uv\.h|node/|\.\./|consensus|net/|net\.h' 'libuv, node/ or other nanum libraries'
check net 'lmdb\.h|node/|\.\./|consensus|storage' 'LMDB, node/ or other nanum libraries'
[ "$bad" -eq 0 ] && echo "layering: ok"
exit "$bad"
