"""harness.py — runs real nanumd processes on 127.0.0.1 for the system tests.

A Network is a `nanumd testnet` directory in a fresh temporary folder, on
ports that were free when it was made, with its nodes started as separate
processes.  Every process it starts is stopped by close(), which the tests
call in a finally block (and atexit as a last resort), whatever happens.

Waiting is always for a condition with a deadline (wait_for), never a bare
sleep.  Logs of every node stay in the network's folder; on failure, the
last lines of each are printed.
"""

import atexit
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

_live_networks = []


def _close_all():
    for net in list(_live_networks):
        net.close(keep=False)


atexit.register(_close_all)


class TestFailure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise TestFailure(message)


def wait_for(condition, timeout_s, what, interval_s=0.05):
    """Polls condition() until it returns a true value; fails after timeout_s."""
    deadline = time.monotonic() + timeout_s
    last = None
    while time.monotonic() < deadline:
        last = condition()
        if last:
            return last
        time.sleep(interval_s)
    raise TestFailure(f"timed out after {timeout_s:.0f} s waiting for {what} (last: {last!r})")


def _ports_free(ports):
    for port in ports:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        finally:
            s.close()
    return True


def _free_base_port(nodes):
    # Below the kernel's ephemeral range (32768 and up), so an outgoing
    # connection's local port cannot take one of ours between check and bind.
    for _ in range(200):
        base = random.randrange(10000, 32000 - 2 * nodes - 4, 2)
        if _ports_free([base + 2 * k + j for k in range(1, nodes + 1) for j in (0, 1)]):
            return base
    raise TestFailure("no free port range on 127.0.0.1")


