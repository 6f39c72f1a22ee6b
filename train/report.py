"""runs/NAME/report.md with PNG plots: annotation study, training curves,
metrics table and a picture grid of test queries with their best image."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display on servers and CI
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from inference.atomic import atomic_write
from inference.data.dataset import TestSet
from inference.models.preprocess import load_image
from inference.policy import DISCLAIMER, is_restricted_text

GRID_QUERIES = 10


def _save(fig: plt.Figure, path: Path) -> None:
    with atomic_write(path, durable=False) as handle:
        fig.savefig(handle, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)


def plot_annotations(pairs: pd.DataFrame, path: Path) -> None:
    """Expert score histogram and expert mean vs crowd share on pairs both rated."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.5))
    scores = pairs[["e1", "e2", "e3"]].to_numpy().ravel()
    left.hist(scores[~np.isnan(scores)], bins=np.arange(0.5, 5), rwidth=0.8)
    left.set(title="Expert scores (1 no match .. 4 full match)", xlabel="score", ylabel="ratings")
    both = pairs.dropna(subset=["e1", "crowd_share"])
    mean = both[["e1", "e2", "e3"]].mean(axis=1)
    groups = [both["crowd_share"][np.isclose(mean, v)] for v in np.unique(mean)]
    right.boxplot(groups, tick_labels=[f"{v:.2f}" for v in np.unique(mean)])
    right.set(title="Crowd share 'yes' by expert mean", xlabel="expert mean", ylabel="crowd share")
    _save(fig, path)


def plot_history(history: list[dict], path: Path) -> None:
    frame = pd.DataFrame(history)
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.5))
    left.plot(frame["epoch"], frame["loss"])
    left.set(title="Training loss (InfoNCE, first member)", xlabel="epoch")
    for k in (1, 5, 10):
        right.plot(frame["epoch"], frame[f"recall@{k}"], label=f"R@{k}")
    right.set(title="Validation recall (towers only), %", xlabel="epoch")
    right.legend()
    _save(fig, path)


def _tile(ax: plt.Axes, image_path: Path | None, title: str) -> None:
    if image_path is None:
        ax.set_facecolor("#dddddd")
        ax.text(0.5, 0.5, "\n".join(textwrap.wrap(DISCLAIMER, 22)), ha="center", va="center", fontsize=8)
    else:
        ax.imshow(load_image(image_path))
    ax.set_title("\n".join(textwrap.wrap(title, 32)), fontsize=7)
    ax.set_xticks([])
    ax.set_yticks([])


def plot_grid(test: TestSet, scores: np.ndarray, child: np.ndarray, path: Path, seed: int) -> None:
    """Best image for GRID_QUERIES random queries; restricted ones as disclaimer tiles."""
    rng = np.random.default_rng(seed)
    picks = rng.choice(len(test.queries), size=min(GRID_QUERIES, len(test.queries)), replace=False)
    fig, axes = plt.subplots(2, 5, figsize=(14, 7))
    for ax, q in zip(axes.ravel(), picks, strict=False):
        text = test.queries["query_text"].iloc[q]
        best = int(np.argmax(scores[q]))
        if is_restricted_text(text):  # the policy covers texts too: hide the query
            _tile(ax, None, "(restricted query)")
            continue
        image = None if child[best] else test.image_dir / test.images[best]
        _tile(ax, image, f"{text} (p={scores[q, best]:.2f})")
    for ax in axes.ravel()[len(picks) :]:
        ax.axis("off")
    _save(fig, path)


def _table(metrics: dict) -> str:
    rows = ["| model | queries | R@1 | R@5 | R@10 | MRR | median rank |", "|---|---|---|---|---|---|---|"]
    for name in ("model", "baseline"):
        for subset in ("all", "allowed"):
            m = metrics["test"][name][subset]
            rows.append(
                f"| {name} | {subset} ({m['queries']}) | {m['recall@1']:.1f} | {m['recall@5']:.1f} | "
                f"{m['recall@10']:.1f} | {m['mrr']:.3f} | {m['median_rank']:.0f} |"
            )
    rows += ["", "| model | RMSE | Brier | ROC-AUC | Kendall tau | pairs |", "|---|---|---|---|---|---|"]
    for name in ("model", "baseline"):
        v = metrics["validation"][name]
        rows.append(
            f"| {name} | {v['rmse']:.3f} | {v['brier']:.3f} | {v['roc_auc']:.3f} | "
            f"{v['kendall_tau']:.3f} | {v['pairs']} |"
        )
    return "\n".join(rows)


