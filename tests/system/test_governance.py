#!/usr/bin/env python3
"""test_governance.py — governed validator changes on a live network.

  1. A proposal to lower the quorum threshold so far that two quorums could
     miss each other is refused when proposed, with its result code
     (quorum_intersection_lost), on every node.
  2. A proposal that adds a validator keeps intersection: members vote it
     through, and the new validator set takes effect at the next ledger on
     every node (the same validator-set hash in every header from then on).

    tests/system/test_governance.py BUILD_DIR
"""

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Network, check, run_tests, wait_for  # noqa: E402

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
FAST = {"batch_window_ms": 20, "idle_close_ms": 300}


def submit_and_wait(net, txs, node=None):
    node = node or net.nodes[0]
    for tx_id, hex_ in txs:
        code, body = node.submit(hex_)
        check(code in (200, 202), f"refused: {code} {body}")
    net.wait_committed([t for t, _ in txs])
    return [node.get(f"/v1/tx/{t}")[1] for t, _ in txs]


def members(net):
    return [name for name, w in net.wallets.items() if "member" in w.get("roles", [])]


def scenario_threshold_that_loses_intersection_is_refused():
    with Network(BUILD, params=FAST, watchers=0) as net:
        net.start()
        seqs = net.wallet_seqs()
        [result] = submit_and_wait(net, net.txgen("propose-param", "alice", "quorum_threshold_bp", 4000, seqs=seqs))
        check(result["status"] == "failed" and result["result"] == "quorum_intersection_lost",
              f"a threshold of 4,000 bp with 4 orgs was not refused: {result}")
        code, body = net.nodes[0].get("/v1/proposals")
        check(code == 200 and not body["proposals"], f"a refused proposal was recorded: {body}")


def scenario_added_validator_takes_effect_at_the_next_ledger_everywhere():
    with Network(BUILD, params=FAST, watchers=0) as net:
        net.start()
        seqs = net.wallet_seqs()
        # A second validator for coop1: a fresh node key.
        key_file = os.path.join(net.dir, "extra.key")
        address = subprocess.run([net.nanumd, "keygen", "--out", key_file], check=True,
                                 capture_output=True, text=True).stdout.split()[-1]
        [proposed] = submit_and_wait(net, net.txgen("propose-validator", "alice", address, "coop1",
                                                    "127.0.0.1:1", seqs=seqs))
        check(proposed["status"] == "committed", f"the proposal failed: {proposed}")
        code, body = net.nodes[0].get("/v1/proposals")
        proposal = body["proposals"][-1]
        voters = members(net)
        needed = (2 * len(voters) + 2) // 3
        seqs = net.wallet_seqs()
        votes = [net.txgen("vote", name, proposal["id"], "yes", seqs=seqs)[0] for name in voters[:needed]]
        submit_and_wait(net, votes)
        wait_for(lambda: next(p for p in net.nodes[0].get("/v1/proposals")[1]["proposals"]
                              if p["id"] == proposal["id"])["status"] == "enacted", 30, "the proposal to be enacted")
        enacted = next(p for p in net.nodes[0].get("/v1/proposals")[1]["proposals"] if p["id"] == proposal["id"])
        height = enacted["effective_height"]
        net.wait_height(height)
        for n in net.nodes:
            status = n.status()
            check(status["validators"] == 5, f"{n.name} has {status['validators']} validators after enactment")
        # The header of the enacting ledger carries the new set on every node.
        hashes = {n.name: n.get(f"/v1/ledgers/{height}")[1]["header"]["validator_set_hash"] for n in net.nodes}
        before = {n.name: n.get(f"/v1/ledgers/{height - 1}")[1]["header"]["validator_set_hash"] for n in net.nodes}
        check(len(set(hashes.values())) == 1, f"nodes disagree on the new set: {hashes}")
        check(set(hashes.values()) != set(before.values()), "the validator set did not change at the enacting ledger")
        # The network keeps closing ledgers with the new set (coop1's new
        # validator is not running: the other three orgs still make a quorum).
        net.wait_height(height + 2)
        net.assert_same_chain()


SCENARIOS = [
    ("threshold_that_loses_intersection_is_refused", scenario_threshold_that_loses_intersection_is_refused),
    ("added_validator_takes_effect_at_the_next_ledger_everywhere",
     scenario_added_validator_takes_effect_at_the_next_ledger_everywhere),
]

if __name__ == "__main__":
    sys.exit(run_tests(SCENARIOS))
