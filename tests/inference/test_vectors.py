"""Gallery vectors as int8 codes (inference/store/vectors.py): close to the floats, and
memory-mapped from the index file instead of read into memory."""

from pathlib import Path

import numpy as np
import pytest

from inference.models.exported import SearchModels
from inference.store.index import FileStamps, index_path, load_index, update_index
from inference.store.vectors import Int8Rows, npz_member_map


@pytest.fixture(scope="module")
def models_dir(tiny_models_dir: Path) -> Path:
    """What this module checks holds for any model: it runs on the tiny one."""
    return tiny_models_dir


def _unit_rows(n: int, dim: int = 1664, seed: int = 0) -> np.ndarray:
    rows = np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_codes_keep_vectors_and_scores_close_to_the_floats():
    vectors = _unit_rows(500)
    codes = Int8Rows.quantize(vectors)
    restored = codes[np.arange(500)]
    cosine = (restored * vectors).sum(1) / np.linalg.norm(restored, axis=1)
    assert cosine.min() > 0.999
    query = _unit_rows(1, seed=1)[0]
    np.testing.assert_allclose(codes @ query, restored @ query, atol=1e-5)
    assert np.abs(codes @ query - vectors @ query).max() < 0.01
    assert codes.codes.nbytes == vectors.nbytes // 4


def test_rows_are_taken_joined_and_read_as_floats():
    vectors = _unit_rows(10, dim=8)
    codes = Int8Rows.quantize(vectors)
    joined = Int8Rows.concatenate([codes.take([7, 2]), Int8Rows.empty(8), codes.take([0])])
    np.testing.assert_array_equal(joined.codes, codes.codes[[7, 2, 0]])
    np.testing.assert_allclose(joined[1], codes[2])  # one row: [D]
    np.testing.assert_allclose(joined[0:2], codes[np.array([7, 2])])
    assert Int8Rows.quantize(np.zeros((2, 8), np.float32))[0:2].max() == 0  # zero rows stay zero


def test_npz_member_is_mapped_in_place_and_compressed_ones_are_refused(tmp_path):
    codes = np.arange(-60, 60, dtype=np.int8).reshape(10, 12)
    plain, packed = tmp_path / "plain.npz", tmp_path / "packed.npz"
    np.savez(plain, meta=np.array("x"), codes=codes)
    np.savez_compressed(packed, codes=codes)
    mapped = npz_member_map(plain, "codes")
    assert isinstance(mapped, np.memmap)
    np.testing.assert_array_equal(mapped, codes)
    with pytest.raises(ValueError, match="compressed"):
        npz_member_map(packed, "codes")


def test_a_loaded_gallery_index_is_memory_mapped_and_its_checksum_holds(models_dir, small_gallery, tmp_path):
    models = SearchModels(models_dir)
    built = update_index(models, small_gallery, tmp_path / "index", progress=False)
    loaded = load_index(index_path(models, small_gallery, tmp_path / "index"), small_gallery, models.model_id)
    assert loaded is not None and isinstance(loaded.vectors.codes, np.memmap)
    assert loaded.vectors.sha256() == built.vectors.sha256()
    np.testing.assert_array_equal(loaded.vectors.codes, built.vectors.codes)
    rows = [4, 1, 4]  # read from the file, one row at a time
    np.testing.assert_array_equal(loaded.vectors[rows], built.vectors[rows])
    np.testing.assert_array_equal(loaded.vectors.take(rows).codes, built.vectors.codes[rows])
    query = built.vectors[0]
    np.testing.assert_allclose(loaded.vectors @ query, built.vectors @ query)
    # the files' stamps come back lazily, as the same (size, mtime_ns) tuples
    assert isinstance(loaded.stamps, FileStamps)
    assert list(loaded.stamps) == [tuple(s) for s in built.stamps]
    assert loaded.stamps[2] == tuple(built.stamps[2]) and loaded.stamps[1:3] == list(
        map(tuple, built.stamps[1:3])
    )
    stamp = (small_gallery / built.names[0]).stat()
    assert loaded.stamps[0] == (stamp.st_size, stamp.st_mtime_ns)
    assert all(isinstance(value, int) for value in loaded.stamps[0])
