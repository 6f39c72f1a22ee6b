"""Which images the content policy withholds: the one rule for training, evaluation and serving."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence

import numpy as np

from inference.policy.readings import is_restricted_text


def is_restricted_image(captions: Iterable[str]) -> bool:
    """True when any caption known for an image is restricted."""
    return any(is_restricted_text(caption) for caption in captions)


def restricted_images(
    names: Sequence[str],
    captions: Mapping[str, Iterable[str]],
    child_probability: np.ndarray | None = None,
    threshold: float = 1.0,
    released: Collection[str] = frozenset(),
) -> np.ndarray:
    """The one decision of which images are withheld: [N] bool for images `names`.

    Captions known for an image decide for it; images without captions are judged
    by the child-image detector (child_probability [N] >= threshold) where given,
    and allowed where not (training and evaluation label by captions only). A
    person's release (inference/review/releases.py) overrules the detector, never a caption.
    """
    return np.array(
        [
            is_restricted_image(captions[name])
            if name in captions
            else child_probability is not None
            and bool(child_probability[i] >= threshold)
            and name not in released
            for i, name in enumerate(names)
        ],
        dtype=bool,
    )
