#!/usr/bin/env python3
"""test_network.py — validators that close ledgers together, as real processes.

The scenarios of the node issue, each on its own local network of real
nanumd processes (tests/system/harness.py):

  1. 4 validators + 1 watcher: transactions submitted to random nodes are
     all committed; every node has the same ledger hash at every height.
  2. A validator killed with SIGKILL under load: the others keep closing;
     restarted, it catches up and rejoins; hashes identical.
  3. Two of four validators stopped: no ledger closes, no fork, reads still
     answer; one restarted: ledgers resume.
  4. A partition (SIGSTOP/SIGCONT of a validator): after it heals, all nodes
     converge on one chain.
  5. A watcher started after many ledgers catches up and matches.
  6. A validator that equivocates (test-only switch): safety holds and the
     honest nodes report it.
  7. Bad client input gets 4xx JSON errors, changes nothing, and the node
     keeps serving.

    tests/system/test_network.py BUILD_DIR [SCENARIO...]
    NANUM_SYSTEM_FULL=1 ...   runs the full sizes (2,000 transactions, 500 ledgers)
"""

import json
import os
import random
import signal
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Network, TestFailure, check, run_tests, wait_for  # noqa: E402

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
FULL = os.environ.get("NANUM_SYSTEM_FULL") == "1"
FAST = {"batch_window_ms": 20, "idle_close_ms": 300}


def network(**kw):
    kw.setdefault("params", FAST)
    return Network(BUILD, **kw)


def submit_all(net, txs, nodes=None):
    """Submits (id, hex) pairs to random running nodes; every one must be admitted."""
    nodes = nodes or net.running_nodes()
    for tx_id, hex_ in txs:
        node = random.choice(nodes)
        code, body = node.submit(hex_)
        check(code in (200, 202), f"{node.name} refused {tx_id[:16]}: {code} {body}")
    return [tx_id for tx_id, _ in txs]


class Load:
    """Submits pays in a background thread until stopped (for scenarios 2 and 4)."""

    def __init__(self, net, nodes):
        self.net, self.nodes, self.stop_flag, self.ids = net, nodes, threading.Event(), []
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        seqs = self.net.wallet_seqs(self.nodes[0])
        while not self.stop_flag.is_set():
            batch = self.net.txgen("pays", 20, seqs=seqs)
            for tx_id, hex_ in batch:
                code, _ = random.choice(self.nodes).submit(hex_)
                if code in (200, 202):
                    self.ids.append(tx_id)
            # The next batch starts from the committed sequences: let this
            # one drain first.
            wait_for(lambda: self.stop_flag.is_set() or
                     (self.nodes[0].status() or {"mempool": {"count": 1}})["mempool"]["count"] == 0,
                     30, "the mempool to drain")
            seqs = self.net.wallet_seqs(self.nodes[0])

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop_flag.set()
        self.thread.join(60)


def scenario_all_transactions_commit_with_identical_hashes():
    with network() as net:
        net.start()
        count = 2000 if FULL else 400
        ids = submit_all(net, net.txgen("pays", count))
        net.wait_committed(ids, timeout_s=120)
        top = max(n.height() for n in net.nodes)
        net.wait_height(top)
        net.assert_same_chain(up_to=top)
        failed = [i for i in ids[:50] if net.nodes[0].get(f"/v1/tx/{i}")[1]["status"] != "committed"]
        check(not failed, f"transactions failed instead of committing: {failed[:3]}")
        # The brief view of a ledger: the same transactions, hash and result only.
        height = net.nodes[0].get(f"/v1/tx/{ids[0]}")[1]["height"]
        _, full = net.nodes[0].get(f"/v1/ledgers/{height}")
        code, brief = net.nodes[0].get(f"/v1/ledgers/{height}?brief=1")
        check(code == 200 and brief["hash"] == full["hash"], f"brief ledger {height}: {code}")
        pairs = lambda ledger: [(t["hash"], t["result"], t["fee_charged"]) for t in ledger["transactions"]]
        check(pairs(brief) == pairs(full) and ids[0] in {t["hash"] for t in brief["transactions"]},
              f"brief ledger {height} lists other transactions than the full one")
        check(all(not {"envelope", "type", "source"} & set(t) for t in brief["transactions"]),
              "the brief view carries envelopes")


def scenario_killed_validator_catches_up_and_rejoins():
    with network() as net:
        net.start()
        victim = net.validators[1]
        others = [n for n in net.nodes if n is not victim]
        with Load(net, others) as load:
            net.wait_height(3)
            victim.kill9()
            before = max(n.height() for n in others)
            net.wait_height(before + 3, nodes=others)
            victim.start()
            target = max(n.height() for n in others)
            net.wait_height(target, nodes=[victim], timeout_s=60)
        check(len(load.ids) > 0, "no load was submitted")
        net.wait_committed(load.ids, timeout_s=60)
        top = max(n.height() for n in net.nodes)
        net.wait_height(top)
        net.assert_same_chain(up_to=top)
        check("catchup" in victim.log_text() or victim.height() >= top, "the restarted validator did not catch up")


