"""Faces and the age they look, for the child-image detector: numpy + onnxruntime.

Detection is MTCNN (Zhang et al. 2016): P-Net proposes boxes over an image
pyramid, R-Net and O-Net refine them, O-Net also gives 5 landmarks. This is the
cascade of facenet-pytorch's `detect_face` in numpy, over its three nets
exported to ONNX (train/face_nets.py). Ages come from dlib-models' age
predictor (`age-v1.onnx`, 81 classes for 0..80 years) on 64 px face chips
aligned on the eyes the way dlib's `get_face_chip_details` places them.

`FaceModels.features(image)` sums this up as `FACE_FEATURES` numbers per image.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import onnxruntime as ort
from PIL import Image

from inference.models.sessions import load_session

PNET, RNET, ONET = "face_pnet.onnx", "face_rnet.onnx", "face_onet.onnx"
AGE_MODEL = "age-v1.onnx"
FACE_MODEL_FILES = (PNET, RNET, ONET, AGE_MODEL)

#: Smallest face searched, in pixels of the (shrunk) image. 18 rather than MTCNN's
#: usual 15: the detector's out-of-fold ROC-AUC over 10 fold seeds was 0.8930 against
#: 0.8923 (others withheld 52.5% against 52.4%; 24 px: 0.8908, 53.9%), and the
#: cascade costs 30 ms an image instead of 41 (README, "The child-image detector").
MIN_FACE_PX = 18
MAX_SIDE_PX = 640  # larger images are shrunk first: faces below 18 px there are unreadable anyway
PYRAMID_FACTOR = 0.709  # MTCNN's scale step (area halves every two levels)
STAGE_THRESHOLDS = (0.6, 0.7, 0.7)  # MTCNN's published P/R/O-Net score cut-offs
CHILD_AGE = 16  # "a child" in the content policy: under 16


def cascade_settings() -> dict:
    """What, beside the model files, decides `FaceModels.features` (JSON-ready): face
    features computed, or a detector fitted, under other settings do not fit this code."""
    return {
        "min_face_px": MIN_FACE_PX,
        "max_side_px": MAX_SIDE_PX,
        "pyramid_factor": PYRAMID_FACTOR,
        "stage_thresholds": list(STAGE_THRESHOLDS),
        "child_age": CHILD_AGE,
    }


#: dlib's 5-point face chip template (padding 0.2): eye centres as the mean of each eye's two
#: corners, in chip units. The age model was trained on chips made this way.
_CHIP_PADDING = 0.2
_CHIP_EYES = np.array([[0.227330, 0.221396], [0.752814, 0.221232]])
AGE_CHIP_PX = 64
_AGE_MEANS = np.array([122.781998, 117.000999, 104.297997], dtype=np.float32)
AGES = np.array([0.25, *range(1, 81)], dtype=np.float32)  # the age model's 81 classes

FEATURE_NAMES = (
    "face_found",
    "log_faces",
    "best_face_score",
    "max_p_under_16",
    "youngest_age_over_80",
    "largest_face_share",
)
FACE_FEATURES = len(FEATURE_NAMES)
NO_FACE = np.array([0.0, 0.0, 0.0, 0.0, 1.0, 0.0], dtype=np.float32)
#: Where each feature can lie when at least one face is found (`features`): one face
#: or more, probabilities and shares in [0, 1]; the number of faces has no upper end.
FOUND_LOW = np.array([1.0, np.log(2.0), 0.0, 0.0, 0.0, 0.0])
FOUND_HIGH = np.array([1.0, np.inf, 1.0, 1.0, 1.0, 1.0])


@dataclass(frozen=True)
class Faces:
    """boxes [F, 4] (x1, y1, x2, y2 in pixels), scores [F], landmarks [F, 5, 2] (x, y):
    left eye, right eye, nose, mouth left, mouth right (left = image left)."""

    boxes: np.ndarray
    scores: np.ndarray
    landmarks: np.ndarray

    def __len__(self) -> int:
        return len(self.scores)


def nms(boxes: np.ndarray, scores: np.ndarray, threshold: float, mode: str = "union") -> np.ndarray:
    """Indices kept by greedy non-maximum suppression, best first.
    mode "union": overlap = IoU; "min": intersection over the smaller box."""
    x1, y1, x2, y2 = boxes.T
    area = (x2 - x1 + 1) * (y2 - y1 + 1)
    order, keep = np.argsort(-scores, kind="stable"), []
    while order.size:
        best, rest = order[0], order[1:]
        keep.append(best)
        w = np.maximum(0.0, np.minimum(x2[best], x2[rest]) - np.maximum(x1[best], x1[rest]) + 1)
        h = np.maximum(0.0, np.minimum(y2[best], y2[rest]) - np.maximum(y1[best], y1[rest]) + 1)
        inter = w * h
        denominator = np.minimum(area[best], area[rest]) if mode == "min" else area[best] + area[rest] - inter
        order = rest[inter / denominator <= threshold]
    return np.array(keep, dtype=np.int64)


def _square(boxes: np.ndarray) -> np.ndarray:
    """Boxes grown to squares about their centres (MTCNN's `rerec`)."""
    out = boxes.copy()
    w, h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    side = np.maximum(w, h)
    out[:, 0] = boxes[:, 0] + w * 0.5 - side * 0.5
    out[:, 1] = boxes[:, 1] + h * 0.5 - side * 0.5
    out[:, 2:4] = out[:, 0:2] + side[:, None]
    return out


def _regress(boxes: np.ndarray, offsets: np.ndarray, plus_one: bool = True) -> np.ndarray:
    """Boxes moved by predicted offsets (fractions of width and height)."""
    w = boxes[:, 2] - boxes[:, 0] + (1 if plus_one else 0)
    h = boxes[:, 3] - boxes[:, 1] + (1 if plus_one else 0)
    out = boxes.copy()
    out[:, 0:4] = boxes[:, 0:4] + offsets * np.stack([w, h, w, h], axis=1)
    return out


def _normalise(pixels: np.ndarray) -> np.ndarray:
    """uint8 [..., H, W, 3] -> float32 [..., 3, H, W] in MTCNN's range."""
    return ((np.moveaxis(pixels, -1, -3).astype(np.float32) - 127.5) * 0.0078125).astype(np.float32)


def _crops(image: Image.Image, boxes: np.ndarray, size: int) -> np.ndarray:
    """Square crops [N, 3, size, size] of `boxes`, clipped to the image as MTCNN does."""
    w, h = image.size
    clipped = np.trunc(boxes[:, :4]).astype(int)
    clipped[:, 0:2] = np.maximum(clipped[:, 0:2], 1)
    clipped[:, 2] = np.minimum(clipped[:, 2], w)
    clipped[:, 3] = np.minimum(clipped[:, 3], h)
    crops = [
        np.asarray(
            image.crop((x1 - 1, y1 - 1, max(x2, x1), max(y2, y1))).resize(
                (size, size), Image.Resampling.BILINEAR
            )
        )
        for x1, y1, x2, y2 in clipped
    ]
    return _normalise(np.stack(crops))


class FaceModels:
    """MTCNN and the age model from one folder holding `FACE_MODEL_FILES`."""

    def __init__(self, folder: Path, threads: int | None = None) -> None:
        self.folder, self.threads = Path(folder), threads

    @cached_property
    def _nets(self) -> dict[str, ort.InferenceSession]:
        return {name: load_session(self.folder / name, self.threads) for name in FACE_MODEL_FILES}

    def _propose(self, image: Image.Image) -> np.ndarray:
        """P-Net over the pyramid: candidate boxes [K, 9] (x1, y1, x2, y2, score, 4 offsets)."""
        w, h = image.size
        scale, shortest, found = 12.0 / MIN_FACE_PX, min(w, h) * 12.0 / MIN_FACE_PX, []
        while shortest >= 12:
            resized = np.asarray(image.resize((int(w * scale + 1), int(h * scale + 1)), Image.Resampling.BOX))
            offsets, probability = self._nets[PNET].run(None, {"pixels": _normalise(resized)[None]})
            ys, xs = np.nonzero(probability[0, 1] >= STAGE_THRESHOLDS[0])
            if len(ys):
                cells = np.stack([xs, ys], axis=1).astype(np.float32)
                # each output cell sees a 12 px window at stride 2 of the scaled image
                corner1 = np.floor((2 * cells + 1) / scale)
                corner2 = np.floor((2 * cells + 12) / scale)
                boxes = np.concatenate(
                    [corner1, corner2, probability[0, 1, ys, xs, None], offsets[0][:, ys, xs].T], axis=1
                )
                found.append(boxes[nms(boxes[:, :4], boxes[:, 4], 0.5)])
            scale, shortest = scale * PYRAMID_FACTOR, shortest * PYRAMID_FACTOR
        if not found:
            return np.zeros((0, 9), np.float32)
        boxes = np.concatenate(found)
        boxes = boxes[nms(boxes[:, :4], boxes[:, 4], 0.7)]
        return _square(_regress(boxes[:, :5], boxes[:, 5:9], plus_one=False))

    def detect(self, image: Image.Image) -> Faces:
        """Faces in an RGB image (coordinates in its own pixels)."""
        shrink = min(1.0, MAX_SIDE_PX / max(image.size))
        small = image.resize(
            (round(image.width * shrink), round(image.height * shrink)), Image.Resampling.BILINEAR
        )
        boxes = self._propose(small)
        if len(boxes):
            offsets, probability = self._nets[RNET].run(None, {"pixels": _crops(small, boxes, 24)})
            keep = probability[:, 1] > STAGE_THRESHOLDS[1]
            boxes = np.concatenate([boxes[keep, :4], probability[keep, 1:2]], axis=1)
            offsets = offsets[keep]
            picked = nms(boxes[:, :4], boxes[:, 4], 0.7)
            boxes = _square(_regress(boxes[picked], offsets[picked]))
        if not len(boxes):
            return Faces(np.zeros((0, 4)), np.zeros(0), np.zeros((0, 5, 2)))
        offsets, points, probability = self._nets[ONET].run(None, {"pixels": _crops(small, boxes, 48)})
        keep = probability[:, 1] > STAGE_THRESHOLDS[2]
        boxes, offsets, points = boxes[keep, :4], offsets[keep], points[keep]
        scores = probability[keep, 1]
        size = np.stack([boxes[:, 2] - boxes[:, 0] + 1, boxes[:, 3] - boxes[:, 1] + 1], axis=1)  # [F, 2]
        landmarks = np.stack([points[:, :5], points[:, 5:]], axis=2) * size[:, None] + boxes[:, None, :2] - 1
        boxes = _regress(boxes, offsets)
        picked = nms(boxes, scores, 0.7, mode="min")
        return Faces(boxes[picked] / shrink, scores[picked], landmarks[picked] / shrink)

    def age_probabilities(self, image: Image.Image, faces: Faces) -> np.ndarray:
        """[F, 81] probabilities over `AGES` for each face."""
        if not len(faces):
            return np.zeros((0, len(AGES)), np.float32)
        chips = np.stack([aligned_chip(image, eyes) for eyes in faces.landmarks[:, :2]])
        pixels = np.moveaxis((chips.astype(np.float32) - _AGE_MEANS) / 256.0, -1, 1)
        return self._nets[AGE_MODEL].run(None, {"images": np.ascontiguousarray(pixels)})[0]

    def features(self, image: Image.Image) -> np.ndarray:
        """`FACE_FEATURES` numbers [K] summing up the faces in `image` (see FEATURE_NAMES)."""
        faces = self.detect(image)
        if not len(faces):
            return NO_FACE.copy()
        ages = self.age_probabilities(image, faces)
        under = ages[:, AGES < CHILD_AGE].sum(axis=1)
        sides = np.maximum(faces.boxes[:, 2] - faces.boxes[:, 0], faces.boxes[:, 3] - faces.boxes[:, 1])
        return np.array(
            [
                1.0,
                np.log1p(len(faces)),
                faces.scores.max(),
                under.max(),
                (ages @ AGES).min() / AGES[-1],
                min(1.0, sides.max() / min(image.size)),
            ],
            dtype=np.float32,
        )


def aligned_chip(image: Image.Image, eyes: np.ndarray) -> np.ndarray:
    """uint8 [64, 64, 3] face chip whose eyes (eyes [2, 2]: image-left, image-right)
    land where dlib's face chips put them."""
    target = (_CHIP_PADDING + _CHIP_EYES) / (1 + 2 * _CHIP_PADDING) * AGE_CHIP_PX
    chip_left, chip_right = complex(*target[0]), complex(*target[1])
    image_left, image_right = complex(*eyes[0]), complex(*eyes[1])
    # similarity transform chip -> image as one complex multiply-add: z' = a z + b
    a = (image_right - image_left) / (chip_right - chip_left)
    b = image_left - a * chip_left
    affine = (a.real, -a.imag, b.real, a.imag, a.real, b.imag)
    return np.asarray(
        image.transform((AGE_CHIP_PX, AGE_CHIP_PX), Image.Transform.AFFINE, affine, Image.Resampling.BILINEAR)
    )
