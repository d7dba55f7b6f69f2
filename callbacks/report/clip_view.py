"""One explanation record as the report shows it, whatever its schema.

Schema 1 (no ``schema`` field): ``predictions`` are ``[name, score]`` pairs and ``evidence`` is one list
of steps ``{"text", "start", "end", "score"}``. Schema 2 adds per predicted class evidence and a
sentence; it is read from a prediction given as a dict (``name`` / ``class``, ``score``, ``evidence`` or
``steps``, ``sentence``) or from ``evidence`` given as ``{class name: [steps]}``. Whatever is absent stays
empty, so a record of either schema renders.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Step", "ClipView", "clip_view"]


@dataclass(frozen=True)
class Step:
    """One evidence step: what was seen from frame (or token step) ``start`` to ``end``."""

    text: str
    start: int
    end: int
    score: float | None = None


@dataclass
class ClipView:
    """What a card needs of one record.

    Attributes:
        sample_id: the clip / video id.
        method: ``"laiar"``, ``"lvlm-var"`` or what the record says.
        predictions: ``(name, score)`` best first.
        ground_truth: the true class names.
        steps: every evidence step of the clip.
        cited: the steps the explanation of the top prediction cites (schema 2), else empty.
        sentence: the explanation text (schema 2's sentence, or schema 1's ``text``).
    """

    sample_id: str
    method: str
    predictions: list[tuple[str, float]]
    ground_truth: list[str]
    steps: list[Step] = field(default_factory=list)
    cited: list[Step] = field(default_factory=list)
    sentence: str = ""

    @property
    def predicted(self) -> str | None:
        return self.predictions[0][0] if self.predictions else None

    @property
    def correct(self) -> bool:
        """Top-1 prediction among the true classes (single-label: equal to the truth)."""
        return self.predicted is not None and self.predicted in self.ground_truth


def _step(raw: Any) -> Step | None:
    if not isinstance(raw, dict):
        return None
    try:
        start, end = int(raw.get("start", 0)), int(raw.get("end", raw.get("start", 0)))
    except (TypeError, ValueError):
        return None
    score = raw.get("score")
    return Step(
        str(raw.get("text", raw.get("name", ""))),
        start,
        max(start, end),
        float(score) if isinstance(score, int | float) else None,
    )


def _steps(raw: Any) -> list[Step]:
    return [step for step in map(_step, raw if isinstance(raw, list) else []) if step is not None]


def clip_view(record: dict[str, Any]) -> ClipView:
    """Read one explanation record (schema 1 or 2) into a :class:`ClipView`."""
    predictions: list[tuple[str, float]] = []
    per_class: dict[str, list[Step]] = {}
    sentences: dict[str, str] = {}
    for entry in record.get("predictions") or []:
        if isinstance(entry, dict):
            name = str(entry.get("name", entry.get("class", "")))
            score = entry.get("score", 0.0)
            per_class[name] = _steps(entry.get("evidence", entry.get("steps")))
            if isinstance(entry.get("sentence"), str):
                sentences[name] = entry["sentence"]
        elif isinstance(entry, list | tuple) and len(entry) >= 2:
            name, score = str(entry[0]), entry[1]
        else:
            continue
        predictions.append((name, float(score) if isinstance(score, int | float) else 0.0))
    evidence = record.get("evidence")
    if isinstance(evidence, dict):
        per_class.update({str(name): _steps(steps) for name, steps in evidence.items()})
        steps = [step for class_steps in per_class.values() for step in class_steps]
    else:
        steps = _steps(evidence) + [s for class_steps in per_class.values() for s in class_steps]
    top = predictions[0][0] if predictions else ""
    sentence = sentences.get(top) or record.get("sentence") or record.get("text") or ""
    ground_truth = record.get("ground_truth") or []
    return ClipView(
        sample_id=str(record.get("sample_id", "?")),
        method=str(record.get("method", "")),
        predictions=predictions,
        ground_truth=[
            str(name) for name in (ground_truth if isinstance(ground_truth, list) else [ground_truth])
        ],
        steps=sorted(set(steps), key=lambda s: (s.start, s.end, s.text)),
        cited=per_class.get(top, []),
        sentence=str(sentence),
    )