def scenario_two_of_four_down_halts_without_forking():
    with network() as net:
        net.start()
        net.wait_height(2)
        down = net.validators[2:4]
        for n in down:
            check(n.stop() == 0, f"{n.name} did not stop cleanly")
        up = [n for n in net.nodes if n.running()]
        heights = {n.name: n.height() for n in up}
        submit_all(net, net.txgen("pays", 10, seqs=net.wallet_seqs()), nodes=up)
        # A quorum needs 3 of 4: watch for a while that nothing closes.
        # (At most the slot already in flight may finish.)
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            for n in up:
                check(n.height() <= heights[n.name] + 1, f"{n.name} closed ledgers without a quorum")
            time.sleep(0.2)
        for n in up:
            check(n.status() is not None, f"{n.name} stopped answering reads")
        net.assert_same_chain(nodes=up)
        down[0].start()
        resumed = max(heights.values()) + 2
        net.wait_height(resumed, nodes=up + [down[0]], timeout_s=60)
        net.assert_same_chain(nodes=up + [down[0]])


def scenario_partition_heals_to_one_chain():
    with network() as net:
        net.start()
        isolated = net.validators[3]
        rest = [n for n in net.nodes if n is not isolated]
        with Load(net, rest) as load:
            net.wait_height(2)
            isolated.signal(signal.SIGSTOP)
            before = max(n.height() for n in rest)
            net.wait_height(before + (30 if FULL else 5), nodes=rest)
            isolated.signal(signal.SIGCONT)
            target = max(n.height() for n in rest)
            net.wait_height(target, nodes=[isolated], timeout_s=60)
        net.wait_committed(load.ids, timeout_s=60)
        top = max(n.height() for n in net.nodes)
        net.wait_height(top)
        net.assert_same_chain(up_to=top)


