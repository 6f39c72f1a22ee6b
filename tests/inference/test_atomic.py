"""Atomic writes: the old file or the new one, never half of one, and no litter."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from inference.atomic import atomic_write, remove_stale_temp_files


def test_a_write_replaces_the_file_and_leaves_nothing_else(tmp_path):
    target = tmp_path / "sub" / "index.npz"
    for content in (b"first", b"second"):
        with atomic_write(target) as handle:
            handle.write(content)
        assert target.read_bytes() == content
    assert os.listdir(target.parent) == ["index.npz"]


def test_a_failed_write_keeps_the_old_file(tmp_path):
    target = tmp_path / "index.npz"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_write(target) as handle:
        handle.write(b"half of the new")
        raise RuntimeError("disk full")
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["index.npz"]


def test_a_dead_writers_temp_file_is_removed_a_live_ones_kept(tmp_path):
    target = tmp_path / "index.npz"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True)
    leftover = tmp_path / f".index.npz.tmp-{int(dead.stdout)}-x1y2"
    in_progress = tmp_path / f".index.npz.tmp-{os.getpid()}-a3b4"
    other = tmp_path / f".other.npz.tmp-{int(dead.stdout)}-c5d6"
    for path in (leftover, in_progress, other):
        path.write_bytes(b"partial")
    assert remove_stale_temp_files(target) == [leftover]
    assert in_progress.exists() and other.exists() and not leftover.exists()


def test_the_temp_file_is_hidden_from_a_gallery_scan(tmp_path):
    from inference.models.preprocess import IMAGE_SUFFIXES

    target = tmp_path / "photo.jpg"
    with atomic_write(target) as handle:
        (temp,) = [p for p in tmp_path.iterdir()]
        assert temp.name.startswith(".") and temp.suffix.lower() not in IMAGE_SUFFIXES
        handle.write(b"jpeg bytes")
