#!/usr/bin/env python3
"""test_operate.py — operating a validator, against a real nanumd process.

What an operator relies on (issue #6), each pinned down by one scenario on a
small local network (tests/system/harness.py):

  1. GET /metrics passes `promtool check metrics` (skipped, saying so, where
     promtool is not installed: Debian package `prometheus`).
  2. /v1/admin/* answer only with the configured bearer token.
  3. The cooperative's validator list, served by a local HTTP server: a good
     list is accepted and reported; a mismatching one is accepted but
     reported as a mismatch; a tampered list, a lower sequence, an expired
     list and an oversized document are each rejected, logged and counted,
     and the node keeps its previous list and keeps closing ledgers.
  4. A list server that is down: retries with growing delays, node unaffected;
     the list's address hints are dialled as peers.
  5. A slot that stalls is logged with the validators that are missing.
  6. Slow clients holding API connections open do not delay other requests,
     and are cut off at the request timeout.
  7. `nanumd info` describes a running node and a stopped one.

    tests/operate/test_operate.py BUILD_DIR [SCENARIO...]
"""

import http.server
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "system"))
from harness import Network, check, wait_for  # noqa: E402

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
FAST = {"batch_window_ms": 20, "idle_close_ms": 300}
TOKEN = "operate-test-token-0123456789"


class Skip(Exception):
    pass


class ListServer:
    """Serves one document at /list.json on 127.0.0.1, a free port, in a thread."""

    def __init__(self):
        self.body = b"{}"
        self.hits = 0
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                server.hits += 1
                body = server.body
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the node hung up on an oversized document, as it should

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}/list.json"

    def close(self):
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None


def operate_network(extra_config=""):
    net = Network(BUILD, validators=1, watchers=0, params=FAST)
    with open(net.nodes[0].config, "a") as f:
        f.write(f"\n[api]\nadmin_token = {TOKEN}\nrequest_timeout_ms = 500\n" + extra_config)
    return net


def metrics(node):
    with urllib.request.urlopen(node.api + "/metrics", timeout=5) as resp:
        check(resp.headers.get("Content-Type", "").startswith("text/plain; version=0.0.4"),
              f"/metrics content type: {resp.headers.get('Content-Type')}")
        return resp.read().decode()


def metric(text, name):
    """The value of the sample whose name and labels are exactly `name`."""
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    return None


def admin_get(node, path, token):
    req = urllib.request.Request(node.api + path)
    if token is not None:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


# --- 1. metrics --------------------------------------------------------------------

def metrics_pass_promtool_check():
    promtool = shutil.which("promtool")
    if promtool is None:
        raise Skip("promtool not installed (Debian package 'prometheus'; scripts/setup.sh installs it)")
    net = operate_network()
    try:
        net.start()
        node = net.nodes[0]
        net.wait_height(2, timeout_s=20)
        text = metrics(node)
        run = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True)
        check(run.returncode == 0, f"promtool check metrics failed: {run.stdout} {run.stderr}")
        for name in ("nanum_ledger_height", "nanum_ledger_age_seconds", "nanum_ledger_close_latency_seconds_count",
                     'nanum_consensus_phase_seconds_count{phase="externalized"}', 'nanum_transactions_total{result="ok"}',
                     "nanum_mempool_bytes", 'nanum_peers{direction="inbound"}', "nanum_peer_sent_bytes_total",
                     "nanum_catchup_remaining_ledgers", "nanum_quorum_intersection",
                     "nanum_validator_list_configured", "nanum_store_map_size_bytes", "nanum_store_map_used_bytes"):
            check(metric(text, name) is not None, f"metric {name} missing from /metrics")
        check(metric(text, "nanum_ledger_height") >= 2, f"height {metric(text, 'nanum_ledger_height')}, expected >= 2")
        check(metric(text, "nanum_quorum_intersection") == 1,
              f"quorum intersection {metric(text, 'nanum_quorum_intersection')}, expected 1")
        check(metric(text, "nanum_ledger_close_latency_seconds_count") >= 1, "no close latency observed")
    finally:
        net.close()


