"""`run`: the whole training job from a RunConfig to runs/NAME/{model.pt,metrics.json,report.md}."""

from __future__ import annotations

import sys
from dataclasses import asdict, dataclass, replace
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from inference.data.dataset import TestSet, load_test_set
from inference.engine.evaluate import rank_test_set, ranks_from_scores, test_set_policy
from inference.models.config import (
    Calibration,
    Fusion,
    ImageEncoderSpec,
    ModelConfig,
    is_openclip,
)
from inference.store.projection import Projection
from train.baseline import baseline_pair_scores, baseline_scores, train_baseline
from train.beyond_flickr import dev_set
from train.calibration import (
    FUSION_GRID,
    NATIVE_FUSION_GRID,
    FusionSet,
    calibrate,
    no_match_threshold,
    tune_fusion,
)
from train.checkpoint import Checkpoint, DetectorWeights, save_checkpoint
from train.child_images import DetectorRun, train_child_detector
from train.config import RunConfig
from train.data import load_captions, load_other_captions
from train.encoders import build_image_encoder, image_spec, text_model_dir
from train.features import served_features
from train.multilingual import multilingual_validation
from train.pairs import allowed_only, positives_for, val_retrieval
from train.people_free import wallpapers
from train.prepare import Prepared, prepare, subset
from train.query_net import QueryNetRun, fit_query_net
from train.report import write_json
from train.run_features import Features, compute_features, sentence_features
from train.scorer import Scorer, pair_metrics, pair_scores
from train.targets import annotation_study
from train.towers import PositivePairs, train_ensemble
from train.use_encoder import EMBED_DIM as MULTILINGUAL_DIM


def _val_pairs(prep, feats, image_row):
    """Allowed validation pairs: scored pairs plus own captions not scored (target 1)."""
    scored = allowed_only(prep.pairs)
    scored = scored[scored["split"] == "val"]
    own = allowed_only(prep.captions)
    scored_keys = pd.MultiIndex.from_frame(scored[["image", "query_id"]])
    already = pd.MultiIndex.from_frame(own[["image", "query_id"]]).isin(scored_keys)
    own = own[(own["split"] == "val") & ~already]
    own = own.assign(target=1.0, e1=np.nan, e2=np.nan, e3=np.nan)
    frame = pd.concat([scored, own], ignore_index=True)
    return frame, frame["image"].map(image_row).to_numpy(), frame["query_text"].map(feats.text_row).to_numpy()


@dataclass(frozen=True)
class TrainingData:
    """The prepared data set and its cached features, as every step reads them."""

    prep: Prepared
    test: TestSet
    feats: Features
    image_row: dict[str, int]  # train image name -> feature row
    val_rows: np.ndarray  # [M] feature rows of the validation images
    val_text: np.ndarray  # [Q] text rows of their allowed captions
    val_owner: np.ndarray  # [Q] each caption's image among val_rows
    positives: PositivePairs  # allowed (image, caption) pairs the towers learn from
    test_child: np.ndarray  # [N_test] child label of each test image, from its captions

    @property
    def served(self) -> tuple[np.ndarray, np.ndarray]:
        """Pooled features [N, F] and ImageNet logits [N, 1000] as serving computes them."""
        return self.feats.served


@dataclass(frozen=True)
class CalibrationRun:
    """The calibration fitted on validation pairs, with the figures that judge it."""

    calibration: Calibration  # scale, bias and the "no good match" level, as served
    oof: np.ndarray  # [P] out-of-fold probabilities of the validation pairs
    val_pairs: pd.DataFrame
    pair_rows: tuple[np.ndarray, np.ndarray]  # (image rows, text rows) of val_pairs
    no_match: dict  # the "no good match" level and its validation figures