def scenario_late_watcher_catches_up():
    ledgers = 500 if FULL else 100
    with network(params={"batch_window_ms": 20, "idle_close_ms": 100}) as net:
        net.start(net.validators)
        net.wait_height(ledgers, nodes=net.validators, timeout_s=ledgers * 0.5 + 30)
        watcher = net.watchers[0]
        watcher.start()
        target = min(n.height() for n in net.validators)
        net.wait_height(target, nodes=[watcher], timeout_s=60)
        wait_for(lambda: (watcher.status() or {}).get("synced"), 30, "the watcher to report synced")
        for h in sorted({1, target // 2, target}):
            check(watcher.ledger_hash(h) == net.validators[0].ledger_hash(h), f"watcher differs at ledger {h}")
        check("catchup_done" in watcher.log_text(), "the watcher did not log its catch-up")


def scenario_equivocating_validator_is_reported_and_safety_holds():
    with network(testing={3: {"equivocate": "true"}}) as net:
        net.start()
        honest = [n for n in net.nodes if n.index != 3]
        ids = submit_all(net, net.txgen("pays", 60), nodes=honest)
        net.wait_committed(ids, node=honest[0], timeout_s=90)
        net.wait_height(max(n.height() for n in honest), nodes=honest)
        net.assert_same_chain(nodes=honest)
        wait_for(lambda: any((n.status() or {"stats": {}})["stats"].get("equivocations_seen", 0) > 0 for n in honest),
                 30, "an honest node to report the equivocation")
        check(any("equivocation_detected" in n.log_text() for n in honest), "no equivocation in the honest logs")


def scenario_bad_client_input_is_refused_and_changes_nothing():
    with network(watchers=0) as net:
        net.start()
        node = net.nodes[0]
        before = net.account("alice")
        cases = [
            ("malformed JSON", node.request("POST", "/v1/tx", "{\"tx\": ", "application/json"), 400, "bad_encoding"),
            ("bad hex", node.request("POST", "/v1/tx", "zz11", "text/plain"), 400, "bad_encoding"),
            ("oversized body", node.request("POST", "/v1/tx", "a" * 70000, "text/plain"), 413, "body_too_large"),
            ("garbage msgpack", node.request("POST", "/v1/tx", b"\x93\x01\x02", "application/msgpack"), 400, "malformed"),
        ]
        txgen_cases = [
            ("bad signature", ["--bad-signature"], {}, "bad_signature"),
            ("wrong sequence", [], {"alice": 100}, "bad_seq"),
            ("wrong network", ["--wrong-network"], {}, "bad_signature"),
        ]
        for label, flags, seqs, code in txgen_cases:
            _, hex_ = net.txgen(*flags, "pay", "alice", "bob", "1.00", seqs=seqs)[0]
            cases.append((label, node.submit(hex_), 400, code))
        cases += [
            ("unknown account", node.get("/v1/accounts/" + "n" + "a" * 60), 400, "bad_checksum"),
            ("bad tx hash", node.get("/v1/tx/xyz"), 400, "bad_hash"),
            ("unknown ledger", node.get("/v1/ledgers/999999"), 404, "unknown_ledger"),
            ("unknown endpoint", node.get("/v1/nothing"), 404, "not_found"),
            ("wrong method", node.request("DELETE", "/v1/status"), 405, "method_not_allowed"),
        ]
        for label, (code, body), want_code, want_error in cases:
            check(code == want_code, f"{label}: HTTP {code}, expected {want_code} ({body})")
            check(isinstance(body, dict) and body.get("error", {}).get("code") == want_error,
                  f"{label}: error {body}, expected code {want_error}")
            check(body["error"].get("message"), f"{label}: no message")
        check(node.status() is not None, "the node stopped answering")
        after = net.account("alice")
        check(after["balance"] == before["balance"] and after["seq"] == before["seq"],
              f"bad input changed alice: {before} -> {after}")
        # ...and a good transaction still goes through.
        tx_id, hex_ = net.txgen("pay", "alice", "bob", "1.00")[0]
        check(node.submit(hex_)[0] == 202, "a good transaction was refused after bad input")
        net.wait_committed([tx_id])


def pipelined_submit(node, hexes):
    """Writes every submission on one connection at once (so the node reads
    them in one loop turn) and returns the HTTP statuses, in order."""
    host, port = node.api.split("//")[1].rstrip("/").split(":")
    requests = b"".join(
        b"POST /v1/tx HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s"
        % (len(h), h.encode()) for h in hexes)
    statuses, data = [], b""
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(requests)
        while len(statuses) < len(hexes):
            head_end = data.find(b"\r\n\r\n")
            if head_end < 0:
                chunk = sock.recv(65536)
                check(chunk, f"the node closed the connection after {len(statuses)} answers")
                data += chunk
                continue
            head = data[:head_end].decode()
            length = int(next(l.split(":")[1] for l in head.split("\r\n") if l.lower().startswith("content-length")))
            if len(data) < head_end + 4 + length:
                chunk = sock.recv(65536)
                check(chunk, "the node closed the connection mid-answer")
                data += chunk
                continue
            statuses.append(int(head.split()[1]))
            data = data[head_end + 4 + length:]
    return statuses


def scenario_submissions_of_one_turn_are_flooded_as_one_batch():
    # Ledgers wait for a 5 s batch window, so the burst is still waiting
    # everywhere when the flood arrives: every other validator must admit
    # each transaction from its peers.
    with network(params={"batch_window_ms": 5000, "idle_close_ms": 60000}) as net:
        net.start()
        txs = net.txgen("pays", 60)
        node = net.nodes[0]
        statuses = pipelined_submit(node, [h for _, h in txs])
        check(statuses == [202] * len(txs), f"pipelined submissions answered {statuses}")
        stats = node.status()["stats"]
        check(stats["tx_batches_sent"] >= 1 and stats["txs_batched"] >= 2,
              f"no txs message was flooded: {stats}")
        for other in net.nodes[1:]:
            wait_for(lambda: other.status()["stats"]["txs_from_peers"] >= len(txs), 10,
                     f"{other.name} to admit the batch from its peers")
        net.wait_committed([i for i, _ in txs], timeout_s=60)


SCENARIOS = [
    ("all_transactions_commit_with_identical_hashes", scenario_all_transactions_commit_with_identical_hashes),
    ("killed_validator_catches_up_and_rejoins", scenario_killed_validator_catches_up_and_rejoins),
    ("two_of_four_down_halts_without_forking", scenario_two_of_four_down_halts_without_forking),
    ("partition_heals_to_one_chain", scenario_partition_heals_to_one_chain),
    ("late_watcher_catches_up", scenario_late_watcher_catches_up),
    ("equivocating_validator_is_reported_and_safety_holds", scenario_equivocating_validator_is_reported_and_safety_holds),
    ("bad_client_input_is_refused_and_changes_nothing", scenario_bad_client_input_is_refused_and_changes_nothing),
    ("submissions_of_one_turn_are_flooded_as_one_batch", scenario_submissions_of_one_turn_are_flooded_as_one_batch),
]

if __name__ == "__main__":
    wanted = sys.argv[2:]
    chosen = [(n, f) for n, f in SCENARIOS if not wanted or any(w in n for w in wanted)]
    sys.exit(run_tests(chosen))
