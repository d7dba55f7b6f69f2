"""The explanation record both methods emit: data first, rendered to text (or plots) afterwards."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["EvidenceStep", "ExplanationRecord"]


@dataclass
class EvidenceStep:
    """One piece of evidence behind a prediction, in temporal order.

    Attributes:
        text: what was seen, e.g. ``"person-box: holding"`` or ``"right hand rises fast"``.
        start: first frame (or time step) where it holds.
        end: last frame where it holds.
        score: confidence / similarity of this step.
    """

    text: str
    start: int
    end: int
    score: float = 1.0


@dataclass
class ExplanationRecord:
    """One clip's prediction and why: one JSONL line of ``ExplanationWriter``.

    Attributes:
        sample_id: the clip / video id.
        method: ``"laiar"`` or ``"lvlm-var"``.
        predictions: top classes as ``[name, score]`` pairs, best first.
        ground_truth: the true class names.
        evidence: ordered evidence steps.
        text: the rendered explanation (LaIAR: transitions per pair; LVLM-VAR: generated text).
        tokens: tokens the model used for this clip (LaIAR: kept relation tokens; LVLM-VAR: narrative
            length in LLM tokens).
    """

    sample_id: str
    method: str
    predictions: list[tuple[str, float]]
    ground_truth: list[str]
    evidence: list[EvidenceStep] = field(default_factory=list)
    text: str = ""
    tokens: int = 0

    def to_json(self) -> dict[str, Any]:
        record = asdict(self)
        record["predictions"] = [[name, float(score)] for name, score in self.predictions]
        return record

    @classmethod
    def from_json(cls, record: dict[str, Any]) -> ExplanationRecord:
        return cls(
            sample_id=record["sample_id"],
            method=record["method"],
            predictions=[(name, float(score)) for name, score in record["predictions"]],
            ground_truth=list(record["ground_truth"]),
            evidence=[EvidenceStep(**step) for step in record.get("evidence", [])],
            text=record.get("text", ""),
            tokens=int(record.get("tokens", 0)),
        )
