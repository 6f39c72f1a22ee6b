"""How an open_clip backbone is named: `openclip:MODEL` (train/openclip.py builds it).

A module of its own so that train.encoders and train.openclip both read the name
without importing each other.
"""

from __future__ import annotations

OPENCLIP_PREFIX = "openclip:"


def is_openclip(name: str) -> bool:
    """Whether an encoder name is an open_clip backbone (its own text side, its embedding the bridge)."""
    return name.startswith(OPENCLIP_PREFIX)
