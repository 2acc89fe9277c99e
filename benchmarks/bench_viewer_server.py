"""Viewer server under load: request bursts and idle connections (facerig.viewer.server).

    python benchmarks/bench_viewer_server.py [--src DIR ...] [--out benchmarks/results/viewer_server.json]

For each ``--src`` (a ``src`` folder holding the ``facerig`` package to measure; default this
checkout's), in a fresh process on 127.0.0.1 with the small synthetic egg rig (tests/fixtures):

- ``keepalive_s``: 1,000 GET /rig.json from 5 client threads, each on one kept-alive connection;
- ``fresh_s``: 1,000 GET /rig.json from 5 client threads, a new connection each;
- ``idle300``: with 300 connections open and silent, the threads the process runs and the
  seconds one more client waits for /rig.json.

Writes JSON with the date, machine and each source's numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from _meta import run_meta

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import http.client, json, socket, sys, threading, time
sys.path.insert(0, sys.argv[1])
from fixtures.egg import egg_rig
from facerig.viewer.server import ViewerServer

rig = egg_rig()
out = {}
with ViewerServer(rig, port=0).start() as srv:
    def burst(keep):
        def client():
            k = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
            for _ in range(200):
                c = k if keep else http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
                c.request("GET", "/rig.json")
                r = c.getresponse()
                r.read()
                assert r.status == 200
                if c is not k:
                    c.close()
            k.close()
        ts = [threading.Thread(target=client) for _ in range(5)]
        t0 = time.perf_counter()
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        return round(time.perf_counter() - t0, 3)

    out["keepalive_s"] = burst(True)
    out["fresh_s"] = burst(False)
    socks = [socket.create_connection(("127.0.0.1", srv.port), timeout=30) for _ in range(300)]
    time.sleep(1.5)
    threads = threading.active_count()
    t0 = time.perf_counter()
    c = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
    c.request("GET", "/rig.json")
    status = c.getresponse().status
    out["idle300"] = {"threads": threads, "request_s": round(time.perf_counter() - t0, 3), "status": status}
    c.close()
    for s in socks:
        s.close()
print(json.dumps(out))
"""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--src", action="append", default=None, help="src folder of the facerig to measure (repeatable)")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "viewer_server.json"))
    args = ap.parse_args(argv)
    srcs = args.src or [str(ROOT / "src")]
    runs = []
    for src in srcs:
        env = {**os.environ, "PYTHONPATH": src}
        r = subprocess.run(
            [sys.executable, "-c", CHILD, str(ROOT / "tests")],
            check=False,
            env=env,
            capture_output=True,
            text=True,
            timeout=170,
        )
        if r.returncode != 0:
            print(r.stderr, file=sys.stderr)
            return 1
        res = json.loads(r.stdout.strip().splitlines()[-1])
        git = subprocess.run(
            ["git", "-C", src, "rev-parse", "--short", "HEAD"], check=False, capture_output=True, text=True
        )
        runs.append({"src": src, "commit": git.stdout.strip() or None, **res})
        print(f"{src}: {res}")
    result = {
        **run_meta(),
        "requests_per_burst": 1000,
        "client_threads": 5,
        "runs": runs,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