# --- 2. admin endpoints ------------------------------------------------------------------

def admin_endpoints_require_the_bearer_token():
    net = operate_network()
    try:
        net.start()
        node = net.nodes[0]
        for token, expected in ((None, 401), ("wrong-token-wrong-token", 401), (TOKEN + "x", 401), (TOKEN, 200)):
            code, body = admin_get(node, "/v1/admin/peers", token)
            check(code == expected, f"/v1/admin/peers with token {token!r}: {code} {body}, expected {expected}")
        code, body = admin_get(node, "/v1/admin/peers", TOKEN)
        check(body["count"] == 0 and body["peers"] == [], f"a lone validator has no peers: {body}")
        code, body = admin_get(node, "/v1/admin/validator-list", TOKEN)
        check(code == 200 and body == {"configured": False}, f"validator-list status: {code} {body}")
        check(metric(metrics(node), "nanum_ledger_height") is not None, "/metrics must answer without a token")
    finally:
        net.close()


# --- 3, 4. validator list ---------------------------------------------------------------

class Publisher:
    """Signs lists with a fresh publisher key through `nanumd validator-list sign`."""

    def __init__(self, net):
        self.net = net
        self.key = os.path.join(net.dir, "publisher.key")
        out = subprocess.run([net.nanumd, "keygen", "--out", self.key], check=True, capture_output=True, text=True)
        self.address = out.stdout.strip()
        with open(os.path.join(net.dir, "genesis.json")) as f:
            self.validators = json.load(f)["validators"]

    def sign(self, sequence, validators=None, valid_from=None, expires="2100-01-01T00:00:00Z"):
        path = os.path.join(self.net.dir, f"validators-{sequence}.json")
        with open(path, "w") as f:
            json.dump(validators if validators is not None else self.validators, f)
        cmd = [self.net.nanumd, "validator-list", "sign", "--key", self.key, "--genesis",
               os.path.join(self.net.dir, "genesis.json"), "--sequence", str(sequence), "--expires", str(expires),
               "--validators", path]
        if valid_from is not None:
            cmd += ["--valid-from", str(valid_from)]
        return subprocess.run(cmd, check=True, capture_output=True).stdout

    def config(self, url, refresh_s):
        return f"\n[validator_list]\npublisher = {self.address}\nurl = {url}\nrefresh_s = {refresh_s}\n"


def wait_outcome(node, outcome, count, timeout_s=10):
    name = f'nanum_validator_list_fetches_total{{outcome="{outcome}"}}'
    wait_for(lambda: (metric(metrics(node), name) or 0) >= count, timeout_s, f"{name} >= {count}")


def validator_list_good_is_accepted_bad_ones_rejected():
    net = operate_network()
    server = ListServer()
    try:
        pub = Publisher(net)
        stranger = {"node_key": pub.address, "org": pub.validators[0]["org"], "address": ""}
        server.body = pub.sign(1, validators=pub.validators + [stranger])
        with open(net.nodes[0].config, "a") as f:
            f.write(pub.config(server.url, 1))
        net.start()
        node = net.nodes[0]
        # A list that names a validator the ledger does not have: accepted, loudly.
        wait_outcome(node, "accepted", 1)
        text = metrics(node)
        check(metric(text, 'nanum_validator_list_mismatch_validators{side="list_only"}') == 1,
              "a list with an extra validator is reported as a mismatch")
        wait_for(lambda: "event=validator_list_mismatch" in node.log_text(), 5, "the mismatch log line")
        # The matching list: accepted, no mismatch.
        server.body = pub.sign(2)
        wait_for(lambda: metric(metrics(node), "nanum_validator_list_sequence") == 2, 10, "sequence 2 held")
        check(metric(metrics(node), 'nanum_validator_list_mismatch_validators{side="list_only"}') == 0,
              "the matching list still reported as a mismatch")
        # Tampered (the sequence changed after signing), older, expired, too large: each refused.
        good3 = json.loads(pub.sign(3))
        good3["sequence"] = 4
        for body, outcome in ((json.dumps(good3).encode(), "bad_signature"), (pub.sign(1), "old_sequence"),
                              (pub.sign(5, valid_from=1000, expires=2000), "expired"),
                              (b" " * (600 << 10), "too_large")):
            server.body = body
            wait_outcome(node, outcome, 1)
            wait_for(lambda: f"event=validator_list_rejected reason={outcome}" in node.log_text(), 5,
                     f"the {outcome} log line")
            code, status = admin_get(node, "/v1/admin/validator-list", TOKEN)
            check(status["sequence"] == 2 and not status["expired"],
                  f"after {outcome}, the node must keep list 2: {status}")
        height = node.height()
        net.wait_height(height + 2, timeout_s=10)
        text = metrics(node)
        check(metric(text, "nanum_validator_list_consecutive_failures") >= 1, "failures not counted")
        # The last good list was cached on disk.
        cache = os.path.join(os.path.dirname(node.config), "data", "validator-list.json")
        with open(cache) as f:
            check(json.load(f)["sequence"] == 2, "the cache holds the last good list")
    finally:
        server.close()
        net.close()


