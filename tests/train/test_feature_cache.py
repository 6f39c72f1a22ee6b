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


def test_texts_batched_by_length_come_back_in_their_own_order(tmp_path):
    """Rows follow the texts given, not the length order they were embedded in: each row is
    the text embedded on its own (to float rounding: a batch pads it to another length)."""
    from train.encoders import DEFAULT_TEXT_MODEL, text_model_dir
    from train.features import text_features

    texts = ["a brown dog runs across a wide green field towards a red ball", "snow", "two kids", "a"]
    model_dir = text_model_dir(DEFAULT_TEXT_MODEL)
    together = text_features(texts, model_dir, tmp_path, batch_size=2)
    alone = np.concatenate([text_features([text], model_dir, tmp_path) for text in texts])
    np.testing.assert_allclose(together, alone, atol=1e-5)
    assert text_features([], model_dir, tmp_path).shape == (0, together.shape[1])
