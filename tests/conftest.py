"""Shared fixtures: the real data set (shared copy) and small slices of it."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from inference.data.dataset import DataError, find_data_dir

#: Fixtures that train, export or start a server: a test that uses one, directly or through
#: another fixture, is marked `slow` (`./run.sh test -m "not slow"` runs the rest).
SLOW_FIXTURES = frozenset({"trained_run", "tiny", "server"})  # "tiny": test_openclip's backbones


def pytest_configure(config: pytest.Config) -> None:
    from train.allocator import keep_freed_memory

    keep_freed_memory()  # the tests that run PyTorch in this process, as train and export do
    if os.environ.get("PYTEST_XDIST_WORKER"):
        # a worker per core: one math thread each (PyTorch, onnxruntime, and the training,
        # export and app processes they start), not a pool per core spinning against the others'
        os.environ.setdefault("OMP_NUM_THREADS", "1")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
    items[:] = _training_first(items)


def _training_first(items: list[pytest.Item]) -> list[pytest.Item]:
    """The items module by module: first one module that needs the training run, then the
    modules that need no model, then the others. Under pytest-xdist (--dist loadscope
    --no-loadscope-reorder hands out whole modules in this order) the worker given the
    first module trains (minutes on a fresh clone) while the others run what needs no model."""
    modules: dict[str, list[pytest.Item]] = {}
    for item in items:
        modules.setdefault(item.nodeid.split("::")[0], []).append(item)
    needs_run = [name for name, its in modules.items() if any(_needs_run(it) for it in its)]
    free = [name for name in modules if name not in needs_run]
    order = needs_run[:1] + free + needs_run[1:]
    return [item for name in order for item in modules[name]]


def _needs_run(item: pytest.Item) -> bool:
    return "trained_run" in getattr(item, "fixturenames", ())


@pytest.fixture(scope="session")
def data_dir() -> Path:
    try:
        return find_data_dir()
    except DataError as error:
        pytest.skip(f"data set not available: {error}")


@pytest.fixture(scope="session")
def test_image_paths(data_dir: Path) -> list[Path]:
    return sorted((data_dir / "test_images").glob("*.jpg"))


@pytest.fixture()
def data_copy(data_dir: Path, tmp_path: Path) -> Path:
    """A writable copy of the tables (images linked) to break on purpose."""
    copy = tmp_path / "data"
    copy.mkdir()
    for item in data_dir.iterdir():
        if item.is_dir():
            (copy / item.name).symlink_to(item)
        else:
            shutil.copy(item, copy / item.name)
    return copy


def _built_once(tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], None]) -> Path:
    """The folder `name`, written by `build(folder)` once per test run. Under pytest-xdist
    every worker asks: the first builds it in the run's shared temp folder while the others
    wait on a lock, then all read the same files."""
    from filelock import FileLock

    base = tmp_path_factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base  # parent: shared by workers
    out, done = root / name, root / f"{name}.done"
    with FileLock(str(root / f"{name}.lock")):
        if not done.is_file():
            shutil.rmtree(out, ignore_errors=True)  # what a worker that failed left
            build(out)
            done.touch()
    return out


def _command(*command: str) -> Callable[[Path], None]:
    """A build that runs `python -m COMMAND --out FOLDER` (the real CLI, in its own process)."""
    import subprocess
    import sys

    def build(out: Path) -> None:
        subprocess.run([sys.executable, "-m", *command, "--out", str(out)], check=True)

    return build


@pytest.fixture(scope="session")
def trained_run(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real training run on a 200-image slice (1 tower member), via the CLI: for the tests
    that need what a model has learnt (what a query finds, the detector, other languages)."""
    command = ("train", "--data", str(data_dir), "--max-train-images", "200", "--members", "1")
    return _built_once(tmp_path_factory, "run", _command(*command))