def validator_list_server_down_backs_off():
    net = operate_network()
    server = ListServer()
    try:
        pub = Publisher(net)
        server.body = pub.sign(1)
        with open(net.nodes[0].config, "a") as f:
            f.write(pub.config(server.url, 60))
        net.start()
        node = net.nodes[0]
        wait_outcome(node, "accepted", 1)
        server.close()
        # Node restarted: the cached list is loaded, the server is down.
        check(node.stop() == 0, "the node did not stop cleanly")
        node.start()
        wait_outcome(node, "fetch_failed", 2, timeout_s=10)
        log = node.log_text()
        check("event=validator_list_cache_loaded" in log, "the cached list was not loaded at start")
        delays = [int(line.split("in_ms=")[1].split()[0]) for line in log.splitlines()
                  if "event=validator_list_retry" in line]
        check(len(delays) >= 2 and delays[1] > delays[0], f"retry delays must grow: {delays}")
        code, status = admin_get(node, "/v1/admin/validator-list", TOKEN)
        check(status["sequence"] == 1 and status["have_list"], f"the cached list is still held: {status}")
        height = node.height()
        net.wait_height(height + 2, timeout_s=10)
    finally:
        server.close()
        net.close()


def validator_list_address_hints_become_peers():
    net = Network(BUILD, validators=1, watchers=1, params=FAST)
    server = ListServer()
    try:
        pub = Publisher(net)
        server.body = pub.sign(1)
        watcher = net.nodes[1]
        with open(watcher.config) as f:
            lines = [line for line in f if not line.startswith("peers")]
        with open(watcher.config, "w") as f:
            f.writelines(lines)
            f.write(pub.config(server.url, 60))
        net.start()
        # The watcher knows no peer but the list's hint: it must find the validator and catch up.
        wait_for(lambda: "event=validator_list_peer_added" in watcher.log_text(), 10, "the hint dialled")
        net.wait_height(net.nodes[0].height() + 1, nodes=[watcher], timeout_s=20)
    finally:
        server.close()
        net.close()


# --- consensus logs ------------------------------------------------------------------------

def stalled_slot_names_the_missing_validator():
    net = Network(BUILD, validators=3, watchers=0, params=FAST)
    try:
        net.start()
        net.wait_height(2, timeout_s=20)
        missing = net.nodes[2]
        missing.stop()
        node = net.nodes[0]

        def stall_line():
            for line in node.log_text().splitlines():
                if ("event=consensus_stalled" in line or "event=consensus_ballot_timeout" in line) and \
                        missing.public[:12] in line.split("disconnected_validators=")[-1]:
                    return line
            return None
        line = wait_for(stall_line, 15, "a consensus_stalled line naming the stopped validator")
        check("slot=" in line and "disconnected=1 " in line, f"the line: {line}")
        check(net.nodes[1].public[:12] not in line, f"a validator still up is named: {line}")
    finally:
        net.close()


