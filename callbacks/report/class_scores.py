"""Per-class numbers of the report, computed from the explanation records alone."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .clip_view import ClipView

__all__ = ["Confusion", "ClassAP", "is_single_label", "confusion", "class_average_precision"]


def is_single_label(views: list[ClipView]) -> bool:
    """Every clip has exactly one true class (NTU, NW-UCLA), so a confusion matrix is defined."""
    return bool(views) and all(len(view.ground_truth) == 1 for view in views)


@dataclass
class Confusion:
    """Counts ``matrix[true, predicted]`` over ``classes`` and per-class recall.

    Attributes:
        classes: every class that is a truth or a top-1 prediction, sorted.
        matrix: ``(C, C)`` int counts.
        recall: ``{class: (correct, clips)}`` for every true class.
    """

    classes: list[str]
    matrix: np.ndarray
    recall: dict[str, tuple[int, int]]

    def worst(self, count: int = 3) -> list[tuple[str, int, int]]:
        """The ``count`` true classes with the lowest recall: ``(name, correct, clips)``."""
        ranked = sorted(self.recall.items(), key=lambda item: (item[1][0] / item[1][1], item[0]))
        return [(name, hits, total) for name, (hits, total) in ranked[:count]]


def confusion(views: list[ClipView]) -> Confusion:
    """The confusion matrix of top-1 predictions of single-label clips."""
    classes = sorted({v.ground_truth[0] for v in views} | {v.predicted for v in views if v.predicted})
    index = {name: i for i, name in enumerate(classes)}
    matrix = np.zeros((len(classes), len(classes)), dtype=np.int64)
    for view in views:
        if view.predicted is not None:
            matrix[index[view.ground_truth[0]], index[view.predicted]] += 1
    recall = {
        name: (int(matrix[i, i]), int(matrix[i].sum()))
        for i, name in enumerate(classes)
        if matrix[i].sum() > 0
    }
    return Confusion(classes, matrix, recall)


@dataclass
class ClassAP:
    """Average precision per class over the clips of the records.

    Attributes:
        ap: ``{class: AP}`` of every class with at least one positive clip.
        positives: ``{class: positive clips}``.
        complete: every record scores every class, so the APs are exact; otherwise a class outside a
            clip's listed predictions counts as ranked below every listed score (a lower bound, which the
            report says, with the fix: a larger ``explain.top_k``).
        listed: the most predictions any record lists.
    """

    ap: dict[str, float]
    positives: dict[str, int]
    complete: bool
    listed: int

    def worst(self, count: int = 5) -> list[tuple[str, float]]:
        return sorted(self.ap.items(), key=lambda item: (item[1], item[0]))[:count]


def _average_precision(scores: np.ndarray, positive: np.ndarray) -> float:
    order = np.argsort(-scores, kind="stable")
    hits = positive[order]
    precision_at = np.cumsum(hits) / np.arange(1, len(hits) + 1)
    return float((precision_at * hits).sum() / hits.sum())


def class_average_precision(views: list[ClipView]) -> ClassAP:
    """Per-class AP of multi-label clips from the scores the records list."""
    classes = sorted(
        {name for v in views for name in v.ground_truth} | {n for v in views for n, _ in v.predictions}
    )
    listed = max((len(v.predictions) for v in views), default=0)
    scores = np.full((len(views), len(classes)), -np.inf)
    positive = np.zeros((len(views), len(classes)))
    index = {name: i for i, name in enumerate(classes)}
    for row, view in enumerate(views):
        for name, score in view.predictions:
            scores[row, index[name]] = score
        for name in view.ground_truth:
            positive[row, index[name]] = 1.0
    ap = {
        name: _average_precision(scores[:, i], positive[:, i])
        for i, name in enumerate(classes)
        if positive[:, i].sum() > 0
    }
    return ClassAP(
        ap=ap,
        positives={name: int(positive[:, index[name]].sum()) for name in ap},
        complete=bool(np.isfinite(scores).all()),
        listed=listed,
    )
