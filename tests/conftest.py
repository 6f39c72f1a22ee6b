"""Shared fixtures: the real data set (shared copy) and small slices of it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from inference.dataset import DataError, find_data_dir

#: Fixtures that train, export or start a server: a test that uses one, directly or through
#: another fixture, is marked `slow` (`./run.sh test -m "not slow"` runs the rest).
SLOW_FIXTURES = frozenset({"trained_run", "tiny", "server"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


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


@pytest.fixture(scope="session")
def trained_run(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real training run on a 200-image slice (1 tower member), via the CLI."""
    import subprocess
    import sys

    out = tmp_path_factory.mktemp("run")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "train",
            "--data",
            str(data_dir),
            "--out",
            str(out),
            "--max-train-images",
            "200",
            "--members",
            "1",
        ],
        check=True,
    )
    return out


@pytest.fixture(scope="session")
def models_dir(trained_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Real ONNX files exported (and checked against PyTorch) from the slice run."""
    import subprocess
    import sys

    out = tmp_path_factory.mktemp("export") / "models"
    subprocess.run([sys.executable, "-m", "export", "--run", str(trained_run), "--out", str(out)], check=True)
    return out


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


@pytest.fixture()
def start_app(models_dir: Path, tmp_path: Path):
    """start_app(gallery, *args) -> URL of `python app.py` serving `gallery` in a subprocess
    (stopped after the test)."""
    from bench.load import start_app as launch

    processes: list = []

    def start(gallery: Path, *args: str) -> str:
        log = tmp_path / f"app-{len(processes)}.log"
        try:
            process, url = launch(gallery, models_dir, tmp_path / "uploads", args, log)
        except RuntimeError as error:
            pytest.fail(str(error))
        processes.append(process)
        return url

    yield start
    for process in processes:
        process.terminate()
        process.wait(timeout=20)