def detector_table(report: dict) -> str:
    """Markdown: each signal's recall and blocked shares at its own 97%-recall threshold."""
    rows = [
        f"| {name} | {r['test_recall_pct']:.1f}% | {r['test_other_blocked_pct']:.1f}% | "
        f"{r['people_free_blocked']} of {r['people_free_photos']} |"
        for name, r in report["signals"].items()
    ]
    return (
        f"Fitted on {report['train_images']} train images and {report['negatives']} people-free photos; "
        f"each signal's threshold keeps 97% of child train images out of fold (combined: "
        f"{report['threshold']:.3f}). Test images read as a folder without captions "
        f"({report['test_child_images']} of {report['test_images']} show children by their captions); "
        "people-free photos held out of training (package sample photos).\n\n"
        "| signal | child test images withheld | other test images withheld | people-free photos withheld |\n"
        "|---|---|---|---|\n" + "\n".join(rows)
    )


def _penalty(fusion: dict) -> str:
    if not fusion["bank_strength"]:
        return "off"
    return f"strength {fusion['bank_strength']}, temperature {fusion['bank_temperature']}"


def steps_table(fusion_table: list) -> str:
    """Markdown rows for the fusion steps of one run, from its `fusion_table` rows
    (bridge weight, penalty strength, temperature, Flickr, beyond Flickr or None)."""

    def objective(row) -> float:
        return row[3] if row[4] is None else (row[3] + row[4]) / 2

    alone = [r for r in fusion_table if r[0] == 100 and r[1] == 0]  # NATIVE_FUSION_GRID's end
    steps = [
        ("towers alone", [r for r in fusion_table if r[0] == 0 and r[1] == 0]),
        ("the backbone alone (towers at 1%)", alone),
        ("+ label bridge (weight on validation)", [r for r in fusion_table if r[1] == 0]),
        ("+ hub penalty: query-bank normalisation over training captions", fusion_table),
    ]
    lines = [
        "| step | bridge weight | penalty | Flickr | beyond Flickr | objective |",
        "|---|---|---|---|---|---|",
    ]
    for name, rows in steps:
        if not rows:
            continue
        best = max(rows, key=objective)
        penalty = f"{best[1]} at T {best[2]}" if best[1] else "off"
        beyond = "-" if best[4] is None else f"{best[4]:.1f}"
        figures = f"{best[3]:.1f} | {beyond} | {objective(best):.2f}"
        lines.append(f"| {name} | {best[0]:.1f} | {penalty} | {figures} |")
    return "\n".join(lines)


def write_report(out_dir: Path, metrics: dict, test: TestSet, scores, child, pairs, seed=0) -> Path:
    """Write the plots and report.md into out_dir; returns the report's path."""
    plot_annotations(pairs, out_dir / "annotations.png")
    plot_history(metrics["history"], out_dir / "training.png")
    plot_grid(test, scores, child, out_dir / "examples.png", seed)
    study = "\n".join(f"| {k} | {v:.3f} |" for k, v in metrics["annotation_study"].items())
    policy = "\n".join(f"| {k} | {v} |" for k, v in metrics["policy_counts"].items())
    detector = detector_table(metrics["detector"])
    cfg, fitted = metrics["config"], metrics["fitted"]
    fusion, calibration = fitted["fusion"], fitted["calibration"]
    text = f"""# Training report

## Annotation study
| figure | value |
|---|---|
{study}

![annotations](annotations.png)

Target = 0.75 x (expert mean - 1) / 3 + 0.25 x crowd share where both rated, else
whichever exists (see `train/targets.py` for why).

## Content policy
| count | value |
|---|---|
{policy}

## Training
Towers: {cfg["members"]} members x {cfg["embed_dim"]} dims; fused score = {fusion["tower_weight"]:.3f} x tower
+ {fusion["bridge_weight"]:.3f} x bridge - the image's hub penalty ({_penalty(fusion)});
probability = sigmoid({calibration["scale"]:.3f} x score + {calibration["bias"]:.3f}).

### What each part gives on validation
Mean of R@1, R@5 and R@10 in percent; Flickr: held-out train images' captions;
beyond Flickr: `train/beyond_flickr.py`'s queries over wallpaper photos mixed
into them. Each row keeps the one before and is chosen by the mean of both.
Steps that need a training run of their own (a second backbone, class texts,
other captions...) are in the README's "Search quality" table.

{steps_table(metrics["fusion_table"])}

![training](training.png)

## Metrics
Test: Recall@K in percent over all test images; "allowed" = queries whose text
and own image the policy allows. Validation: pairs of held-out images
(cross-fitted calibration), ROC-AUC for "experts say it matches" (mean >= 3).

{_table(metrics)}

## Child-image detector (images without captions)
{detector}

## Best image for 10 random test queries
![examples](examples.png)
"""
    path = out_dir / "report.md"
    with atomic_write(path, durable=False) as handle:
        handle.write(text.encode())
    return path


def write_json(path: Path, data: object) -> None:
    """`data` as indented JSON at `path`, written atomically."""
    with atomic_write(path, durable=False) as handle:
        handle.write(json.dumps(data, indent=2, default=str).encode())
