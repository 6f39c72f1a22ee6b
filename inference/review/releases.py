"""The owner's review queue: photos the child-image detector withholds, and the
releases a person records for them.

The detector is conservative (it withholds about half of the photos of adults
rather than show a child), so what it cannot clear waits for a person, as in any
trust-and-safety queue. A release is the gallery owner's statement that a photo
shows no child. Releases live in `RELEASES_FILE` inside the gallery folder (JSON,
written atomically), so they travel with the photos and outlive restarts and
re-indexing. Each is tied to the file's content (SHA-256): an edited or replaced
file goes back to the detector. A caption that names a child always withholds,
released or not: only the detector's verdicts can be overruled.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from inference.atomic import atomic_write
from inference.errors import UserError
from inference.models.sessions import file_sha256

RELEASES_FILE = ".photo-search-releases.json"
RELEASES_VERSION = 1
#: Every release and revoke, one JSON object a line, appended and never rewritten.
AUDIT_FILE = ".photo-search-audit.jsonl"


class ReviewError(UserError):
    """A release that cannot be made or read; the message names the photo or file and why."""


@dataclass(frozen=True)
class Release:
    """One person's release of one photo: the content it was made for, and when."""

    sha256: str
    size: int  # with mtime_ns: the file as released, so an unchanged file is not hashed again
    mtime_ns: int
    released_at: str  # ISO 8601, UTC


@dataclass(frozen=True)
class Withheld:
    """A photo the detector withholds: its name in the gallery, P(child) and the threshold."""

    gallery: Path
    name: str
    probability: float
    threshold: float
    released: bool

    @property
    def path(self) -> Path:
        return self.gallery / self.name

    @property
    def reason(self) -> str:
        verdict = "released by a person" if self.released else "waiting for review"
        return (
            f"no caption; the child-image detector gives P(child) {self.probability:.2f}, "
            f"at or above its threshold {self.threshold:.2f} ({verdict})"
        )

    def to_json(self) -> dict:
        return {
            "image": str(self.path),
            "name": self.name,
            "child_probability": round(self.probability, 4),
            "threshold": round(self.threshold, 4),
            "released": self.released,
            "reason": self.reason,
        }


#: How the review queue may be ordered: the likeliest mistakes (lowest P(child)) first, or by name.
REVIEW_ORDERS: dict[str, Callable[[Withheld], tuple[float, str]]] = {
    "likeliest mistakes": lambda item: (item.probability, str(item.path)),
    "name": lambda item: (0.0, str(item.path)),
}


def audit_path(gallery: Path) -> Path:
    return gallery / AUDIT_FILE


def who(tool: str) -> str:
    """The tool that acts, as the audit log names it: the app, or the CLI with the
    operating-system user who ran it."""
    if tool != "cli":
        return tool
    import getpass

    try:
        return f"cli (user {getpass.getuser()})"
    except (KeyError, OSError):  # no name for this uid (a container)
        return f"cli (uid {os.getuid()})"


def append_audit(gallery: Path, action: str, entries: Sequence[tuple[str, str]], tool: str) -> None:
    """Append one line per photo to the gallery's audit log: time (UTC), `action` ("release" or
    "revoke"), the photo's name and content hash (`entries`: (name, sha256)), and `tool`. Opened
    for appending only and synced: lines are added, never rewritten."""
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    lines = "".join(
        json.dumps({"time": stamp, "action": action, "photo": name, "sha256": sha, "tool": tool}) + "\n"
        for name, sha in entries
    )
    fd = os.open(audit_path(gallery), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, lines.encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def read_audit(gallery: Path) -> list[dict]:
    """The audit log's entries, oldest first ([] where none was written)."""
    try:
        text = audit_path(gallery).read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def releases_path(gallery: Path) -> Path:
    return gallery / RELEASES_FILE


def read_releases(gallery: Path) -> dict[str, Release]:
    """The releases recorded for `gallery` (name -> Release); none when there is no file.
    Raises ReviewError naming the file when it cannot be read: a release silently
    forgotten would withhold photos a person cleared, one silently invented would show them."""
    path = releases_path(gallery)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("version") != RELEASES_VERSION:
            raise ReviewError(f"{path}: releases file version {data.get('version')!r}, expected 1")
        return {name: Release(**fields) for name, fields in data["releases"].items()}
    except FileNotFoundError:
        return {}
    except (json.JSONDecodeError, KeyError, TypeError, AttributeError, UnicodeDecodeError) as error:
        raise ReviewError(f"{path}: unreadable releases file ({error}); fix or delete it") from None


def write_releases(gallery: Path, releases: dict[str, Release]) -> None:
    """Replace the gallery's releases file atomically (the old file or the new one, never half)."""
    path = releases_path(gallery)
    payload = {
        "version": RELEASES_VERSION,
        "about": "Photos a person released from the child-image detector's review queue "
        "(python -m inference review). Each release holds only for the file content it names.",
        "releases": {name: asdict(release) for name, release in sorted(releases.items())},
    }
    if not os.access(gallery, os.W_OK):
        raise ReviewError(f"{gallery}: the gallery folder is read-only, so no release can be recorded there")
    with atomic_write(path) as handle:
        handle.write(json.dumps(payload, indent=1, ensure_ascii=False).encode())


def release_for(path: Path) -> Release:
    """A release of the file at `path` as it is now."""
    info = path.stat()
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    return Release(file_sha256(path), info.st_size, info.st_mtime_ns, stamp)


def holds(release: Release, path: Path) -> bool:
    """True when `path` still has the content `release` was made for."""
    try:
        info = path.stat()
    except OSError:
        return False
    if (info.st_size, info.st_mtime_ns) == (release.size, release.mtime_ns):
        return True
    return info.st_size == release.size and file_sha256(path) == release.sha256


def released_names(gallery: Path, names: Sequence[str]) -> set[str]:
    """Those of `names` (paths relative to `gallery`) whose release still holds."""
    releases = read_releases(gallery)
    if not releases:
        return set()
    return {name for name in names if name in releases and holds(releases[name], gallery / name)}
