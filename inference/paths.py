"""Where the product's folders are unless told otherwise (models/, data/, uploads/): in the
checkout the code runs from, or, for an installed package (`pip install .`), in the working
directory the command starts in."""

from __future__ import annotations

from pathlib import Path

_SOURCE = Path(__file__).resolve().parent.parent
#: A checkout has its pyproject.toml beside the packages; site-packages has none.
PROJECT_ROOT = _SOURCE if (_SOURCE / "pyproject.toml").is_file() else Path.cwd()
