"""The report's plots, drawn with matplotlib and returned as self-contained ``data:`` URIs (SVG)."""

from __future__ import annotations

import base64
import io

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from .class_scores import ClassAP, Confusion

__all__ = ["metrics_plot", "retention_plot", "confusion_plot", "class_ap_plot"]

_SPLIT_COLOURS = {"train": "#1f77b4", "val": "#ff7f0e", "test": "#2ca02c", "predict": "#9467bd"}
_RETENTION_KEYS = (
    "token_keep_rate",
    "tokens_kept",
    "tokens_total",
    "temporal_keep_rate",
    "spatial_keep_rate",
)
_MAX_PANELS = 12


def _data_uri(figure: Figure) -> str:
    buffer = io.BytesIO()
    # A fixed hash salt and no date keep the SVG identical between runs (reproducible reports).
    with matplotlib.rc_context({"svg.hashsalt": "lvlm-var", "svg.fonttype": "none"}):
        figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _split_and_name(key: str) -> tuple[str, str]:
    split, _, name = key.partition("/")
    return (split, name.removesuffix("_epoch")) if name else ("", key)


def _panels(metrics: dict[str, list[tuple[int, float]]], names: list[str], title: str) -> str | None:
    if not names:
        return None
    columns = min(3, len(names))
    rows = -(-len(names) // columns)
    figure = Figure(figsize=(3.6 * columns, 2.4 * rows), layout="constrained")
    for panel, name in enumerate(names):
        axes = figure.add_subplot(rows, columns, panel + 1)
        for key, series in sorted(metrics.items()):
            split, metric = _split_and_name(key)
            if metric != name or not series:
                continue
            epochs, values = zip(*series, strict=True)
            axes.plot(
                epochs, values, marker="o", markersize=3, label=split or key, color=_SPLIT_COLOURS.get(split)
            )
        axes.set_title(name, fontsize=9)
        axes.set_xlabel("epoch", fontsize=8)
        axes.tick_params(labelsize=7)
        axes.legend(fontsize=7)
    figure.suptitle(title, fontsize=10)
    return _data_uri(figure)


def metrics_plot(metrics: dict[str, list[tuple[int, float]]]) -> str | None:
    """Small multiples of every logged metric over epochs, one panel per name, one line per split."""
    # Step-level keys (``*_step``) repeat their epoch means at a single step per epoch here.
    epoch_keys = [key for key in metrics if not key.endswith("_step")]
    names = sorted({_split_and_name(key)[1] for key in epoch_keys} - set(_RETENTION_KEYS))
    # Scores first (they answer "did it learn"), then the losses.
    names.sort(key=lambda name: ("loss" in name, name))
    return _panels(metrics, names[:_MAX_PANELS], "metrics over epochs")


def retention_plot(metrics: dict[str, list[tuple[int, float]]], test_metrics: dict[str, float]) -> str | None:
    """Token retention over epochs per split, with the test value as a horizontal line."""
    names = [name for name in _RETENTION_KEYS if any(_split_and_name(k)[1] == name for k in metrics)]
    names += [n for n in _RETENTION_KEYS if n not in names and f"test/{n}" in test_metrics]
    if not names:
        return None
    merged = dict(metrics)
    for name in names:
        if f"test/{name}" in test_metrics:
            epochs = [epoch for key, series in metrics.items() for epoch, _ in series] or [0]
            merged[f"test/{name}"] = [
                (min(epochs), test_metrics[f"test/{name}"]),
                (max(epochs), test_metrics[f"test/{name}"]),
            ]
    return _panels(merged, names, "token retention (means per clip)")


def confusion_plot(result: Confusion) -> str:
    """The confusion matrix, rows = true class, columns = top-1 prediction, row-normalised colours."""
    size = max(3.5, 0.32 * len(result.classes) + 1.5)
    figure = Figure(figsize=(size + 1.0, size), layout="constrained")
    axes = figure.add_subplot()
    totals = result.matrix.sum(axis=1, keepdims=True)
    image = axes.imshow(result.matrix / np.maximum(totals, 1), cmap="Blues", vmin=0.0, vmax=1.0)
    ticks = range(len(result.classes))
    axes.set_xticks(ticks, result.classes, rotation=90, fontsize=6)
    axes.set_yticks(ticks, result.classes, fontsize=6)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    if len(result.classes) <= 20:
        for (row, column), count in np.ndenumerate(result.matrix):
            if count:
                axes.text(
                    column,
                    row,
                    str(count),
                    ha="center",
                    va="center",
                    fontsize=6,
                    color="white" if count / max(totals[row, 0], 1) > 0.5 else "black",
                )
    figure.colorbar(image, ax=axes, label="fraction of the true class")
    return _data_uri(figure)


def class_ap_plot(result: ClassAP, shown: int = 40) -> str:
    """Horizontal AP bars, worst first; with more than ``shown`` classes the worst and best halves."""
    ranked = sorted(result.ap.items(), key=lambda item: (item[1], item[0]))
    if len(ranked) > shown:
        ranked = ranked[: shown // 2] + ranked[-(shown // 2) :]
    figure = Figure(figsize=(7.0, 0.22 * len(ranked) + 1.2), layout="constrained")
    axes = figure.add_subplot()
    names = [f"{name} ({result.positives[name]})" for name, _ in ranked]
    values = [value for _, value in ranked]
    axes.barh(range(len(ranked)), values, color=["#d62728" if v < 0.5 else "#1f77b4" for v in values])
    axes.set_yticks(range(len(ranked)), names, fontsize=6)
    axes.set_xlim(0.0, 1.0)
    axes.set_xlabel("average precision (positive clips in brackets)")
    axes.invert_yaxis()
    return _data_uri(figure)
