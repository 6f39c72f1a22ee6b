"""Atomic file writes: a reader sees the old file or the new one, never half of one.

Every file a user would have to rebuild (the gallery index, the saved ANN index,
uploaded photos) and every shared cache file (thumbnails) is written through
`atomic_write`. The temp file is hidden and has no image suffix, so a gallery
scan never picks it up, and carries its writer's pid, so the leftovers of a
killed writer can be told from a live one's (`remove_stale_temp_files`).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO


def _temp_prefix(path: Path) -> str:
    return f".{path.name}.tmp-"


@contextmanager
def atomic_write(path: Path, durable: bool = True) -> Iterator[BinaryIO]:
    """A binary handle on a temp file beside `path`; on a clean exit it replaces `path`
    (flushed to disk first when `durable`: a power cut keeps the old file or the new one);
    on an exception it is deleted and `path` is untouched."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f"{_temp_prefix(path)}{os.getpid()}-")
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def remove_stale_temp_files(path: Path) -> list[Path]:
    """Delete the temp files of writes to `path` whose writer died mid-write; the deleted ones."""
    removed = []
    for tmp in path.parent.glob(_temp_prefix(path) + "*"):
        pid = tmp.name[len(_temp_prefix(path)) :].split("-", 1)[0]
        if pid.isdigit() and not _process_alive(int(pid)):
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
    return removed


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: existence check only
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True
