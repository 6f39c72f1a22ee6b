"""Load test of the running app on loopback: N clients search at once for S seconds.

python -m bench.load [--clients 20] [--seconds 60] [--gallery DIR] [--models DIR]

Each client is a visitor: it calls the public /search endpoint through Gradio's
REST API (join the queue, read the answer's event stream) in a loop, a new query
each time, and fetches the result pictures it has not seen yet. All clients are
tasks in one asyncio loop: light enough that the app, not the load generator,
is what gets measured on the same two cores. Prints JSON: requests, failures
(with the first error), pictures fetched, latency p50/p95.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import httpx
import numpy as np

from bench.cli import BenchError
from inference.data.dataset import load_test_set
from inference.data.download import locate_data_dir
from inference.models.exported import DEFAULT_MODELS_DIR
from inference.paths import PROJECT_ROOT
from inference.policy import is_restricted_text
from webapp.app import SEARCHES_AT_ONCE


async def _answer(client: httpx.AsyncClient, query: str) -> list:
    """One search through Gradio's REST API, as a page does: join, then read the stream."""
    joined = await client.post("/gradio_api/call/search", json={"data": [query, 0]})  # the first page
    joined.raise_for_status()
    event_id = joined.json()["event_id"]
    event = None
    async with client.stream("GET", f"/gradio_api/call/search/{event_id}") as stream:
        async for line in stream.aiter_lines():
            if line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
            elif line.startswith("data:") and event in ("complete", "error"):
                if event == "error":
                    raise RuntimeError(f"server error: {line[5:].strip()[:120]}")
                return json.loads(line[5:])[0]
    raise RuntimeError("stream ended without an answer")


async def _visitor(url: str, queries: list[str], until: float, offset: int, out: dict) -> None:
    """Search in a loop; fetch each result picture this visitor has not seen yet (a
    browser keeps what it fetched), so a search's time is until its page is complete."""
    seen: set[str] = set()
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        turn = offset
        while time.monotonic() < until:
            query = queries[turn % len(queries)]
            start = time.perf_counter()
            try:
                items = await _answer(client, query)
                problem = None if isinstance(items, list) and items else f"empty answer for {query!r}"
                for picture in [item["image"]["url"] for item in items or []]:
                    if picture not in seen:
                        (await client.get(picture)).raise_for_status()
                        seen.add(picture)
                        out["pictures"] += 1
            except Exception as failure:  # the load test's job is to count these, not stop on them
                problem = f"{query!r}: {failure!r}"[:200]
            out["latencies"].append(time.perf_counter() - start)
            if problem:
                out["failures"].append(problem)
            turn += 1


async def _visitors(url: str, queries: list[str], clients: int, seconds: float, out: dict) -> None:
    until = time.monotonic() + seconds
    await asyncio.gather(*(_visitor(url, queries, until, i * 7, out) for i in range(clients)))


def run_load(url: str, queries: list[str], clients: int, seconds: float) -> dict:
    """Drive `clients` concurrent visitors against the app at `url` for `seconds`."""
    out: dict = {"latencies": [], "failures": [], "pictures": 0}
    asyncio.run(_visitors(url, queries, clients, seconds, out))
    latencies = np.array(out["latencies"]) * 1e3
    return {
        "clients": clients,
        "seconds": seconds,
        "requests": len(latencies),
        "failures": len(out["failures"]),
        "first_failure": out["failures"][0] if out["failures"] else None,
        "pictures_fetched": out["pictures"],
        "p50_ms": float(np.percentile(latencies, 50)) if len(latencies) else None,
        "p95_ms": float(np.percentile(latencies, 95)) if len(latencies) else None,
        "requests_per_s": len(latencies) / seconds,
    }


def start_app(
    gallery: Path,
    models: Path,
    uploads: Path,
    extra: tuple[str, ...] = (),
    log: Path | None = None,
    cwd: Path = PROJECT_ROOT,
) -> tuple[subprocess.Popen, str]:
    """`python app.py` on a free loopback port; returns (process, url) once it answers.
    Its output goes to `log` (quoted in the error if it does not start)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    command = [sys.executable, "app.py", "--gallery", str(gallery), "--models", str(models)]
    command += ["--uploads", str(uploads), "--port", str(port), *extra]
    with open(log or os.devnull, "w") as output:
        process = subprocess.Popen(command, cwd=cwd, stdout=output, stderr=subprocess.STDOUT)
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
    raise BenchError(f"app did not start on {url}: {tail}")


def allowed_test_queries(data: Path | None = None) -> list[str]:
    queries = load_test_set(locate_data_dir(data)).queries["query_text"]
    return [q for q in queries if not is_restricted_text(q)]


def load_test(
    clients: int,
    seconds: float,
    gallery: Path | None = None,
    models: Path = DEFAULT_MODELS_DIR,
    concurrency: int = SEARCHES_AT_ONCE,
) -> dict:
    """Start the app over `gallery` (default: the test images) serving `concurrency`
    requests at a time, load it, stop it."""
    queries = allowed_test_queries()
    gallery = gallery or locate_data_dir() / "test_images"
    with tempfile.TemporaryDirectory() as uploads:
        process, url = start_app(gallery, models, Path(uploads), ("--concurrency", str(concurrency)))
        try:
            return {**run_load(url, queries, clients, seconds), "concurrency": concurrency}
        finally:
            process.terminate()
            process.wait(timeout=30)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--gallery", type=Path, default=None)
    parser.add_argument("--models", type=Path, default=DEFAULT_MODELS_DIR)
    parser.add_argument("--concurrency", type=int, default=SEARCHES_AT_ONCE, help="the app's --concurrency")
    args = parser.parse_args(argv)
    result = load_test(args.clients, args.seconds, args.gallery, args.models, args.concurrency)
    print(json.dumps(result))
    return 0 if result["failures"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
