"""Scoring LaIAR explanations against the synthetic ground truth, and the ablation's row switches."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from datamodules.synthetic.transitions import SyntheticTransition
from experiments.ablation import SCHEME_ROWS, SELECTION_ROWS, AblationRow
from experiments.explanation_score import names_class_transition, names_transition, score_explanations
from lvlm_var.explanation import ClassExplanation, EvidenceStep, ExplanationRecord

PUT_BOX = SyntheticTransition(
    "c042", "Putting a box somewhere", "box", "holding", "not_contacting", "AAAAA.mp4/000040.png", 3
)
SIT = SyntheticTransition(
    "c059", "Sitting in a chair", "chair", "not_contacting", "sitting_on", "AAAAA.mp4/000050.png", 4
)


def _steps(*items: tuple[str, int, int]) -> list[EvidenceStep]:
    return [EvidenceStep(text, start, end) for text, start, end in items]


def test_names_transition_needs_both_relations_in_order_on_the_object() -> None:
    good = _steps(
        ("person-box: looking_at", 1, 90),
        ("person-box: holding", 1, 30),
        ("person-box: not_contacting", 40, 90),
    )
    assert names_transition(good, PUT_BOX)
    reversed_order = _steps(("person-box: not_contacting", 1, 30), ("person-box: holding", 40, 90))
    assert not names_transition(reversed_order, PUT_BOX)
    other_object = _steps(("person-dish: holding", 1, 30), ("person-box: not_contacting", 40, 90))
    assert not names_transition(other_object, PUT_BOX)
    only_before = _steps(("person-box: holding", 1, 90))
    assert not names_transition(only_before, PUT_BOX)


def _write(tmp_path: Path, records: list[ExplanationRecord]) -> tuple[Path, Path]:
    truth = tmp_path / "synthetic_truth.json"
    videos = {"AAAAA": [PUT_BOX.__dict__, SIT.__dict__], "BBBBB": [PUT_BOX.__dict__]}
    truth.write_text(json.dumps({"fps": 24.0, "actions": [], "videos": videos}))
    explanations = tmp_path / "explanations.jsonl"
    explanations.write_text("".join(json.dumps(record.to_json()) + "\n" for record in records))
    return explanations, truth


def test_score_counts_correct_labels_and_named_transitions(tmp_path: Path) -> None:
    evidence = _steps(("person-box: holding", 1, 30), ("person-box: not_contacting", 40, 90))
    records = [
        # both true actions in the top 2; only the box transition is explained
        ExplanationRecord(
            "AAAAA",
            "laiar",
            [("Sitting in a chair", 0.9), ("Putting a box somewhere", 0.8), ("Lying on a bed", 0.1)],
            [PUT_BOX.action_name, SIT.action_name],
            evidence,
        ),
        # the true action is only second: not correctly predicted
        ExplanationRecord(
            "BBBBB",
            "laiar",
            [("Lying on a bed", 0.9), ("Putting a box somewhere", 0.8)],
            [PUT_BOX.action_name],
        ),
    ]
    score = score_explanations(*_write(tmp_path, records))
    assert (score.correct, score.named, score.labels, score.videos) == (2, 1, 3, 2)
    assert score.rate == pytest.approx(0.5)


def test_schema_two_scores_the_evidence_cited_for_the_action_on_its_main_object(tmp_path: Path) -> None:
    def explained(name: str, *steps: tuple[str, str, int, float]) -> ClassExplanation:
        return ClassExplanation(
            name, 0.9, [EvidenceStep(f"person-{o}: {r}", t, t, 0.5, a, o, r) for o, r, t, a in steps]
        )

    box = explained(PUT_BOX.action_name, ("box", "holding", 10, 0.3), ("box", "not_contacting", 50, 0.3))
    # the chair's change is cited for the chair action, but most attribution sits on the box
    chair = explained(
        SIT.action_name,
        ("chair", "not_contacting", 10, 0.1),
        ("chair", "sitting_on", 50, 0.1),
        ("box", "holding", 10, 0.5),
    )
    records = [
        ExplanationRecord(
            "AAAAA", "laiar", [(SIT.action_name, 0.9), (PUT_BOX.action_name, 0.8)],
            [PUT_BOX.action_name, SIT.action_name], classes=[box, chair],
        ),
        # right prediction, but the action was not explained
        ExplanationRecord(
            "BBBBB", "laiar", [(PUT_BOX.action_name, 0.9)], [PUT_BOX.action_name], classes=[chair]
        ),
    ]
    assert names_class_transition(records[0], PUT_BOX) and not names_class_transition(records[0], SIT)
    score = score_explanations(*_write(tmp_path, records))
    assert (score.correct, score.named) == (3, 1)


def test_score_rejects_unknown_video_and_bad_line(tmp_path: Path) -> None:
    explanations, truth = _write(tmp_path, [ExplanationRecord("ZZZZZ", "laiar", [], [])])
    with pytest.raises(ValueError, match=r"explanations.jsonl line 1: video 'ZZZZZ' is not in"):
        score_explanations(explanations, truth)
    explanations.write_text('{"sample_id": "AAAAA"}\n')
    with pytest.raises(ValueError, match=r"line 1: expected an ExplanationRecord JSON object"):
        score_explanations(explanations, truth)


def test_ablation_rows_switch_the_right_options() -> None:
    assert AblationRow("x", spatial=False, xm=False).overrides() == [
        "--model.init_args.model.dtformer.spatial_selection",
        "false",
        "--model.init_args.model.dtformer.temporal_selection",
        "true",
        "--model.init_args.loss.use_sim",
        "true",
        "--model.init_args.loss.use_tss",
        "true",
        "--model.init_args.loss.use_xm",
        "false",
    ]
    assert len(SELECTION_ROWS) == 4 and len(SCHEME_ROWS) == 6
    assert SCHEME_ROWS[(True, True, True)] is SELECTION_ROWS["DT-Former"]
    for (sim, tss, xm), row in SCHEME_ROWS.items():
        assert (row.sim, row.tss, row.xm, row.spatial, row.temporal) == (sim, tss, xm, True, True)