def run(cfg: RunConfig) -> dict:
    """The training job, step by step."""
    data = load_data(cfg)
    text_dim = data.feats.sentences.shape[1]
    english_dim = text_dim - MULTILINGUAL_DIM if cfg.multilingual_model else 0
    config = ModelConfig(
        image=cfg_spec(cfg),
        text_model=cfg.text_model,
        text_dim=text_dim,
        multilingual_model=cfg.multilingual_model,
        english_text_dim=english_dim,
    )
    config = replace(config, members=cfg.members) if cfg.members else config
    towers, history = train_towers(cfg, config, data)
    scorer = Scorer(towers, config, data.feats.class_embeddings, query_bank(data))
    fusion, fusion_table = fuse(cfg, scorer, data)
    scorer = scorer.with_fusion(fusion)
    calibration = calibrate_scores(scorer, data)
    scorer = scorer.with_calibration(calibration.calibration)
    detector = fit_child_detector(cfg, data)
    query_net = fit_semantic_net(cfg, data) if cfg.multilingual_model else None
    metrics, model_test = evaluate(cfg, scorer, data, calibration, detector, history, fusion_table)
    if query_net is not None:
        metrics["query_net"] = query_net.report
    save_run(cfg, scorer, data, detector, metrics, model_test, query_net)
    return metrics


def load_data(cfg: RunConfig) -> TrainingData:
    """Prepare the data set (targets, content policy, split) and its features."""
    prep = prepare(cfg.data_dir, cfg.validation_share, cfg.seed)
    if cfg.max_train_images:
        prep = subset(prep, cfg.max_train_images, cfg.seed)
    test = load_test_set(cfg.data_dir)
    feats = compute_features(cfg, prep, test)
    image_row = {name: i for i, name in enumerate(prep.train_set.images)}
    val_rows, val_text, val_owner = val_retrieval(prep, feats, image_row)
    positives = positives_for(prep, feats, image_row)
    _, test_child = test_set_policy(test)
    return TrainingData(prep, test, feats, image_row, val_rows, val_text, val_owner, positives, test_child)


def train_towers(cfg: RunConfig, config: ModelConfig, data: TrainingData):
    """The tower ensemble, trained on allowed positive pairs; (towers, history)."""
    positives = data.positives
    print(
        f"training on {len(positives.image_index)} positive pairs, "
        f"validating on {len(data.val_text)} captions of {len(data.val_rows)} images",
        file=sys.stderr,
    )
    pooled, _ = data.served
    validation = (pooled[data.val_rows], data.feats.sentences[data.val_text], data.val_owner)
    return train_ensemble(
        config, data.feats.train_pooled, data.feats.sentences, positives, validation, cfg.towers, cfg.seed
    )


def fuse(cfg: RunConfig, scorer: Scorer, data: TrainingData) -> tuple[Fusion, list]:
    """Towers + label bridge weights and the hub penalty, tuned on validation retrieval,
    Flickr's and (where its photos are installed) beyond Flickr's; (the fusion chosen, the
    grid's table)."""
    pooled, logits = data.served
    gallery = pooled[data.val_rows], logits[data.val_rows]
    flickr = _fusion_set(scorer, *gallery, data.feats.sentences[data.val_text], data.val_owner)
    grid = NATIVE_FUSION_GRID if scorer.config.native_bridge else FUSION_GRID
    fusion, table = tune_fusion(flickr, _beyond_flickr(cfg, scorer, data), grid)
    # served as one more vector column (train/model.py ServedScore): scaled like the other
    # columns so that int8 codes (inference/store/vectors.py) keep it as precisely
    fused = scorer.with_fusion(fusion)
    penalty = fused.penalty(*gallery)
    if penalty.any():
        largest = np.abs(fused.image_parts(*gallery)).max(axis=1)
        fusion = replace(fusion, penalty_scale=float(np.median(penalty) / np.median(largest)))
    return fusion, table


def query_bank(data: TrainingData) -> np.ndarray:
    """Sentence embeddings [B, 384] of the allowed captions of training-split images: the
    bank the hub penalty measures each image against (validation images' captions kept out)."""
    captions = data.prep.captions
    allowed = ~captions["text_restricted"] & ~captions["image_restricted"]
    kept = captions[(captions["split"] == "train") & allowed]
    return data.feats.sentences[[data.feats.text_row[text] for text in kept["query_text"]]]


def _fusion_set(scorer: Scorer, pooled, logits, sentences, owner) -> FusionSet:
    tower, bridge = scorer.parts(pooled, logits, sentences)
    bank_tower, bank_bridge = scorer.parts(pooled, logits, scorer.bank)
    return FusionSet(tower, bridge, owner, bank_tower, bank_bridge)