@pytest.fixture(scope="session")
def models_dir(trained_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Real ONNX files exported (and checked against PyTorch) from the slice run."""
    return _built_once(tmp_path_factory, "models", _command("export", "--run", str(trained_run)))


def _build_tiny_models(data_dir: Path, folder: Path) -> None:
    """Train a tiny open_clip ResNet with random weights (one tower member) on the suite's
    200-photo slice, and export it, in this process: a model whose files, shapes, manifest,
    detector and policy are all real, and whose rankings mean nothing. The slice is the real
    run's (trained_run), so the two share every face and multilingual feature they compute."""
    from tiny_clip import build_tiny_clip

    from export.__main__ import main as export_main
    from train.__main__ import main as train_main

    config, weights = build_tiny_clip(folder / "backbone", "TinyRN")
    backbone = ["--image-encoder", f"openclip:{config}", "--image-weights", str(weights)]
    small = ["--max-train-images", "200", "--members", "1"]
    common = ["--data", str(data_dir)]
    if train_main([*common, "--out", str(folder / "run"), *backbone, *small]) != 0:
        raise RuntimeError("the tiny model's training failed (its output is above)")
    if export_main(["--run", str(folder / "run"), "--out", str(folder / "models"), *common]) != 0:
        raise RuntimeError("the tiny model's export failed (its output is above)")


@pytest.fixture(scope="session")
def tiny_models_dir(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The exported models of a tiny random-weight backbone, built in this process in half a
    minute once its features are cached: for the tests of what the engine, the app and
    the command line do with any model (files, errors, the policy's rules, the review queue),
    not of what a model has learnt. A module uses it by overriding `models_dir` with it."""
    built = _built_once(tmp_path_factory, "tiny", lambda out: _build_tiny_models(data_dir, out))
    return built / "models"


@pytest.fixture(scope="session")
def tiny_run(tiny_models_dir: Path) -> Path:
    """The training run the tiny models were exported from (its checkpoint, metrics.json)."""
    return tiny_models_dir.parent / "run"


@pytest.fixture()
def search_cli(capsys: pytest.CaptureFixture[str]):
    """search_cli(*args) -> (exit code, stdout, stderr) of `python -m inference ARGS`, called
    in this process (tests/inference/test_engine.py runs the real subprocess)."""
    from inference.cli import main

    def run(*args: str) -> tuple[int, str, str]:
        try:
            code = main(list(args))
        except SystemExit as error:  # argparse's usage errors
            code = int(error.code or 0)
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def copy_photos(paths: list[Path], gallery: Path) -> Path:
    """A fresh folder `gallery` holding copies of `paths` (no captions file)."""
    gallery.mkdir()
    for path in paths:
        shutil.copy(path, gallery / path.name)
    return gallery


@pytest.fixture()
def small_gallery(test_image_paths: list[Path], tmp_path: Path) -> Path:
    """Six real test images copied into a fresh folder."""
    return copy_photos(test_image_paths[:6], tmp_path / "gallery")


@pytest.fixture()
def uncaptioned_gallery(test_image_paths: list[Path], tmp_path: Path) -> Path:
    """Twelve real test photos in a folder nobody captioned: the child-image detector judges each."""
    return copy_photos(test_image_paths[:12], tmp_path / "photos")


@contextmanager
def _app_starter(models_dir: Path, folder: Path) -> Iterator[Callable[..., str]]:
    """start(gallery, *args) -> URL of `python app.py` serving `gallery` in a subprocess; every
    app it started is stopped on leaving."""
    from bench.cli import BenchError
    from bench.load import start_app as launch

    processes: list = []

    def start(gallery: Path, *args: str) -> str:
        log = folder / f"app-{len(processes)}.log"
        try:
            process, url = launch(gallery, models_dir, folder / f"uploads-{len(processes)}", args, log)
        except BenchError as error:
            pytest.fail(str(error))
        processes.append(process)
        return url

    try:
        yield start
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=20)


@pytest.fixture()
def start_app(models_dir: Path, tmp_path: Path) -> Iterator[Callable[..., str]]:
    """start_app(gallery, *args) -> URL of `python app.py` serving `gallery` in a subprocess
    (stopped after the test)."""
    with _app_starter(models_dir, tmp_path) as start:
        yield start


@pytest.fixture(scope="module")
def start_module_app(
    models_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[..., str]]:
    """start_app for the tests of a module that only read from the app: stopped after the module."""
    with _app_starter(models_dir, tmp_path_factory.mktemp("apps")) as start:
        yield start
