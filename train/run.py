"""`run`: the whole training job from a RunConfig to runs/NAME/{model.pt,metrics.json,report.md}."""

from __future__ import annotations

import sys
from dataclasses import asdict

import numpy as np
import pandas as pd
from scipy.special import expit

from inference.dataset import load_test_set
from inference.evaluate import rank_test_set, ranks_from_scores, test_set_policy
from train.baseline import baseline_pair_scores, baseline_scores, train_baseline
from train.calibration import calibrate, no_match_threshold, tune_fusion
from train.child_images import train_child_detector
from train.encoders import ImageEncoderSpec
from train.model import ModelConfig
from train.pipeline import (
    RunConfig,
    Scorer,
    allowed_only,
    compute_features,
    pair_metrics,
    pair_scores,
    positives_for,
    save_checkpoint,
    val_retrieval,
    write_json,
)
from train.prepare import prepare, subset
from train.targets import annotation_study
from train.towers import train_ensemble


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


def run(cfg: RunConfig) -> dict:
    prep = prepare(cfg.data_dir, cfg.validation_share, cfg.seed)
    if cfg.max_train_images:
        prep = subset(prep, cfg.max_train_images, cfg.seed)
    test = load_test_set(cfg.data_dir)
    feats = compute_features(cfg, prep, test)
    image_row = {name: i for i, name in enumerate(prep.train_set.images)}
    center_pooled, center_logits = feats.train_pooled[0], feats.train_logits[0]

    config = ModelConfig(
        image=cfg_spec(cfg), text_model_dir=str(cfg.text_model_dir), text_dim=feats.sentences.shape[1]
    )
    if cfg.members:
        config = config.updated(members=cfg.members)
    val_rows, val_text, val_owner = val_retrieval(prep, feats, image_row)
    validation = (center_pooled[val_rows], feats.sentences[val_text], val_owner)
    positives = positives_for(prep, feats, image_row)
    print(
        f"training on {len(positives.image_index)} positive pairs, "
        f"validating on {len(val_text)} captions of {len(val_rows)} images",
        file=sys.stderr,
    )
    towers, history = train_ensemble(
        config, feats.train_pooled, feats.sentences, positives, validation, cfg.towers, cfg.seed
    )

    scorer = Scorer(towers, config, feats.class_embeddings)
    tower_val, bridge_val = scorer.parts(center_pooled[val_rows], center_logits[val_rows], validation[1])
    tower_w, bridge_w, fusion_table = tune_fusion(tower_val, bridge_val, val_owner)
    scorer.config = config = config.updated(tower_weight=tower_w, bridge_weight=bridge_w)

    val_pairs, vp_img, vp_txt = _val_pairs(prep, feats, image_row)
    vp_scores = pair_scores(scorer, center_pooled, center_logits, feats.sentences, vp_img, vp_txt)
    scale, bias, oof = calibrate(vp_scores, val_pairs["target"].to_numpy(), vp_img)
    scorer.config = config = config.updated(calib_scale=scale, calib_bias=bias)
    val_fused = scorer.fused(center_pooled[val_rows], center_logits[val_rows], validation[1])
    no_match_below, no_match = no_match_threshold(expit(scale * val_fused + bias), val_owner)
    config = config.updated(no_match_below=no_match_below)

    _, test_child = test_set_policy(test)
    detector = train_child_detector(
        prep,
        test,
        center_pooled,
        feats.test_pooled,
        test_child,
        cfg_spec(cfg),
        cfg.cache_dir,
        cfg.detector_recall,
        cfg.seed,
    )
    config = config.updated(child_threshold=detector.fitted.params.threshold)

    query_sent = feats.sentences[test.queries["query_text"].map(feats.text_row).to_numpy()]
    model_test = expit(scale * scorer.fused(feats.test_pooled, feats.test_logits, query_sent) + bias)

    base = _baseline(prep, feats, image_row, cfg.seed)
    base_val = baseline_pair_scores(base, center_pooled[vp_img], feats.sentences[vp_txt])
    base_test = baseline_scores(base, feats.test_pooled, query_sent)

    metrics = {
        "config": config.to_dict(),
        "run": {k: str(v) for k, v in asdict(cfg).items()},
        "annotation_study": annotation_study(prep.train_set.pairs),
        "policy_counts": prep.counts,
        "positives": int(len(positives.image_index)),
        "fusion_table": fusion_table,
        "history": history,
        "validation": {"model": pair_metrics(oof, val_pairs), "baseline": pair_metrics(base_val, val_pairs)},
        "test": {
            "model": rank_test_set(ranks_from_scores(model_test, test), test),
            "baseline": rank_test_set(ranks_from_scores(base_test, test), test),
        },
        "detector": detector.report,
        "no_match": no_match,
    }
    cfg.out_dir.mkdir(parents=True, exist_ok=True)
    save_checkpoint(
        cfg.out_dir / "model.pt",
        {
            "config": config.to_dict(),
            "towers": towers.state_dict(),
            "class_embeddings": feats.class_embeddings,
            "detector": {
                "head_weight": detector.fitted.head_weights,
                "head_bias": detector.fitted.head_bias,
                "combiner": detector.fitted.params.to_dict(),
                "face_models_dir": str(detector.face_models_dir),
            },
            "metrics": {"test": metrics["test"], "validation": metrics["validation"]},
        },
    )
    write_json(cfg.out_dir / "metrics.json", metrics)
    from train.report import write_report

    write_report(cfg.out_dir, metrics, test, model_test, test_child, prep.train_set.pairs, cfg.seed)
    return metrics


def cfg_spec(cfg: RunConfig) -> ImageEncoderSpec:
    return ImageEncoderSpec(cfg.image_encoder, cfg.image_weights)


def _baseline(prep, feats, image_row, seed):
    train_pairs = allowed_only(prep.pairs)
    train_pairs = train_pairs[train_pairs["split"] == "train"]
    rows = train_pairs["image"].map(image_row).to_numpy()
    texts = train_pairs["query_text"].map(feats.text_row).to_numpy()
    return train_baseline(
        feats.train_pooled[0][rows], feats.sentences[texts], train_pairs["target"].to_numpy(), seed
    )
