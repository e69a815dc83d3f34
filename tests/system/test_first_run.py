#!/usr/bin/env python3
"""test_first_run.py — the README's two commands, as a newcomer runs them.

  1. `bash scripts/run.sh --once` tells the whole sharing story on a real
     four-validator network and ends with exactly the expected balances.
  2. Without --once it keeps the network up; Ctrl-C (SIGINT) stops every
     nanumd it started and frees every port it listened on.
  3. The README's two commands are the ones .ci/run and these tests use.

    tests/system/test_first_run.py SOURCE_DIR BUILD_DIR
"""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import check, run_tests, wait_for  # noqa: E402

SOURCE = os.path.abspath(sys.argv[1])
BUILD = os.path.abspath(sys.argv[2])
RUN = ["bash", "scripts/run.sh"]

# The story's arithmetic (scripts/run.sh): fees of 0.01 per transaction,
# 5% then 3% to the commons fund, a 10.00 damage claim.
EXPECTED = {"operator": "50071.11", "alice": "975.96", "bob": "969.94", "carol": "979.98", "commons": "3.03"}


def env_for(demo_dir):
    env = dict(os.environ, NANUM_BUILD_DIR=BUILD, NANUM_DEMO_DIR=demo_dir)
    env.pop("NANUM_HOME", None)
    return env


def scenario_run_once_tells_the_story_with_exact_balances():
    demo = tempfile.mkdtemp(prefix="nanum-run-test-")
    try:
        out = subprocess.run(RUN + ["--once"], cwd=SOURCE, env=env_for(demo), capture_output=True, text=True,
                             timeout=300)
        check(out.returncode == 0, f"run.sh --once exited {out.returncode}: {out.stderr[-2000:]}")
        for words in ["lists what it shares", "booking_overlap", "went back to Bob", "to the commons fund",
                      "rate each other", "enacted at ledger", "Balances now"]:
            check(words in out.stdout, f"the story did not say '{words}'")
        with open(os.path.join(demo, "summary.json")) as f:
            summary = json.load(f)
        check(summary == EXPECTED, f"final balances {summary}, expected {EXPECTED}")
        leftover = subprocess.run(["pgrep", "-f", f"{demo}/node"], capture_output=True, text=True).stdout
        check(not leftover.strip(), f"nanumd processes left after --once: {leftover}")
    finally:
        subprocess.run(["rm", "-rf", demo])


def scenario_ctrl_c_stops_every_process_and_port():
    demo = tempfile.mkdtemp(prefix="nanum-run-test-")
    proc = subprocess.Popen(RUN, cwd=SOURCE, env=env_for(demo), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)
    try:
        lines = []
        deadline = time.monotonic() + 300
        for line in proc.stdout:
            lines.append(line)
            if "Press Ctrl-C" in line or time.monotonic() > deadline:
                break
        check(any("Press Ctrl-C" in l for l in lines), "run.sh did not reach the waiting state: " + "".join(lines[-5:]))
        with open(os.path.join(demo, "testnet.json")) as f:
            ports = [int(v["p2p"].rsplit(":", 1)[1]) for v in json.load(f)["validators"]]
        ports += [p + 1 for p in ports]
        os.killpg(proc.pid, signal.SIGINT)   # what a terminal's Ctrl-C does
        proc.wait(timeout=60)
        left = subprocess.run(["pgrep", "-f", f"{demo}/node"], capture_output=True, text=True).stdout
        check(not left.strip(), f"nanumd processes left after Ctrl-C: {left}")
        for port in ports:
            s = socket.socket()
            try:
                busy = s.connect_ex(("127.0.0.1", port)) == 0
            finally:
                s.close()
            check(not busy, f"port {port} still listening after Ctrl-C")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        subprocess.run(["pkill", "-KILL", "-f", f"{demo}/node"])
        subprocess.run(["rm", "-rf", demo])


def scenario_readme_commands_are_the_ones_ci_and_tests_use():
    with open(os.path.join(SOURCE, "README.md")) as f:
        readme = f.read()
    block = re.search(r"## The two commands.*?```sh\n(.*?)```", readme, re.S)
    check(block is not None, "README has no 'The two commands' code block")
    commands = [l.strip() for l in block.group(1).splitlines() if l.strip() and not l.strip().startswith("#")]
    check(commands == ["bash scripts/run.sh", "bash scripts/test.sh"], f"README's commands are {commands}")
    with open(os.path.join(SOURCE, ".ci", "run")) as f:
        ci = f.read()
    check("run bash scripts/test.sh\n" in ci, ".ci/run does not call the README's test command")
    check(RUN == commands[0].split(), "this test does not run the README's run command")


SCENARIOS = [
    ("run_once_tells_the_story_with_exact_balances", scenario_run_once_tells_the_story_with_exact_balances),
    ("ctrl_c_stops_every_process_and_port", scenario_ctrl_c_stops_every_process_and_port),
    ("readme_commands_are_the_ones_ci_and_tests_use", scenario_readme_commands_are_the_ones_ci_and_tests_use),
]

if __name__ == "__main__":
    sys.exit(run_tests(SCENARIOS))
