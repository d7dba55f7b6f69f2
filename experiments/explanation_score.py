"""How often LaIAR's explanations name the relation transition that really makes an action (synthetic data).

Every synthetic action label is one contacting-relation change on one object (``synthetic_truth.json``,
written by ``datamodules.synthetic.scene_graphs``). An explanation *names the pair* of such a label when
its evidence for that object holds a step of ``relation_before`` and a later step of ``relation_after``:
among the record's evidence steps whose text is ``"person-<object>: <relation>"`` there are steps ``a``
(relation ``relation_before``) and ``b`` (relation ``relation_after``) with ``b.start > a.start``. The rate
is taken over the correctly predicted labels: a true action that is among the record's top ``n``
predictions, ``n`` being the number of true actions of the video.

Schema-2 records are scored on the evidence cited *for that action* (``ExplanationRecord.classes``), and
the object must also be the one its sentence is about (the cited object with the largest total
attribution); an action the record does not explain counts as not named. Schema-1 records (no classes)
are scored on their record-level evidence. The truth file of either synthetic set works
(``data/synthetic/action_genome/synthetic_truth.json`` or
``data/synthetic/synthetic_ag_noisy/action_genome/synthetic_truth.json``).

Usage::

    python -m experiments.explanation_score runs/synthetic_laiar/explanations.jsonl \\
        data/synthetic/action_genome/synthetic_truth.json
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from datamodules.synthetic.transitions import SyntheticTransition, read_synthetic_truth
from lvlm_var.explanation import EvidenceStep, ExplanationRecord

__all__ = [
    "ExplanationScore",
    "names_class_transition",
    "names_transition",
    "score_records",
    "score_explanations",
    "main",
]

_SUBJECT = "person"


@dataclass
class ExplanationScore:
    """Faithfulness of a set of explanations.

    Attributes:
        correct: correctly predicted (video, action) labels.
        named: those whose explanation names the ground-truth transition.
        labels: all (video, action) labels of the scored videos.
        videos: scored records.
    """

    correct: int
    named: int
    labels: int
    videos: int

    @property
    def rate(self) -> float:
        """``named / correct`` (0 when nothing was predicted correctly)."""
        return self.named / self.correct if self.correct else 0.0


def names_transition(evidence: list[EvidenceStep], transition: SyntheticTransition) -> bool:
    """Whether ``evidence`` shows ``relation_before``, then later ``relation_after``, on the right object."""
    prefix = f"{_SUBJECT}-{transition.object}: "
    starts: dict[str, list[int]] = {}
    for step in evidence:
        if step.text.startswith(prefix):
            starts.setdefault(step.text[len(prefix) :], []).append(step.start)
    before = starts.get(transition.relation_before, [])
    after = starts.get(transition.relation_after, [])
    return bool(before and after and max(after) > min(before))


def names_class_transition(record: ExplanationRecord, transition: SyntheticTransition) -> bool:
    """Whether ``record`` names ``transition`` (see the module docstring for schema 1 and 2)."""
    if not record.classes:
        return names_transition(record.evidence, transition)
    explained = record.explained(transition.action_name)
    if explained is None or not explained.evidence:
        return False
    weight: dict[str, float] = {}
    for step in explained.evidence:
        weight[step.object] = weight.get(step.object, 0.0) + (step.attribution or 0.0)
    return max(weight, key=weight.__getitem__) == transition.object and names_transition(
        explained.evidence, transition
    )


def score_records(
    records: Iterable[ExplanationRecord], transitions: dict[str, list[SyntheticTransition]]
) -> ExplanationScore:
    """Score explanation records against the synthetic ground truth (``read_synthetic_truth``).

    Raises:
        ValueError: a record's video is not in ``transitions``.
    """
    correct = named = labels = videos = 0
    for record in records:
        if record.sample_id not in transitions:
            raise ValueError(f"video {record.sample_id!r} is not in the synthetic truth")
        videos += 1
        truths = transitions[record.sample_id]
        labels += len(truths)
        predicted = {name for name, _ in record.predictions[: len(truths)]}
        for transition in truths:
            if transition.action_name in predicted:
                correct += 1
                named += names_class_transition(record, transition)
    return ExplanationScore(correct=correct, named=named, labels=labels, videos=videos)


def score_explanations(explanations: str | Path, truth: str | Path) -> ExplanationScore:
    """Score an ``ExplanationWriter`` JSONL against ``synthetic_truth.json``.

    Args:
        explanations: the JSONL file, one :class:`ExplanationRecord` a line.
        truth: ``synthetic_truth.json``.

    Returns:
        the :class:`ExplanationScore`.

    Raises:
        ValueError: a line is not a JSON record, or a record's video is not in the truth file.
    """
    transitions = read_synthetic_truth(truth)
    records = []
    path = Path(explanations)
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = ExplanationRecord.from_json(json.loads(line))
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as error:
            raise ValueError(
                f"{path} line {number}: expected an ExplanationRecord JSON object ({error})"
            ) from None
        if record.sample_id not in transitions:
            raise ValueError(f"{path} line {number}: video {record.sample_id!r} is not in {truth}")
        records.append(record)
    return score_records(records, transitions)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("explanations", type=Path, help="ExplanationWriter JSONL")
    parser.add_argument("truth", type=Path, help="synthetic_truth.json")
    options = parser.parse_args(argv)
    score = score_explanations(options.explanations, options.truth)
    print(
        f"explanations naming the true transition: {score.named}/{score.correct} correctly predicted labels "
        f"({score.rate:.1%}); {score.labels} labels in {score.videos} videos"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
