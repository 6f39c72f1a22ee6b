"""The package as a user installs it: `pip install .` into a venv of its own gives a
`photo-search` command that searches with models built by this checkout, and no torch;
`pip install .[app]` adds the app. Installs from the package registry (pip's cache makes it
quick after the first time)."""

from __future__ import annotations

import json
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The package's wheel, built from this checkout by the setuptools already installed."""
    out = tmp_path_factory.mktemp("wheel")
    build = tmp_path_factory.mktemp("build")  # setuptools' build/ folder, not the checkout's
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", str(ROOT)]
        + ["--wheel-dir", str(out)],
        check=True,
        cwd=build,
    )
    (found,) = out.glob("photo_search-*.whl")
    return found


def _pip(environment: Path, *args: str) -> None:
    python = environment / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", *args], check=True)


@pytest.mark.slow
def test_pip_install_gives_a_torch_free_search_command_and_the_app_extra(
    wheel: Path, models_dir: Path, test_image_paths: list[Path], tmp_path: Path
):
    environment = tmp_path / "venv"
    venv.create(environment, with_pip=True)
    _pip(environment, str(wheel))
    python, bin_dir = environment / "bin" / "python", environment / "bin"
    assert subprocess.run([python, "-c", "import torch"], capture_output=True).returncode != 0
    assert subprocess.run([python, "-c", "import gradio"], capture_output=True).returncode != 0

    gallery = tmp_path / "photos"
    gallery.mkdir()
    for path in test_image_paths[:6]:
        (gallery / path.name).symlink_to(path)
    work = tmp_path / "elsewhere"  # not the checkout: the package finds nothing of it
    work.mkdir()

    def search(query: str) -> dict:
        command = [bin_dir / "photo-search", "search", query, "--gallery", gallery, "--models", models_dir]
        done = subprocess.run(
            [*map(str, command), "--json"], capture_output=True, text=True, cwd=work, check=True
        )
        return json.loads(done.stdout)  # only JSON on stdout

    answer = search("a dog running on the grass")
    assert len(answer["results"]) == 6 and not answer["restricted"]
    assert all(0.0 <= result["score"] <= 1.0 for result in answer["results"])
    child = search("two little girls")  # the policy ships in the package (its word forms included)
    assert child["restricted"] and not child["results"]
    assert search("dzieci w parku")["restricted"]  # Polish: simplemma's child forms, packaged

    _pip(environment, f"photo-search[app] @ {wheel.as_uri()}")
    app = subprocess.run([bin_dir / "photo-search-app", "--help"], capture_output=True, text=True, cwd=work)
    assert app.returncode == 0 and "--gallery" in app.stdout
