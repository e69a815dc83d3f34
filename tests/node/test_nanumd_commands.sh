#!/usr/bin/env bash
# nanumd's offline commands, run as a user would: verify-db on a good store,
# on a damaged one (exit 65, names the ledger), on a directory with no store
# (exit 1, creates nothing); genesis-id on a good and a bad file.
set -u
nanumd=$1 make_store=$2 genesis=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0 n=0
check() { # description, then a command that must succeed
  n=$((n + 1)); local what=$1; shift
  if "$@"; then echo "ok $n - $what"; else echo "not ok $n - $what"; fails=$((fails + 1)); fi
}
expect() { # description, expected exit, expected text, command...
  local what=$1 want=$2 text=$3; shift 3
  local out; out=$("$@" 2>&1); local got=$?
  n=$((n + 1))
  if [ "$got" -eq "$want" ] && printf '%s' "$out" | grep -qF -- "$text"; then
    echo "ok $n - $what"
  else
    echo "not ok $n - $what (exit $got, want $want; output: $out)"; fails=$((fails + 1))
  fi
}

mkdir "$tmp/good" "$tmp/bad" "$tmp/empty"
check "test store written" "$make_store" "$tmp/good" 30
expect "verify-db passes a good store" 0 "31 ledgers checked" "$nanumd" verify-db "$tmp/good"
check "damaged store written" "$make_store" "$tmp/bad" 10 --bad-tail
expect "verify-db names the first bad ledger" 65 "first bad ledger is 11" "$nanumd" verify-db "$tmp/bad"
expect "verify-db on a directory without a store" 1 "no ledger store here" "$nanumd" verify-db "$tmp/empty"
check "verify-db created nothing" test ! -e "$tmp/empty/data.mdb"
expect "verify-db without arguments is a usage error" 64 "usage" "$nanumd" verify-db
expect "genesis-id prints a 64-hex network id" 0 "" "$nanumd" genesis-id "$genesis"
id=$("$nanumd" genesis-id "$genesis")
check "network id is 64 hex digits" test "${#id}" -eq 64
printf '{"version":1,"network":"x"' > "$tmp/broken.json"
expect "genesis-id names what is wrong" 65 "broken.json" "$nanumd" genesis-id "$tmp/broken.json"
expect "unknown command is a usage error" 64 "unknown command" "$nanumd" frobnicate
echo "1..$n"
[ "$fails" -eq 0 ]