class Node:
    def __init__(self, net, index, info, validator):
        self.net = net
        self.index = index
        self.name = info["name"]
        self.api = info["api"]
        self.public = info["public"]
        self.config = os.path.join(net.dir, info.get("config", f"{self.name}/nanumd.ini"))
        self.log_path = os.path.join(net.dir, f"{self.name}.log")
        self.validator = validator
        self.proc = None

    def start(self):
        log = open(self.log_path, "a")
        self.proc = subprocess.Popen([self.net.nanumd, "--config", self.config],
                                     stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        log.close()
        wait_for(lambda: self.status() is not None or self.proc.poll() is not None, 20,
                 f"{self.name} API to answer")
        check(self.proc.poll() is None, f"{self.name} exited at start: {self.tail()}")

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def signal(self, signum):
        if self.running():
            self.proc.send_signal(signum)

    def stop(self, timeout_s=15):
        """SIGTERM, then SIGKILL if it does not stop in time; returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.terminate()
            try:
                self.proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        code = self.proc.returncode
        self.proc = None
        return code

    def kill9(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def request(self, method, path, body=None, content_type="application/json", timeout_s=5):
        """Returns (status, parsed JSON or None); status 0 if unreachable."""
        data = body.encode() if isinstance(body, str) else body
        req = urllib.request.Request(self.api + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(req, timeout=timeout_s) as resp:
                return resp.status, json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                return e.code, json.loads(raw)
            except ValueError:
                return e.code, None
        except (urllib.error.URLError, ConnectionError, TimeoutError, socket.timeout):
            return 0, None

    def get(self, path):
        return self.request("GET", path)

    def status(self):
        code, body = self.get("/v1/status")
        return body if code == 200 else None

    def height(self):
        s = self.status()
        return s["height"] if s else -1

    def ledger_hash(self, height):
        code, body = self.get(f"/v1/ledgers/{height}")
        return body["hash"] if code == 200 else None

    def submit(self, envelope_hex):
        return self.request("POST", "/v1/tx", json.dumps({"tx": envelope_hex}))

    def tail(self, lines=15):
        try:
            with open(self.log_path) as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return "(no log)"

    def log_text(self):
        try:
            with open(self.log_path) as f:
                return f.read()
        except OSError:
            return ""


class Network:
    def __init__(self, build_dir, validators=4, watchers=1, params=None, testing=None):
        self.build_dir = build_dir
        self.nanumd = os.path.join(build_dir, "node", "nanumd")
        self.txgen_path = os.path.join(build_dir, "tests", "system", "txgen")
        self.dir = tempfile.mkdtemp(prefix="nanum-system-")
        _live_networks.append(self)
        base = _free_base_port(validators + watchers)
        subprocess.run([self.nanumd, "testnet", "--validators", str(validators), "--watchers", str(watchers),
                        "--dir", self.dir, "--base-port", str(base), "--force"],
                       check=True, stdout=subprocess.DEVNULL)
        if params:
            self._set_params(params)
        with open(os.path.join(self.dir, "testnet.json")) as f:
            self.info = json.load(f)
        self.nodes = [Node(self, i, v, True) for i, v in enumerate(self.info["validators"])]
        self.nodes += [Node(self, len(self.nodes) + i, w, False) for i, w in enumerate(self.info["watchers"])]
        for index, options in (testing or {}).items():
            with open(self.nodes[index].config, "a") as f:
                f.write("\n[testing]\n" + "".join(f"{k} = {v}\n" for k, v in options.items()))
        self.wallets = {w["name"]: w for w in self.info["wallets"]}

    def _set_params(self, params):
        path = os.path.join(self.dir, "genesis.json")
        with open(path) as f:
            genesis = json.load(f)
        genesis.setdefault("params", {}).update(params)
        with open(path, "w") as f:
            json.dump(genesis, f, indent=1)
        network_id = subprocess.run([self.nanumd, "genesis-id", path], check=True,
                                    capture_output=True, text=True).stdout.strip()
        meta = os.path.join(self.dir, "testnet.json")
        with open(meta) as f:
            info = json.load(f)
        info["network_id"] = network_id
        with open(meta, "w") as f:
            json.dump(info, f, indent=1)

    @property
    def validators(self):
        return [n for n in self.nodes if n.validator]

    @property
    def watchers(self):
        return [n for n in self.nodes if not n.validator]

    def start(self, nodes=None):
        for n in nodes if nodes is not None else self.nodes:
            n.start()

    def txgen(self, *args, seqs=None):
        """Runs txgen: options (--bad-signature...) first, then the command."""
        cmd = [self.txgen_path, "--dir", self.dir]
        for name, seq in (seqs or {}).items():
            cmd += ["--seq", f"{name}={seq}"]
        out = subprocess.run(cmd + [str(a) for a in args], check=True, capture_output=True, text=True).stdout
        return [tuple(line.split()) for line in out.splitlines() if line]

    def account(self, name, node=None):
        node = node or self.nodes[0]
        code, body = node.get(f"/v1/accounts/{self.wallets[name]['address']}")
        return body if code == 200 else None

    def wallet_seqs(self, node=None):
        seqs = {}
        for name in self.wallets:
            a = self.account(name, node)
            seqs[name] = a["seq"] if a else 0
        return seqs

    def running_nodes(self):
        return [n for n in self.nodes if n.running()]

    def wait_height(self, height, nodes=None, timeout_s=60):
        nodes = nodes if nodes is not None else self.running_nodes()
        wait_for(lambda: all(n.height() >= height for n in nodes), timeout_s,
                 f"height {height} on {', '.join(n.name for n in nodes)}")

    def assert_same_chain(self, nodes=None, up_to=None):
        """Every node reports the same ledger hash at every height up to up_to."""
        nodes = nodes if nodes is not None else self.running_nodes()
        top = up_to if up_to is not None else min(n.height() for n in nodes)
        for h in range(1, top + 1):
            hashes = {n.name: n.ledger_hash(h) for n in nodes}
            check(len(set(hashes.values())) == 1 and None not in hashes.values(),
                  f"ledger {h} differs: {hashes}")
        return top

    def wait_committed(self, ids, node=None, timeout_s=60):
        node = node or self.nodes[0]
        pending = set(ids)

        def all_committed():
            for tx_id in list(pending):
                code, body = node.get(f"/v1/tx/{tx_id}")
                if code == 200 and body["status"] in ("committed", "failed"):
                    pending.discard(tx_id)
            return not pending
        wait_for(all_committed, timeout_s, f"{len(pending)} transactions to be committed", interval_s=0.2)

    def close(self, keep=False):
        """Stops every node; removes the folder unless keep (then says where it is)."""
        for n in self.nodes:
            n.stop(timeout_s=5)
        if self in _live_networks:
            _live_networks.remove(self)
        if keep:
            print(f"# logs and data kept in {self.dir}")
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, kind, value, traceback):
        """Stops every node; on failure prints the logs' tails and keeps the folder."""
        if kind is not None:
            self.dump_logs()
        self.close(keep=kind is not None)
        return False

    def dump_logs(self):
        for n in self.nodes:
            if not os.path.exists(n.log_path):
                continue
            print(f"# --- last lines of {n.name} ({n.log_path}) ---")
            for line in n.tail().splitlines():
                print("# " + line)


def run_tests(tests):
    """Runs (name, function) pairs; prints TAP; returns the exit code."""
    failures = 0
    print(f"1..{len(tests)}", flush=True)
    for i, (name, fn) in enumerate(tests, 1):
        started = time.monotonic()
        try:
            fn()
            print(f"ok {i} - {name} ({time.monotonic() - started:.1f} s)", flush=True)
        except Exception as e:  # a failed check or an unexpected error: both fail the test
            failures += 1
            message = " | ".join(str(e).splitlines())  # TAP: one line
            print(f"not ok {i} - {name}: {type(e).__name__}: {message}", flush=True)
    return 1 if failures else 0
