"""The training feature cache (train/features.py) shared by processes side by side."""

from __future__ import annotations

import json
import multiprocessing
import os
import time
from pathlib import Path

import numpy as np

from train.features import _load_or_compute


def _ask_for_entry(cache: Path, log: Path, out: Path) -> None:
    """One process: the entry "shared" of `cache`, computing it (slowly, logged) if missing."""

    def compute() -> dict[str, np.ndarray]:
        with log.open("a") as handle:
            handle.write(f"{os.getpid()}\n")
        time.sleep(1.0)  # long enough for the other process to ask meanwhile
        return {"rows": np.arange(4.0)}

    out.write_text(json.dumps(_load_or_compute(cache, "shared", compute)["rows"].tolist()))


def test_two_processes_asking_for_one_entry_compute_it_once(tmp_path):
    cache, log = tmp_path / "cache", tmp_path / "computed.log"
    context = multiprocessing.get_context("fork")
    workers = [
        context.Process(target=_ask_for_entry, args=(cache, log, tmp_path / f"out{i}.json")) for i in range(2)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)
    assert [worker.exitcode for worker in workers] == [0, 0]
    answers = [json.loads((tmp_path / f"out{i}.json").read_text()) for i in range(2)]
    assert answers == [[0.0, 1.0, 2.0, 3.0]] * 2
    assert len(log.read_text().splitlines()) == 1  # the second waited for the first's file
    assert [path.name for path in cache.glob("*.npz")] == ["shared.npz"]
