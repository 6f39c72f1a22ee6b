"""A gallery of one good image and many bad files: the good one is searchable,
every bad one is listed in `skipped` with a reason, nothing crashes."""

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image


@pytest.fixture(scope="module")
def models_dir(tiny_models_dir: Path) -> Path:
    """What this module checks holds for any model: it runs on the tiny one."""
    return tiny_models_dir


BAD_FILES = ("zero.jpg", "truncated.jpg", "text.png", "bomb.png")
ODD_BUT_GOOD = ("cmyk.jpg", "gray16.png", "palette.png", "alpha.png", "animated.gif")


def _make_gallery(folder, good_source):
    folder.mkdir()
    shutil.copy(good_source, folder / "good.jpg")
    (folder / "zero.jpg").write_bytes(b"")
    (folder / "truncated.jpg").write_bytes(good_source.read_bytes()[:3000])
    (folder / "text.png").write_text("not a picture")
    Image.new("1", (40000, 40000)).save(folder / "bomb.png", optimize=True)  # 1.6 GP, a few KB
    photo = Image.open(good_source).convert("RGB").resize((120, 90))
    photo.convert("CMYK").save(folder / "cmyk.jpg")
    Image.fromarray((np.arange(64 * 64).reshape(64, 64) * 16).astype(np.uint16)).save(folder / "gray16.png")
    photo.convert("P").save(folder / "palette.png")
    photo.convert("RGBA").save(folder / "alpha.png")
    photo.save(folder / "animated.gif", save_all=True, append_images=[Image.new("RGB", (120, 90), "red")])
    (folder / "sub").mkdir()
    (folder / "sub" / "loop").symlink_to(folder)


def test_cli_search_over_bad_files(models_dir, test_image_paths, tmp_path, search_cli):
    gallery = tmp_path / "gallery"
    _make_gallery(gallery, test_image_paths[0])
    args = ["search", "a person outdoors", "--gallery", str(gallery), "--models", str(models_dir)]
    # the odd files are one photo saved in other ways: copies, each shown in a place of its own here
    code, out, err = search_cli(*args, "--top-k", "20", "--all-copies", "--json")
    assert code == 0, err
    payload = json.loads(out)
    returned = {path.rsplit("/", 1)[-1] for path in (r["image"] for r in payload["results"])}
    assert returned == {"good.jpg", *ODD_BUT_GOOD}
    skipped = {line.split(": ", 1)[0].rsplit("/", 1)[-1]: line for line in payload["skipped"]}
    assert set(BAD_FILES) <= set(skipped)
    assert "too large" in skipped["bomb.png"] and "symlink loop" in skipped["loop"]


def test_unreadable_file_is_skipped_with_its_reason(models_dir, test_image_paths, tmp_path, monkeypatch):
    from PIL import Image as PILImage

    from inference.models.exported import SearchModels
    from inference.store.index import update_index

    gallery = tmp_path / "gallery"
    gallery.mkdir()
    shutil.copy(test_image_paths[0], gallery / "good.jpg")
    locked = gallery / "locked.jpg"
    shutil.copy(test_image_paths[1], locked)
    locked.chmod(0)
    if os.geteuid() == 0:  # root reads any file: deny it where the OS would
        real_open = PILImage.open

        def denying_open(path, *args, **kwargs):
            if Path(path) == locked:
                raise PermissionError(13, "Permission denied", str(path))
            return real_open(path, *args, **kwargs)

        monkeypatch.setattr(PILImage, "open", denying_open)
    index = update_index(SearchModels(models_dir), gallery, tmp_path / "index", progress=False)
    assert index.names == ["good.jpg"]
    assert index.skipped == [
        f"{locked}: not a readable image (PermissionError: [Errno 13] Permission denied: '{locked}')"
    ]
