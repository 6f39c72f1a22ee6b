"""The exported models on onnxruntime: manifest, sessions and the three verbs
`embed_images`, `embed_texts` and `probabilities`. No torch."""

from __future__ import annotations

import hashlib
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import onnxruntime as ort

from inference.models.manifest import read_manifest, verify_checksums
from inference.models.preprocess import (
    load_image,
    preprocessing_differences,
    resized_short_side,
    served_views,
)
from inference.models.sessions import (  # noqa: F401 (re-exported: the CLI, export and tests import them here)
    EXPORT_COMMAND,
    REBUILD_HINT,
    RETRAIN_HINT,
    ModelFilesError,
    default_threads,
    file_sha256,
    load_session,
)
from inference.models.text import TextTokenizer, text_feeds
from inference.paths import PROJECT_ROOT
from inference.policy import QueryNet
from inference.review.detector import Explanation
from inference.review.faces import FACE_FEATURES, FaceModels
from inference.review.faces import MAX_SIDE_PX as FACE_MAX_SIDE_PX
from inference.store.projection import Projection

DEFAULT_MODELS_DIR = PROJECT_ROOT / "models"
#: The text encoder's second output, where the model has a multilingual encoder: its own
#: sentence vectors [N, 512], which the content policy's semantic net reads.
MULTILINGUAL_OUTPUT = "multilingual_vectors"
IMAGE_ENCODER = "image_encoder.onnx"
TEXT_ENCODER = "text_encoder.onnx"
SCORING_HEAD = "scoring_head.onnx"
TEXT_ENCODER_INT8 = "text_encoder.int8.onnx"
TOKENIZER_DIR = "tokenizer"
MULTILINGUAL_TOKENIZER_DIR = "tokenizer_multilingual"  # the multilingual encoder's, where the model has one


@dataclass(frozen=True)
class QueryVectors:
    """A batch of texts as the text encoder embeds them."""

    vectors: np.ndarray  # [N, D]: text vectors (fusion weights included)
    multilingual: np.ndarray | None  # [N, 512]: the multilingual encoder's own; None where it has none