def _beyond_flickr(cfg: RunConfig, scorer: Scorer, data: TrainingData) -> FusionSet | None:
    """The queries of train/beyond_flickr.py over their wallpapers mixed with the Flickr
    validation images; None where not installed."""
    dev = dev_set(wallpapers(cfg.cache_dir.parent / "people_free"))
    if dev is None:
        print(
            "fusion tuned on Flickr validation only: no wallpaper photos (scripts/fetch_people_free.sh)",
            file=sys.stderr,
        )
        return None
    if dev.missing:
        # a package update can rename a wallpaper: say so rather than tune on fewer queries unseen
        print(
            f"beyond-Flickr dev set: {len(dev.queries)} of {len(dev.queries) + len(dev.missing)} queries; "
            f"photos not installed: {', '.join(dev.missing)}",
            file=sys.stderr,
        )
    spec = cfg_spec(cfg)
    encoder = partial(build_image_encoder, spec)
    photo_pooled, photo_logits = served_features(dev.photos, spec, encoder, cfg.cache_dir)
    pooled, logits = data.served
    gallery_pooled = np.concatenate([photo_pooled, pooled[data.val_rows]])
    gallery_logits = np.concatenate([photo_logits, logits[data.val_rows]])
    sentences = sentence_features(cfg, dev.queries)
    return _fusion_set(scorer, gallery_pooled, gallery_logits, sentences, dev.owner)


def calibrate_scores(scorer: Scorer, data: TrainingData) -> CalibrationRun:
    """Fused score -> probability on validation pairs (cross-fitted), and the level
    under which the app says "no good match"."""
    pooled, logits = data.served
    val_pairs, pair_img, pair_txt = _val_pairs(data.prep, data.feats, data.image_row)
    scores = pair_scores(scorer, pooled, logits, data.feats.sentences, pair_img, pair_txt)
    scale, bias, oof = calibrate(scores, val_pairs["target"].to_numpy(), pair_img)
    calibrated = scorer.with_calibration(Calibration(scale, bias))
    val_sentences = data.feats.sentences[data.val_text]
    val_probabilities = calibrated.probabilities(pooled[data.val_rows], logits[data.val_rows], val_sentences)
    level, no_match = no_match_threshold(val_probabilities, data.val_owner)
    return CalibrationRun(Calibration(scale, bias, level), oof, val_pairs, (pair_img, pair_txt), no_match)


def fit_child_detector(cfg: RunConfig, data: TrainingData) -> DetectorRun:
    """The child-image detector for galleries without captions (train/child_images.py)."""
    pooled, _ = data.served
    return train_child_detector(
        data.prep,
        data.test,
        pooled,
        data.feats.test_pooled,
        data.test_child,
        cfg_spec(cfg),
        cfg.cache_dir,
        cfg.detector_recall,
        cfg.seed,
    )


def fit_semantic_net(cfg: RunConfig, data: TrainingData) -> QueryNetRun:
    """The content policy's semantic net on query vectors (train/query_net.py): from the run's
    captions, the data set's other captions (a full run only: 35,000 texts to embed) and our
    translations of training captions."""
    captions = data.prep.captions["query_text"].str.strip().tolist()
    others = [] if cfg.max_train_images else load_other_captions(cfg.data_dir)
    train_captions = load_captions(cfg.data_dir)
    originals = dict(zip(train_captions["query_id"], train_captions["query_text"], strict=True))
    return fit_query_net(captions, others, originals, cfg.cache_dir)


