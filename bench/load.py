"""Load test of the running app on loopback: N clients search at once for S seconds.

python -m bench.load [--clients 20] [--seconds 60] [--gallery DIR] [--models DIR]

Each client is a gradio_client.Client calling the public /search endpoint in a
loop (a new query each time) and waiting for its answer, as a visitor's browser
does. Prints JSON: requests, failures (with the first error), latency p50/p95.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import numpy as np

from inference.dataset import REPO_ROOT, load_test_set, locate_data_dir
from inference.models import DEFAULT_MODELS_DIR
from inference.policy import is_restricted_text


def _client_loop(url: str, queries: list[str], until: float, offset: int, out: dict, lock: threading.Lock):
    from gradio_client import Client

    try:
        client = Client(url, verbose=False)
    except Exception as error:  # any failure to connect counts as a failed request
        with lock:
            out["failures"].append(f"connect: {error!r}"[:200])
        return
    turn = offset
    while time.monotonic() < until:
        query = queries[turn % len(queries)]
        start = time.perf_counter()
        try:
            items = client.predict(query, api_name="/search")
            ok = isinstance(items, list) and len(items) > 0
            problem = None if ok else f"empty answer for {query!r}"
        except Exception as failure:  # the load test's job is to count these, not stop on them
            problem = f"{query!r}: {failure!r}"[:200]
        with lock:
            out["latencies"].append(time.perf_counter() - start)
            if problem:
                out["failures"].append(problem)
        turn += 1


def run_load(url: str, queries: list[str], clients: int, seconds: float) -> dict:
    """Drive `clients` concurrent clients against the app at `url` for `seconds`."""
    out: dict = {"latencies": [], "failures": []}
    lock = threading.Lock()
    until = time.monotonic() + seconds
    threads = [
        threading.Thread(target=_client_loop, args=(url, queries, until, i * 7, out, lock))
        for i in range(clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    latencies = np.array(out["latencies"]) * 1e3
    return {
        "clients": clients,
        "seconds": seconds,
        "requests": len(latencies),
        "failures": len(out["failures"]),
        "first_failure": out["failures"][0] if out["failures"] else None,
        "p50_ms": float(np.percentile(latencies, 50)) if len(latencies) else None,
        "p95_ms": float(np.percentile(latencies, 95)) if len(latencies) else None,
        "requests_per_s": len(latencies) / seconds,
    }


def start_app(
    gallery: Path, models: Path, uploads: Path, extra: tuple[str, ...] = (), log: Path | None = None
) -> tuple[subprocess.Popen, str]:
    """`python app.py` on a free loopback port; returns (process, url) once it answers.
    Its output goes to `log` (quoted in the error if it does not start)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    command = [sys.executable, "app.py", "--gallery", str(gallery), "--models", str(models)]
    command += ["--uploads", str(uploads), "--port", str(port), *extra]
    with open(log or os.devnull, "w") as output:
        process = subprocess.Popen(command, cwd=REPO_ROOT, stdout=output, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and process.poll() is None:
        try:
            urllib.request.urlopen(url, timeout=2)
            return process, url
        except OSError:
            time.sleep(0.5)
    process.kill()
    tail = log.read_text()[-2000:] if log else ""
    raise RuntimeError(f"app did not start on {url}: {tail}")


def allowed_test_queries(data: Path | None = None) -> list[str]:
    queries = load_test_set(locate_data_dir(data)).queries["query_text"]
    return [q for q in queries if not is_restricted_text(q)]


def load_test(
    clients: int, seconds: float, gallery: Path | None = None, models: Path = DEFAULT_MODELS_DIR
) -> dict:
    """Start the app over `gallery` (default: the test images), load it, stop it."""
    queries = allowed_test_queries()
    gallery = gallery or locate_data_dir() / "test_images"
    with tempfile.TemporaryDirectory() as uploads:
        process, url = start_app(gallery, models, Path(uploads))
        try:
            return run_load(url, queries, clients, seconds)
        finally:
            process.terminate()
            process.wait(timeout=30)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--gallery", type=Path, default=None)
    parser.add_argument("--models", type=Path, default=DEFAULT_MODELS_DIR)
    args = parser.parse_args(argv)
    result = load_test(args.clients, args.seconds, args.gallery, args.models)
    print(json.dumps(result))
    return 0 if result["failures"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
