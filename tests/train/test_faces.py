"""Faces and ages for the child-image detector: the numpy MTCNN cascade over the
exported nets, against facenet-pytorch's own MTCNN on real photos."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from inference.models.preprocess import load_image
from inference.review.faces import AGE_CHIP_PX, MIN_FACE_PX, NO_FACE, FaceModels, aligned_chip, nms
from train.face_nets import build_face_models


@pytest.fixture(scope="module")
def faces(tmp_path_factory) -> FaceModels:
    return FaceModels(build_face_models(tmp_path_factory.mktemp("faces") / "face_models"))


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - w * h
    return w * h / union


def test_cascade_finds_the_faces_facenet_pytorch_finds(faces, test_image_paths):
    from facenet_pytorch import MTCNN

    reference = MTCNN(min_face_size=MIN_FACE_PX, keep_all=True, device="cpu")
    matched = total = 0
    for path in test_image_paths[:12]:
        image = load_image(path)
        ours = faces.detect(image)
        boxes, _ = reference.detect(image)
        for box in [] if boxes is None else boxes:
            total += 1
            matched += any(_iou(box, mine) > 0.6 for mine in ours.boxes)
    assert total >= 10
    assert matched / total >= 0.85


def test_no_face_in_a_plain_picture(faces):
    image = Image.new("RGB", (320, 240), (90, 140, 200))
    ImageDraw.Draw(image).rectangle((100, 80, 220, 160), fill=(240, 200, 40))
    assert len(faces.detect(image)) == 0
    np.testing.assert_array_equal(faces.features(image), NO_FACE)


def test_face_features_of_a_photo_with_people(faces, test_image_paths):
    features = np.stack([faces.features(load_image(p)) for p in test_image_paths[:12]])
    found = features[:, 0] == 1
    assert found.any()
    assert ((features[found, 3] >= 0) & (features[found, 3] <= 1)).all()  # P(under 16)
    assert ((features[found, 4] > 0) & (features[found, 4] <= 1)).all()  # youngest age / 80


def test_aligned_chip_puts_the_eyes_where_dlib_does():
    image = Image.new("RGB", (800, 600), "white")  # the chip's whole field lies inside it
    eyes = np.array([[350.0, 280.0], [430.0, 300.0]])  # a tilted face
    draw = ImageDraw.Draw(image)
    for x, y in eyes:
        draw.ellipse((x - 4, y - 4, x + 4, y + 4), fill="black")
    chip = aligned_chip(image, eyes)
    assert chip.shape == (AGE_CHIP_PX, AGE_CHIP_PX, 3)
    dark = np.argwhere(chip.mean(axis=2) < 100)  # (row, col) of the two drawn eyes
    left, right = dark[dark[:, 1] < 32], dark[dark[:, 1] >= 32]
    # dlib's template: eyes at x 0.227 / 0.753 and y 0.221 of the unpadded face, padding 0.2
    for found, x in ((left, 0.2273), (right, 0.7528)):
        centre = found.mean(axis=0)
        assert abs(centre[1] - (0.2 + x) / 1.4 * 64) < 1.5
        assert abs(centre[0] - (0.2 + 0.2213) / 1.4 * 64) < 1.5


def test_nms_matches_brute_force():
    rng = np.random.default_rng(0)
    corners = rng.uniform(0, 100, (60, 2))
    boxes = np.concatenate([corners, corners + rng.uniform(5, 40, (60, 2))], axis=1)
    scores = rng.uniform(size=60)
    kept = nms(boxes, scores, 0.5)
    expected: list[int] = []
    for i in np.argsort(-scores):
        if all(_iou(boxes[i] + [0, 0, 1, 1], boxes[j] + [0, 0, 1, 1]) <= 0.5 for j in expected):
            expected.append(int(i))
    assert kept.tolist() == expected
