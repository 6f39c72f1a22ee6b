"""Photo search: text-to-image search over photo folders, under the content policy.

    from inference import PhotoSearch

    library = PhotoSearch.open("models")
    library.ensure_index("~/Pictures")
    print(library.search("two dogs playing in the snow").results[:3])

The subpackages: `engine` (the search engine and this front door), `store` (the index, its
vectors, ranking, Milvus), `models` (the exported models on onnxruntime), `policy` (the content
policy: its words, languages and verdicts), `review` (the child-image detector and the owner's
review), `data` (the data set). Importing this package loads none of them until a name is used.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

#: What the package offers, and where each lives (imported on first use: `import inference.policy`
#: stays light for training).
EXPORTS = {
    "PhotoSearch": "inference.engine.front",
    "prepare_process": "inference.engine.front",
    "SearchResponse": "inference.engine.responses",
    "Result": "inference.engine.responses",
    "QueryError": "inference.engine.responses",
    "UserError": "inference.errors",
}
__all__ = list(EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in EXPORTS:
        raise AttributeError(f"module 'inference' has no attribute {name!r}")
    return getattr(import_module(EXPORTS[name]), name)
