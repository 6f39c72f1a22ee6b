"""onnxruntime sessions (inference/models/sessions.py): how many threads they run on."""

from __future__ import annotations

import os
from pathlib import Path

import onnx
import pytest
from onnx import TensorProto, helper

from inference.models.sessions import load_session


@pytest.fixture(scope="module")
def models_dir(tiny_models_dir: Path) -> Path:
    """What this module checks holds for any model: it runs on the tiny one."""
    return tiny_models_dir


@pytest.fixture(scope="module")
def identity_model(tmp_path_factory) -> Path:
    """A one-node ONNX file (y = x), written here."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])
    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "identity", [x], [y])
    path = tmp_path_factory.mktemp("onnx") / "identity.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    return path


@pytest.mark.parametrize(
    ("asked", "omp", "threads"),
    [(None, "1", 1), (None, "3", 3), (2, "1", 2), (None, "", 0), (None, "many", 0), (None, "0", 0)],
)
def test_threads_follow_the_argument_then_omp_num_threads(identity_model, monkeypatch, asked, omp, threads):
    """0: onnxruntime's own choice, one thread per core."""
    monkeypatch.setenv("OMP_NUM_THREADS", omp)
    session = load_session(identity_model, asked)
    assert session.get_session_options().intra_op_num_threads == threads


@pytest.mark.parametrize(("omp", "threads"), [("1", 1), ("", None)])
def test_the_engines_models_follow_omp_num_threads(models_dir, monkeypatch, omp, threads):
    """The encoders' sessions and the pool that runs the face nets, as the app and CLI build them."""
    from inference.models.exported import SearchModels

    monkeypatch.setenv("OMP_NUM_THREADS", omp)
    models = SearchModels(models_dir)
    assert models._image_session.get_session_options().intra_op_num_threads == (threads or 0)
    assert models._face_pool._max_workers == (threads or os.cpu_count())
