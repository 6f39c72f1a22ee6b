"""The child-image detector's last step, for images nobody captioned: numpy only.

Three signals meet here, each computed elsewhere:
- two linear heads on the image encoder's pooled features (in image_encoder.onnx):
  "a child is in this picture" and "a person is in this picture" (logits);
- faces and the age they look (inference/review/faces.py, `FACE_FEATURES` numbers).

A logistic regression over them (`combiner_inputs`), fitted on the training
images and people-free photos (train/detector.py), gives P(child); the image is
withheld at P >= threshold, set for 97% recall on out-of-fold predictions.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from inference.review.faces import AGES, FEATURE_NAMES, FOUND_HIGH, FOUND_LOW, NO_FACE, cascade_settings

MAX_AGE = float(AGES[-1])  # youngest_age_over_80 is the age over this

HEAD_NAMES = ("child_logit", "person_logit")
INPUT_NAMES = (*HEAD_NAMES, "p_person_x_child_logit", *FEATURE_NAMES)


def expit(x: np.ndarray) -> np.ndarray:
    """Logistic sigmoid (numpy; serving has no scipy)."""
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def combiner_inputs(head_logits: np.ndarray, face_features: np.ndarray) -> np.ndarray:
    """head_logits [N, 2] (child, person), face_features [N, K] -> inputs [N, len(INPUT_NAMES)].

    The product lets "no person here" mute the whole-image child score: a photo
    with no person cannot depict a child, however child-like its colours are.
    """
    child, person = head_logits[:, 0], head_logits[:, 1]
    return np.column_stack([child, person, expit(person) * child, face_features]).astype(np.float64)


@dataclass(frozen=True)
class Explanation:
    """Why the detector withholds one image: its P(child) against the threshold, the signal
    that weighed most, and what each says."""

    probability: float
    threshold: float
    signal: str  # "faces" or "whole image"
    image_alone: float  # P(child) from the whole image, as if no face were found
    face_under_16: float | None  # the likeliest face's P(looks under 16); None: no face found
    youngest_age: float | None  # the youngest-looking face's age, years; None: no face found

    @property
    def short(self) -> str:
        """A label for a small tile: "face ~9 y · 0.97", "whole image · 0.62"."""
        what = f"face ~{self.youngest_age:.0f} y" if self.signal == "faces" else "whole image"
        return f"{what} · {self.probability:.2f}"

    @property
    def sentence(self) -> str:
        """One line for the owner: which signal, its value, and the threshold."""
        faces = "no face found"
        if self.youngest_age is not None:
            faces = f"the youngest face looks {self.youngest_age:.0f} (P under 16: {self.face_under_16:.2f})"
        if self.signal == "faces":
            cause = f"the faces found: {faces}"
        else:
            cause = f"the whole image (P {self.image_alone:.2f} without faces; {faces})"
        return f"Withheld mostly by {cause}. P(child) {self.probability:.2f}, threshold {self.threshold:.2f}."

    def to_json(self) -> dict:
        return {
            "signal": self.signal,
            "child_probability": round(self.probability, 4),
            "threshold": round(self.threshold, 4),
            "whole_image_alone": round(self.image_alone, 4),
            "face_under_16": None if self.face_under_16 is None else round(self.face_under_16, 4),
            "youngest_face_age": None if self.youngest_age is None else round(self.youngest_age, 1),
        }


@dataclass(frozen=True)
class DetectorParams:
    """Logistic regression over `combiner_inputs` (scaling folded in) and its threshold."""

    weights: tuple[float, ...]
    bias: float
    threshold: float
    inputs: tuple[str, ...] = INPUT_NAMES
    face_cascade: dict = field(default_factory=cascade_settings)  # the faces it was fitted on

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> DetectorParams:
        params = cls(
            tuple(data["weights"]),
            float(data["bias"]),
            float(data["threshold"]),
            tuple(data["inputs"]),
            data.get("face_cascade", {}),  # fitted before the settings were recorded: {}
        )
        if params.inputs != INPUT_NAMES or len(params.weights) != len(INPUT_NAMES):
            raise ValueError(f"detector inputs {params.inputs} differ from this code's {INPUT_NAMES}")
        if params.face_cascade != cascade_settings():
            raise ValueError(
                f"detector fitted on faces found with {params.face_cascade or 'older settings'}, "
                f"this code finds them with {cascade_settings()}"
            )
        return params

    def probability(self, head_logits: np.ndarray, face_features: np.ndarray) -> np.ndarray:
        """P(child) [N] from head_logits [N, 2] and face_features [N, K]."""
        inputs = combiner_inputs(head_logits, face_features)
        return expit(inputs @ np.asarray(self.weights) + self.bias).astype(np.float32)

    def explain(self, head_logits: np.ndarray, face_features: np.ndarray) -> Explanation:
        """Which signal brought one image's P(child) to where it is: head_logits [2] and
        face_features [K] of that image. The combiner's logit is a sum, so each signal's share
        is its terms: the whole image's (the two heads) against the faces' beyond "no face"."""
        inputs = combiner_inputs(head_logits[None], face_features[None])[0]
        weights = np.asarray(self.weights)
        heads = len(HEAD_NAMES) + 1
        image_part = float(inputs[:heads] @ weights[:heads])
        face_part = float((inputs[heads:] - NO_FACE) @ weights[heads:])
        no_face = float(NO_FACE @ weights[heads:])
        found = bool(face_features[0] > 0)
        return Explanation(
            probability=float(expit(np.array(image_part + face_part + no_face + self.bias))),
            threshold=self.threshold,
            signal="faces" if found and face_part > image_part else "whole image",
            image_alone=float(expit(np.array(image_part + no_face + self.bias))),
            face_under_16=float(face_features[3]) if found else None,
            youngest_age=float(face_features[4] * MAX_AGE) if found else None,
        )

    def upper_bound(self, head_logits: np.ndarray) -> np.ndarray:
        """The highest P(child) [N] any faces could give, from head_logits [N, 2] alone.
        Under the threshold, the image is allowed whatever its faces: the face and age
        nets (most of the indexing time) need not run for it."""
        weights = np.asarray(self.weights)
        face_weights = weights[len(HEAD_NAMES) + 1 :]
        with np.errstate(invalid="ignore"):  # 0 * inf: a zero weight on an unbounded feature
            found = np.where(face_weights > 0, face_weights * FOUND_HIGH, face_weights * FOUND_LOW)
        best_faces = max(float(np.nan_to_num(found, nan=0.0).sum()), float(face_weights @ NO_FACE))
        heads = combiner_inputs(head_logits, np.zeros((len(head_logits), len(face_weights))))
        return expit(heads @ weights + self.bias + best_faces).astype(np.float32)