# --- 5. slow clients ---------------------------------------------------------------------

def slow_clients_do_not_delay_others():
    net = operate_network()
    slow = []
    try:
        net.start()
        node = net.nodes[0]
        host, port = node.api.split("//")[1].split(":")
        for _ in range(20):
            s = socket.create_connection((host, int(port)), timeout=5)
            s.sendall(b"GET /v1/status HTTP/1.1\r\nHost: x\r\nX-Slow: ")  # never finished
            slow.append(s)
        started = time.monotonic()
        code, _ = node.get("/v1/status")
        elapsed = time.monotonic() - started
        check(code == 200 and elapsed < 0.5, f"a request beside 20 slow clients: {code} in {elapsed:.3f} s")
        # Each slow client is cut off at the request timeout (500 ms here).
        deadline = time.monotonic() + 5
        for s in slow:
            s.settimeout(max(0.1, deadline - time.monotonic()))
            data = s.recv(4096)
            check(data == b"" or b"408" in data.split(b"\r\n")[0], f"a slow client got {data[:60]!r}")
        check(time.monotonic() < deadline, "slow clients were not cut off in time")
        check((metric(metrics(node), "nanum_api_timeouts_total") or 0) >= 20, "timeouts not counted")
    finally:
        for s in slow:
            s.close()
        net.close()


# --- 6. nanumd info ----------------------------------------------------------------------

def info_describes_running_and_stopped_node():
    net = operate_network()
    try:
        net.start()
        node = net.nodes[0]
        net.wait_height(1, timeout_s=20)
        out = subprocess.run([net.nanumd, "info", "--config", node.config], capture_output=True, text=True)
        check(out.returncode == 0, f"info on a running node: exit {out.returncode}: {out.stderr}")
        for text in (node.public, "state:        running", "quorum:       healthy", "network id:   "):
            check(text in out.stdout, f"info must print {text!r}: {out.stdout}")
        check(node.stop() == 0, "the node did not stop cleanly")
        out = subprocess.run([net.nanumd, "info", "--config", node.config], capture_output=True, text=True)
        check(out.returncode == 0 and "state:        stopped" in out.stdout and "height:" in out.stdout,
              f"info on a stopped node: {out.returncode} {out.stdout} {out.stderr}")
    finally:
        net.close()


SCENARIOS = [
    ("metrics_pass_promtool_check", metrics_pass_promtool_check),
    ("admin_endpoints_require_the_bearer_token", admin_endpoints_require_the_bearer_token),
    ("validator_list_good_is_accepted_bad_ones_rejected", validator_list_good_is_accepted_bad_ones_rejected),
    ("validator_list_server_down_backs_off", validator_list_server_down_backs_off),
    ("validator_list_address_hints_become_peers", validator_list_address_hints_become_peers),
    ("stalled_slot_names_the_missing_validator", stalled_slot_names_the_missing_validator),
    ("slow_clients_do_not_delay_others", slow_clients_do_not_delay_others),
    ("info_describes_running_and_stopped_node", info_describes_running_and_stopped_node),
]


def main():
    wanted = sys.argv[2:]
    chosen = [(n, f) for n, f in SCENARIOS if not wanted or any(w in n for w in wanted)]
    failures = 0
    print(f"1..{len(chosen)}", flush=True)
    for i, (name, fn) in enumerate(chosen, 1):
        started = time.monotonic()
        try:
            fn()
            print(f"ok {i} - {name} ({time.monotonic() - started:.1f} s)", flush=True)
        except Skip as e:
            print(f"ok {i} - {name} # SKIP {e}", flush=True)
        except Exception as e:  # a failed check or an unexpected error: both fail the test
            failures += 1
            print(f"not ok {i} - {name}: {type(e).__name__}: {' | '.join(str(e).splitlines())}", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
