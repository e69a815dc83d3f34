#!/usr/bin/env bash
# Checks the dependency direction of DESIGN.md §1 and the folders of node/:
#
#   consensus/ storage/ net/   leaf libraries: no other nanum library, and
#                              (consensus/) no I/O, clock or crypto library
#   node/protocol/             its own headers and consensus.h only
#   node/ledger/               protocol.h, its own headers, storage.h
#   node/http/                 a leaf: its own header only
#   node/daemon/               the libraries' public headers, never their
#                              internal ones
#   cli/                       protocol.h and its own header: never the
#                              ledger, the daemon, storage, net or http
#
# Quoted includes are checked against a list of allowed headers per folder;
# angle-bracket includes against a list of forbidden system libraries.
# Prints every offending line and exits 1 if there is one.
set -u
root=${1:?usage: layering.sh SOURCE_ROOT}
cd "$root" || exit 2
bad=0

# forbid DIR PATTERN WHY: no #include of a header matching PATTERN in DIR.
forbid() {
  local hits
  hits=$(grep -nE "^[[:space:]]*#[[:space:]]*include[[:space:]]*[<\"]($2)" -r "$1" --include='*.c' --include='*.h' 2>/dev/null)
  if [ -n "$hits" ]; then
    echo "layering: $1 must not include $3:"; echo "$hits"; bad=1
  fi
}

# allow DIR HEADER...: every quoted #include in DIR names one of HEADER.
allow() {
  local dir=$1; shift
  local allowed=" $* " file line header
  while IFS= read -r hit; do
    file=${hit%%:*}; line=${hit#*:}; line=${line%%:*}
    header=$(sed -n "${line}p" "$file" | sed -E 's/.*#[[:space:]]*include[[:space:]]*"([^"]+)".*/\1/')
    case "$allowed" in
      *" $header "*) ;;
      *) echo "layering: $file:$line includes \"$header\"; $dir may include only: $*"; bad=1 ;;
    esac
  done < <(grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' -r "$dir" --include='*.c' --include='*.h' 2>/dev/null | cut -d: -f1,2)
}

forbid consensus 'uv\.h|lmdb\.h|curl/|sodium|node/|\.\./|storage|net/|net\.h|time\.h|sys/time\.h|stdio\.h|pthread' 'I/O, clock, crypto or other nanum libraries'
forbid storage 'uv\.h|node/|\.\./|consensus|net/|net\.h' 'libuv, node/ or other nanum libraries'
forbid net 'lmdb\.h|node/|\.\./|consensus|storage' 'LMDB, node/ or other nanum libraries'

daemon_headers=$(cd node/daemon && ls *.h | tr '\n' ' ')
allow node/protocol protocol.h protocol_internal.h consensus.h
forbid node/protocol 'uv\.h|lmdb\.h|curl/|http_parser|ini\.h' 'libuv, LMDB, libcurl, http-parser or inih'
allow node/ledger ledger.h ledger_internal.h protocol.h storage.h
forbid node/ledger 'uv\.h|lmdb\.h|curl/|http_parser|ini\.h' 'libuv, LMDB (storage/ wraps it), libcurl, http-parser or inih'
allow node/http http.h
forbid node/http 'lmdb\.h|curl/|ini\.h|msgpack' 'LMDB, libcurl, inih or msgpack'
# shellcheck disable=SC2086
allow node/daemon $daemon_headers protocol.h ledger.h http.h storage.h net.h consensus.h
allow cli wallet.h protocol.h
forbid cli 'uv\.h|lmdb\.h|http_parser|ini\.h' 'libuv, LMDB, http-parser or inih'

[ "$bad" -eq 0 ] && echo "layering: ok"
exit "$bad"