class SearchModels:
    """Lazily loaded ONNX sessions for one exported model folder."""

    def __init__(
        self,
        models_dir: str | Path = DEFAULT_MODELS_DIR,
        threads: int | None = None,
        verify: bool = True,
        int8: bool = False,
    ) -> None:
        self.dir = Path(models_dir)
        self.manifest = read_manifest(self.dir)
        if verify:
            verify_checksums(self.dir, self.manifest)
        self.threads = threads
        self.text_encoder = TEXT_ENCODER_INT8 if int8 else TEXT_ENCODER
        if self.text_encoder not in self.manifest.files:
            raise ModelFilesError(f"{self.dir / self.text_encoder}: not exported; export with --int8")
        self.input_size = self.manifest.preprocessing.input_size
        differences = preprocessing_differences(self.manifest.preprocessing)
        if differences:  # what training saw is not what this code would feed: scores would drift
            raise ModelFilesError(
                f"{self.dir}: exported for other preprocessing than this code feeds "
                f"({'; '.join(differences)}); " + REBUILD_HINT.format(models=self.dir)
            )
        try:
            self.detector = self.manifest.detector_params()
        except ValueError as error:
            raise ModelFilesError(f"{self.dir}: {error}; " + RETRAIN_HINT.format(models=self.dir)) from None
        try:  # the content policy's semantic net on queries; None for a model exported without one
            self.query_net: QueryNet | None = self.manifest.query_net_params()
        except (ValueError, KeyError, TypeError) as error:
            hint = REBUILD_HINT.format(models=self.dir)
            raise ModelFilesError(f"{self.dir}: query net: {error}; {hint}") from None
        self.no_match_below = self.manifest.no_match_below
        self.multilingual = self.manifest.multilingual
        # the last column of a vector is the image's hub penalty: part of a text query's
        # score, not of what an image looks like
        self.penalty_columns = self.manifest.penalty_columns
        # what an image's stored vector and child probability depend on: every image-side file,
        # and the detector's combiner and face settings (a manifest entry, not a file)
        image_side = sorted((k, v) for k, v in self.manifest.files.items() if not k.startswith("text"))
        stored = json.dumps([image_side, self.detector.to_dict()], sort_keys=True)
        self.model_id = hashlib.sha256(stored.encode()).hexdigest()[:16]

    @cached_property
    def projection(self) -> Projection | None:
        """The projection a shared vector store indexes in (inference/store/projection.py);
        None for a model exported before it was fitted."""
        return Projection.load(self.dir)

    @cached_property
    def _image_session(self) -> ort.InferenceSession:
        return load_session(self.dir / IMAGE_ENCODER, self.threads)

    @cached_property
    def _text_session(self) -> ort.InferenceSession:
        return load_session(self.dir / self.text_encoder, self.threads)

    @cached_property
    def _head_session(self) -> ort.InferenceSession:
        return load_session(self.dir / SCORING_HEAD, self.threads)

    @cached_property
    def faces(self) -> FaceModels:
        # one thread per small face-net call, images in parallel: measured 40 ms an image
        # on one thread against 49 ms on two (the nets are too small to split)
        return FaceModels(self.dir, threads=1)

    @cached_property
    def _face_pool(self) -> ThreadPoolExecutor:
        workers = self.threads or default_threads()
        return ThreadPoolExecutor(max_workers=workers, thread_name_prefix="faces")

    @cached_property
    def tokenizer(self) -> TextTokenizer:
        return TextTokenizer(self.dir / TOKENIZER_DIR)

    @cached_property
    def multilingual_tokenizer(self) -> TextTokenizer | None:
        """The multilingual encoder's tokenizer; None for a model that reads English only."""
        return TextTokenizer(self.dir / MULTILINGUAL_TOKENIZER_DIR) if self.multilingual else None

    def text_feeds(self, texts: list[str], english: list[bool] | None = None) -> dict[str, np.ndarray]:
        """The text encoder's inputs; `english` [N] says which texts are English (default: all)."""
        flags = [True] * len(texts) if english is None else english
        return text_feeds(self.tokenizer, self.multilingual_tokenizer, list(texts), flags)

    @property
    def decode_at_least(self) -> tuple[int, int]:
        """(short side, long side) indexing needs of a picture: the encoder's resize and
        the face detector's working size (load_image decodes large JPEGs down to it)."""
        return resized_short_side(self.input_size), FACE_MAX_SIDE_PX

    def preprocess(self, image) -> np.ndarray:
        """PIL RGB image -> float32 [V, 3, S, S], its SERVED_VIEWS."""
        return served_views(image, self.input_size)

    def embed_images(self, pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """pixels [N, V, 3, S, S] -> (image vectors [N, D], detector head logits [N, 2])."""
        vectors, heads = self._image_session.run(None, {"pixels": pixels.astype(np.float32)})
        return vectors, heads

    def child_probability(self, images: list, head_logits: np.ndarray) -> np.ndarray:
        """P(child) [N] of PIL RGB images given their detector head logits [N, 2]."""
        return self.detector_signals(images, head_logits)[0]

    def detector_signals(self, images: list, head_logits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(P(child) [N], signals [N, 2 + FACE_FEATURES]: the head logits, then the face features)
        of PIL RGB images given their detector head logits [N, 2]. An image that no faces could
        lift to the threshold is not searched for faces: its P is that upper bound (under the
        threshold: allowed, as it would be) and its face features NaN (not looked for)."""
        probability = self.detector.upper_bound(head_logits)
        faces = np.full((len(images), FACE_FEATURES), np.nan, np.float32)
        look = np.nonzero(probability >= self.detector.threshold)[0]
        if len(look):
            faces[look] = np.stack(list(self._face_pool.map(self.faces.features, [images[i] for i in look])))
            probability[look] = self.detector.probability(head_logits[look], faces[look])
        return probability, np.column_stack([head_logits, faces]).astype(np.float32)

    def explain_detector(self, path: Path, signals: np.ndarray | None = None) -> Explanation:
        """Why the detector judges the picture at `path` as it does (inference/review/detector.py):
        from its indexed `signals` [2 + FACE_FEATURES] where they hold its faces, else computed
        afresh (decoded and embedded as indexing does, its faces searched: about 0.15 s)."""
        if signals is not None and not np.isnan(signals).any():
            return self.detector.explain(signals[:2], signals[2:])
        image = load_image(path, at_least=self.decode_at_least)
        _, heads = self.embed_images(self.preprocess(image)[None])
        return self.detector.explain(heads[0], self.faces.features(image))

    def embed_texts(self, texts: list[str], english: list[bool] | None = None) -> np.ndarray:
        """texts -> text vectors [N, D] (fusion weights included). With a multilingual encoder,
        a text flagged not English (`english` [N], default all English) is read by it alone."""
        return self.embed_queries(texts, english).vectors

    def embed_queries(self, texts: list[str], english: list[bool] | None = None) -> QueryVectors:
        """texts -> their text vectors and, where the model has a multilingual encoder that exports
        them, its own vectors (the content policy's semantic net reads those)."""
        outputs = self._text_session.run(None, self.text_feeds(texts, english))
        where = self._multilingual_output
        return QueryVectors(outputs[0], None if where is None else outputs[where])

    @cached_property
    def _multilingual_output(self) -> int | None:
        """Where the text encoder gives the multilingual encoder's own vectors (None: it does not)."""
        names = [output.name for output in self._text_session.get_outputs()]
        return names.index(MULTILINGUAL_OUTPUT) if MULTILINGUAL_OUTPUT in names else None

    def probabilities(self, text_vectors: np.ndarray, image_vectors: np.ndarray) -> np.ndarray:
        """Calibrated match probabilities [Q, N]."""
        feeds = {
            "text_vectors": text_vectors.astype(np.float32),
            "image_vectors": image_vectors.astype(np.float32),
        }
        return self._head_session.run(None, feeds)[0]
