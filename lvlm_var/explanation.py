"""What both methods share about explanations: the record (data first, rendered to text afterwards) and
the interface that faithfulness metrics score evidence through.

Schema 2 (``ExplanationRecord.schema``) adds, per explained class, the evidence that carries *that
class's* score and one sentence (:class:`ClassExplanation`). LaIAR's evidence steps are runs of kept
relation tokens on one object (``object``, ``relation``, frames, ``attribution``, ``score`` = joint-space
similarity of the named triplet); LVLM-VAR's are narrative segments (``text`` = the segment's name,
``object`` and ``relation`` empty). Schema-1 records (no ``schema`` key) still read, with no classes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

import torch
from torch import Tensor

__all__ = [
    "SCHEMA_VERSION",
    "CitedEvidence",
    "ClassExplanation",
    "EvidenceScorer",
    "EvidenceStep",
    "ExplanationRecord",
    "select_rows",
]

SCHEMA_VERSION = 2


@dataclass
class EvidenceStep:
    """One piece of evidence behind a prediction, in temporal order.

    Attributes:
        text: what was seen, e.g. ``"person-box: holding"`` or ``"right hand rises fast"``.
        start: first frame (or time step) where it holds.
        end: last frame where it holds.
        score: confidence / similarity of this step (LaIAR: cosine similarity of the named triplet).
        attribution: drop in the explained class's score when this step's units are removed (LaIAR: its
            log-odds; LVLM-VAR: its log-probability, nats), ``None`` where not measured (the record-level
            steps, LVLM-VAR's generated citations).
        object: the object the step is about (LaIAR: ``"box"``; empty for a narrative segment).
        relation: the relation it names (LaIAR: ``"holding"``; empty for a narrative segment).
    """

    text: str
    start: int
    end: int
    score: float = 1.0
    attribution: float | None = None
    object: str = ""
    relation: str = ""


@dataclass
class ClassExplanation:
    """The evidence for one predicted class.

    Attributes:
        name: the class name.
        probability: its predicted probability.
        evidence: the cited steps (attribution above the explainer's threshold), ordered by start.
        sentence: one readable line, e.g. ``"Putting a box somewhere (0.91): person-box holding
            (frames 12-40) -> not_contacting (frames 52-80)"``.
    """

    name: str
    probability: float
    evidence: list[EvidenceStep] = field(default_factory=list)
    sentence: str = ""


@dataclass
class ExplanationRecord:
    """One clip's prediction and why: one JSONL line of ``ExplanationWriter``.

    Attributes:
        sample_id: the clip / video id.
        method: ``"laiar"`` or ``"lvlm-var"``.
        predictions: top classes as ``[name, score]`` pairs, best first.
        ground_truth: the true class names.
        evidence: ordered evidence steps of the whole clip (LaIAR: every kept token named; LVLM-VAR: the
            narrative segments), whatever class they support.
        text: the rendered explanation (the class sentences, one a line; LVLM-VAR: generated text).
        tokens: tokens the model used for this clip (LaIAR: kept relation tokens; LVLM-VAR: narrative
            length in LLM tokens).
        classes: per explained class, its cited evidence and sentence (schema 2).
        schema: the record's schema version.
    """

    sample_id: str
    method: str
    predictions: list[tuple[str, float]]
    ground_truth: list[str]
    evidence: list[EvidenceStep] = field(default_factory=list)
    text: str = ""
    tokens: int = 0
    classes: list[ClassExplanation] = field(default_factory=list)
    schema: int = SCHEMA_VERSION

    def to_json(self) -> dict[str, Any]:
        record = asdict(self)
        record["predictions"] = [[name, float(score)] for name, score in self.predictions]
        return record

    @classmethod
    def from_json(cls, record: dict[str, Any]) -> ExplanationRecord:
        """Read a schema-1 or schema-2 record.

        Raises:
            ValueError: a schema newer than :data:`SCHEMA_VERSION`.
            KeyError, TypeError: a required field is missing or malformed.
        """
        schema = int(record.get("schema", 1))
        if schema > SCHEMA_VERSION:
            raise ValueError(f"explanation record schema {schema}; this version reads up to {SCHEMA_VERSION}")
        return cls(
            sample_id=record["sample_id"],
            method=record["method"],
            predictions=[(name, float(score)) for name, score in record["predictions"]],
            ground_truth=list(record["ground_truth"]),
            evidence=[EvidenceStep(**step) for step in record.get("evidence", [])],
            text=record.get("text", ""),
            tokens=int(record.get("tokens", 0)),
            classes=[
                ClassExplanation(
                    name=item["name"],
                    probability=float(item["probability"]),
                    evidence=[EvidenceStep(**step) for step in item.get("evidence", [])],
                    sentence=item.get("sentence", ""),
                )
                for item in record.get("classes", [])
            ],
            schema=SCHEMA_VERSION,
        )

    def explained(self, name: str) -> ClassExplanation | None:
        """The explanation of class ``name``, ``None`` when that class was not explained."""
        return next((item for item in self.classes if item.name == name), None)


@dataclass
class CitedEvidence:
    """Which units of one batch row an explanation of one class cites: what faithfulness is measured on.

    Attributes:
        row: the row of the batch.
        class_index: the explained class.
        cited: bool mask over the row's units (LaIAR: ``(T, K)`` relation tokens; LVLM-VAR: ``(S,)``
            narrative segments), True for the cited ones.
        candidates: bool mask of the same shape: the units the model used (LaIAR: the kept tokens); the
            random baseline draws from these.
    """

    row: int
    class_index: int
    cited: Tensor
    candidates: Tensor


class EvidenceScorer(Protocol):
    """A model that can re-score a batch from a subset of its own evidence units."""

    def score_with_evidence(self, batch: Any, keep_mask: Tensor) -> Tensor:
        """``(B, C)`` class probabilities when only the units of ``keep_mask`` are used.

        Args:
            batch: a batch of the module's own type.
            keep_mask: ``(B, *unit_shape)`` bool, the units each row may use (a unit outside it is
                really removed, not zeroed).
        """
        ...


def select_rows(batch: dict[str, Any], index: list[int]) -> dict[str, Any]:
    """``batch`` with its rows taken (and repeated) in ``index`` order: tensors along dim 0, lists by
    position; other values as they are."""
    out: dict[str, Any] = {}
    for key, value in batch.items():
        if isinstance(value, Tensor) and value.ndim > 0:
            out[key] = value[torch.as_tensor(index, dtype=torch.long, device=value.device)]
        elif isinstance(value, list | tuple):
            out[key] = [value[i] for i in index]
        else:
            out[key] = value
    return out

