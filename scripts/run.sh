#!/usr/bin/env bash
# The run command: a local nanum network with a sharing story.
#
#   bash scripts/run.sh            build, start 4 validators, tell the story,
#                                  then keep the network up until Ctrl-C
#   bash scripts/run.sh --once     the same, then stop everything and exit
#
# It installs what is missing (scripts/setup.sh), builds into build/, writes
# a fresh test network (`nanumd testnet`) under $NANUM_DEMO_DIR or a new
# temporary folder, starts four validators on 127.0.0.1, and runs the story
# through the members' wallet `nanum`: a car-share operator lists two cars
# and a parking space, members book, return and rate, a booking that
# overlaps is refused, and a governance vote lowers the cooperative's fee.
# Every process it starts is stopped when it ends (Ctrl-C included), and it
# removes the folder it made.  The story's final balances are written to
# DIR/summary.json.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

once=false
[ "${1:-}" = "--once" ] && once=true

# NANUM_BUILD_DIR: use another build directory (the tests pass theirs).
build=${NANUM_BUILD_DIR:-build}
bash scripts/setup.sh
[ -f "$build/build.ninja" ] || meson setup "$build" >/dev/null
meson compile -C "$build" >/dev/null

nanumd=$root/$build/node/nanumd
nanum_bin=$root/$build/cli/nanum
case "$build" in /*) nanumd=$build/node/nanumd; nanum_bin=$build/cli/nanum ;; esac
made_dir=false
if [ -n "${NANUM_DEMO_DIR:-}" ]; then
  dir=$NANUM_DEMO_DIR
  mkdir -p "$dir"
else
  dir=$(mktemp -d "${TMPDIR:-/tmp}/nanum-demo-XXXXXX")
  made_dir=true
fi

# A free range of ports below the kernel's ephemeral range.
base=""
for _ in $(seq 1 100); do
  candidate=$(( (RANDOM % 1000) * 10 + 10000 ))
  busy=false
  for k in 1 2 3 4; do
    for p in $((candidate + 2 * k)) $((candidate + 2 * k + 1)); do
      if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then busy=true; fi
    done
  done
  $busy || { base=$candidate; break; }
done
[ -n "$base" ] || { echo "run: no free ports on 127.0.0.1" >&2; exit 1; }

pids=()
stop_network() {
  trap - EXIT INT TERM
  if [ "${#pids[@]}" -gt 0 ]; then
    echo
    echo "Stopping the network..."
    kill -TERM "${pids[@]}" 2>/dev/null || true
    for pid in "${pids[@]}"; do
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    done
  fi
  if $made_dir; then rm -rf "$dir"; fi
}
trap stop_network EXIT
trap 'exit 130' INT TERM

"$nanumd" testnet --validators 4 --dir "$dir" --base-port "$base" --force >/dev/null
# Ledgers close 20 ms after the first transaction arrives, or every second.
python3 - "$dir/genesis.json" <<'PY'
import json, sys
path = sys.argv[1]
g = json.load(open(path))
g.setdefault("params", {}).update({"batch_window_ms": 20, "idle_close_ms": 1000})
json.dump(g, open(path, "w"), indent=1)
PY

for k in 1 2 3 4; do
  "$nanumd" --config "$dir/node$k/nanumd.ini" 2>"$dir/node$k.log" &
  pids+=($!)
done
api="http://127.0.0.1:$((base + 3))"
for _ in $(seq 1 200); do
  height=$(curl -s "$api/v1/status" 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["height"])' 2>/dev/null || true)
  [ -n "$height" ] && [ "$height" -ge 1 ] && break
  sleep 0.1
done
[ -n "${height:-}" ] || { echo "run: the network did not start; see $dir/node1.log" >&2; exit 1; }

export NANUM_HOME=$dir/wallets-home NANUM_NODE=$api NANUM_GENESIS=$dir/genesis.json NANUM_PASSPHRASE=demo
wallet() { "$nanum_bin" "$@"; }
for name in operator alice bob carol dave coop1 coop2 coop3; do
  wallet import --name "$name" --plain-key-file "$dir/wallets/$name.key" >/dev/null
done
addr() { wallet address --name "$1"; }
balance() { wallet balance "$(addr "$1")" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["balance"])'; }
# The commons fund's account is the all-zero key; no key controls it.
commons_address=naaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa6t4hkgq
commons() { wallet balance "$commons_address" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["balance"])'; }
json_field() { python3 -c "import json,sys; print(json.load(sys.stdin)[\"$1\"])"; }
say() { printf '\n%s\n' "$*"; }

echo "A nanum network of 4 validators is running (API $api, data in $dir)."
say "1. Hanbat Car Share, a car-share operator, lists what it shares."
car1=$(wallet --name operator resource register --kind car --title "Kia Ray (blue)" --price 12.00 --deposit 50.00 --json | json_field resource_id)
car2=$(wallet --name operator resource register --kind car --title "Hyundai Ioniq 5" --price 20.00 --deposit 80.00 --json | json_field resource_id)
spot=$(wallet --name operator resource register --kind parking --title "Spot 3, Daeheung-dong" --price 2.00 --deposit 0 --json | json_field resource_id)
echo "   car $car1: Kia Ray, 12.00/hour, deposit 50.00"
echo "   car $car2: Hyundai Ioniq 5, 20.00/hour, deposit 80.00"
echo "   parking space $spot: 2.00/hour"

now=$(date +%s)
from=$(( now / 60 * 60 - 300 ))      # a booking that started five minutes ago
to=$(( from + 2 * 3600 ))
say "2. Alice books the Kia Ray for two hours."
b1=$(wallet --name alice --yes book "$car1" --from "$from" --to "$to" --json)
b1_id=$(echo "$b1" | json_field booking_id)
echo "   booking $b1_id: price 24.00 + deposit 50.00 = 74.00 moved from Alice's balance into escrow"
echo "   Alice now has $(balance alice) spendable"

say "3. Bob tries to book the same car at an overlapping time."
if wallet --name bob --yes book "$car1" --from $((from + 3600)) --to $((to + 3600)) >/dev/null 2>"$dir/overlap.txt"; then
  echo "   (unexpected: it was accepted)"
else
  echo "   refused: the car is already booked then (booking_overlap); nothing was taken but the 0.01 fee"
fi
echo "   Bob books the Ioniq 5 instead, and the parking space."
b2_id=$(wallet --name bob --yes book "$car2" --from "$from" --to $((from + 3600)) --json | json_field booking_id)
b3_id=$(wallet --name bob --yes book "$spot" --from $((from + 3600)) --to $((from + 4 * 3600)) --json | json_field booking_id)
echo "   booking $b2_id: 20.00 + 80.00 deposit in escrow; booking $b3_id (from the next hour): 6.00 in escrow"

say "4. Bob changes his mind about the parking space and cancels."
wallet --name bob cancel "$b3_id" >/dev/null
echo "   the 6.00 held in escrow went back to Bob"

commons_before=$(commons)
say "5. Alice returns the Kia Ray; the operator completes the booking."
wallet --name operator complete "$b1_id" >/dev/null
echo "   24.00 released: 22.80 to the operator, 1.20 (5%) to the commons fund; Alice's 50.00 deposit came back"
say "   Bob returns the Ioniq 5 with a scratch; the operator claims 10.00 of the deposit."
wallet --name operator complete "$b2_id" --claim 10.00 >/dev/null
echo "   20.00 released: 19.00 + 10.00 claim to the operator, 1.00 to the commons fund; 70.00 back to Bob"
echo "   commons fund (with the 0.01 transaction fees): $commons_before -> $(commons)"

say "6. They rate each other."
wallet --name alice rate "$b1_id" 5 >/dev/null
wallet --name operator rate "$b1_id" 5 >/dev/null
wallet --name bob rate "$b2_id" 4 >/dev/null
wallet --name operator rate "$b2_id" 3 >/dev/null
trust=$(wallet balance "$(addr alice)" --json | python3 -c 'import json,sys; t=json.load(sys.stdin)["trust"]; print(t["completed_as_renter"], t["rating_count"])')
echo "   Alice's trust record: ${trust% *} completed booking(s), ${trust#* } rating(s); the operator's: $(wallet balance "$(addr operator)" --json | python3 -c 'import json,sys; t=json.load(sys.stdin)["trust"]; print(t["completed_as_owner"], "completed as owner, average", round(t["rating_sum"]/t["rating_count"], 2))')"

say "7. The members vote to lower the cooperative's fee from 5% to 3%."
proposal=$(wallet --name alice gov propose param.set coop_fee_bp 300 --title "Lower the booking fee to 3%" --json | json_field proposal_id)
echo "   proposal $proposal by Alice; one member, one vote:"
for voter in alice bob carol dave operator coop1 coop2; do
  wallet --name "$voter" gov vote "$proposal" yes >/dev/null
  status=$(wallet gov show "$proposal" --json | json_field status)
  echo "   $voter votes yes (status: $status)"
  [ "$status" = "open" ] || break
done
for _ in $(seq 1 100); do
  [ "$(wallet gov show "$proposal" --json | json_field status)" = "enacted" ] && break
  sleep 0.1
done
echo "   enacted at ledger $(wallet gov show "$proposal" --json | json_field effective_height)"
b4_id=$(wallet --name carol --yes book "$car2" --from "$from" --to $((from + 3600)) --json | json_field booking_id)
commons_before=$(commons)
wallet --name operator complete "$b4_id" >/dev/null
echo "   Carol rides the Ioniq 5 for an hour (20.00): the commons fund gets the new 3% fee, 0.60, and the 0.01 transaction fee: $commons_before -> $(commons)"

say "8. Balances now:"
printf '   %-9s %12s\n' operator "$(balance operator)" alice "$(balance alice)" bob "$(balance bob)" carol "$(balance carol)"
printf '   %-9s %12s\n' commons "$(commons)"
python3 - "$dir/summary.json" "$(balance operator)" "$(balance alice)" "$(balance bob)" "$(balance carol)" "$(commons)" <<'PY'
import json, sys
names = ["operator", "alice", "bob", "carol", "commons"]
json.dump(dict(zip(names, sys.argv[2:])), open(sys.argv[1], "w"), indent=1)
PY

if $once; then
  say "Done (--once): stopping."
  exit 0
fi
cat <<EOF

The network keeps running.  In another terminal:

  export NANUM_HOME=$NANUM_HOME NANUM_NODE=$NANUM_NODE NANUM_GENESIS=$NANUM_GENESIS
  $nanum_bin --name alice balance          # passphrase: demo
  $nanum_bin --name alice pay \$($nanum_bin address --name bob) 5.00
  $nanum_bin resource list
  $nanum_bin ledger latest --verify

Press Ctrl-C to stop every node and remove $dir.
EOF
while :; do sleep 1; done