def evaluate(
    cfg: RunConfig,
    scorer: Scorer,
    data: TrainingData,
    calibration: CalibrationRun,
    detector: DetectorRun,
    history: list,
    fusion_table: list,
):
    """Every figure of the run, the model beside the baseline; (metrics, test probabilities [Q, N])."""
    feats, test = data.feats, data.test
    query_sent = feats.sentences[test.queries["query_text"].map(feats.text_row).to_numpy()]
    model_test = scorer.probabilities(feats.test_pooled, feats.test_logits, query_sent)
    base = _baseline(data.prep, feats, data.image_row, cfg.seed)
    pair_img, pair_txt = calibration.pair_rows
    base_val = baseline_pair_scores(base, data.served[0][pair_img], feats.sentences[pair_txt])
    base_test = baseline_scores(base, feats.test_pooled, query_sent)
    metrics = {
        "config": scorer.config.to_dict(),
        "fitted": scorer.fitted.to_dict(),
        "run": {k: str(v) for k, v in asdict(cfg).items()},
        "annotation_study": annotation_study(data.prep.train_set.pairs),
        "policy_counts": data.prep.counts,
        "positives": int(len(data.positives.image_index)),
        "fusion_table": fusion_table,
        "history": history,
        "validation": {
            "model": pair_metrics(calibration.oof, calibration.val_pairs),
            "baseline": pair_metrics(base_val, calibration.val_pairs),
        },
        "test": {
            "model": rank_test_set(ranks_from_scores(model_test, test), test),
            "baseline": rank_test_set(ranks_from_scores(base_test, test), test),
        },
        "detector": detector.report,
        "no_match": calibration.no_match,
    }
    if scorer.config.multilingual_model:
        metrics["languages"] = _languages(cfg, scorer, data)
    return metrics, model_test


def _languages(cfg: RunConfig, scorer: Scorer, data: TrainingData) -> dict:
    """Validation figures of translated captions, per language (train/multilingual.py)."""
    pooled, logits = data.served
    val = allowed_only(data.prep.captions)
    val = val[val["split"] == "val"]
    images = sorted(set(val["image"]))
    rows = [data.image_row[name] for name in images]
    captions = val.set_index("query_id")["query_text"]
    return multilingual_validation(
        scorer,
        (pooled[rows], logits[rows]),
        images,
        captions,
        lambda texts: sentence_features(cfg, texts),
        cfg.cache_dir,
    )


def save_run(
    cfg: RunConfig,
    scorer: Scorer,
    data: TrainingData,
    detector,
    metrics: dict,
    model_test,
    query_net: QueryNetRun | None = None,
) -> None:
    """runs/NAME/: model.pt with the tokenizer beside it, metrics.json, report.md and its plots."""
    fitted = detector.fitted
    checkpoint = Checkpoint(
        config=scorer.config,
        fitted=scorer.fitted,
        towers=scorer.towers.state_dict(),
        class_embeddings=data.feats.class_embeddings,
        detector=DetectorWeights(
            fitted.head_weights,
            fitted.head_bias,
            fitted.params.to_dict(),
            str(detector.face_models_dir),
        ),
        query_bank=scorer.bank,
        metrics={"test": metrics["test"], "validation": metrics["validation"]},
        query_net=None if query_net is None else query_net.net.to_dict(),
        projection=fit_projection(scorer, data),
    )
    save_checkpoint(cfg.out_dir, checkpoint, tokenizer_source(cfg))
    write_json(cfg.out_dir / "metrics.json", metrics)
    from train.report import write_report

    write_report(
        cfg.out_dir, metrics, data.test, model_test, data.test_child, data.prep.train_set.pairs, cfg.seed
    )


def fit_projection(scorer: Scorer, data: TrainingData) -> Projection:
    """The principal axes of the served image vectors of every training and test photo: fitted
    once with the model, so every process sharing a vector store projects alike."""
    feats = data.feats
    vectors = [scorer.image_vectors(*data.served), scorer.image_vectors(feats.test_pooled, feats.test_logits)]
    return Projection.fit(np.concatenate(vectors))


def cfg_spec(cfg: RunConfig) -> ImageEncoderSpec:
    return image_spec(cfg.image_encoder, cfg.image_weights)


def tokenizer_source(cfg: RunConfig) -> Path:
    """The folder of the text side's tokenizer files, copied into the run."""
    if is_openclip(cfg.text_model):
        from train.openclip import tokenizer_folder

        return tokenizer_folder(cfg.text_model, cfg.cache_dir)
    return text_model_dir(cfg.text_model)


def _baseline(prep, feats, image_row, seed):
    train_pairs = allowed_only(prep.pairs)
    train_pairs = train_pairs[train_pairs["split"] == "train"]
    rows = train_pairs["image"].map(image_row).to_numpy()
    texts = train_pairs["query_text"].map(feats.text_row).to_numpy()
    return train_baseline(
        feats.served[0][rows], feats.sentences[texts], train_pairs["target"].to_numpy(), seed
    )
