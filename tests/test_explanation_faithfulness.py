"""Class-grounded LaIAR evidence and its faithfulness, on a hand-built model with known answers."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from torch import Tensor

from callbacks import ExplanationFaithfulness
from callbacks.explanation_faithfulness import measure_faithfulness
from lvlm_var.dtformer.explain import (
    EvidenceUnit,
    attribute_units,
    evidence_units,
    explain_classes,
    log_odds,
)
from lvlm_var.dtformer.kept_token_naming import TripletVocabulary
from lvlm_var.explanation import CitedEvidence, ClassExplanation, EvidenceStep, ExplanationRecord

OBJECTS = ["person", "box", "chair"]
RELATIONS = ["holding", "not_contacting", "looking_at"]
CLASSES = ["Putting a box somewhere", "Sitting in a chair"]


class OneTokenModel:
    """Class 0's probability is 0.9 when relation token (2, 0) is used and 0.1 when not; class 1 is 0.5."""

    def score_with_evidence(self, batch: dict[str, Tensor], keep_mask: Tensor) -> Tensor:
        used = (keep_mask & batch["mask"])[:, 2, 0].float()
        return torch.stack([0.1 + 0.8 * used, torch.full_like(used, 0.5)], dim=-1)


def _vocabulary() -> TripletVocabulary:
    # relation r of every object is the unit vector e_r: naming is known exactly
    table = torch.eye(len(RELATIONS)).repeat(len(OBJECTS), 1)
    return TripletVocabulary(table, OBJECTS, RELATIONS)


def _video() -> dict[str, Tensor]:
    """4 frames, 2 pairs: the box is held in frames 0-1 and not touched in 2-3; the chair is looked at."""
    relation = torch.tensor([[0, 2], [0, 2], [1, 2], [1, 2]])
    return {
        "joint": torch.eye(len(RELATIONS))[relation],
        "object_class": torch.tensor([[1, 2]] * 4),
        "frame_index": torch.tensor([10, 20, 30, 40]),
        "mask": torch.ones(1, 4, 2, dtype=torch.bool),
    }


def test_units_group_kept_tokens_by_object_and_named_relation() -> None:
    video = _video()
    keep = torch.ones(4, 2)
    keep[1, 1] = 0
    units = evidence_units(_vocabulary(), video["joint"], keep, video["object_class"], video["frame_index"])
    assert [(OBJECTS[u.object_index], u.relation, u.start, u.end) for u in units] == [
        ("box", "holding", 10, 20),
        ("box", "not_contacting", 30, 40),
        ("chair", "looking_at", 10, 40),
    ]
    assert units[2].positions == [(0, 1), (2, 1), (3, 1)] and units[0].similarities == [1.0, 1.0]


def test_class_gradient_names_the_relation_the_class_moves_along() -> None:
    # the token is nearest to looking_at, but the class's probability moves along holding only
    joint = torch.tensor([[[1.0, 0.0, 1.1]]])
    frames = torch.tensor([5])
    for gradient, named in ((None, "looking_at"), (torch.tensor([[[1.0, 0.0, 0.0]]]), "holding")):
        box = torch.tensor([[1]])
        (unit,) = evidence_units(_vocabulary(), joint, torch.ones(1, 1), box, frames, gradient)
        assert unit.relation == named
    assert unit.similarities == [pytest.approx(1.0 / (1.0 + 1.1**2) ** 0.5)]
    # a relation the box never shows in training is not a candidate; an object never seen may name any
    allowed = torch.ones(len(OBJECTS), len(RELATIONS), dtype=torch.bool)
    allowed[1, 0] = False
    mostly_holding = torch.tensor([[[1.0, 0.0, 0.1]]])
    (unit,) = evidence_units(_vocabulary(), joint, torch.ones(1, 1), box, frames, mostly_holding, allowed)
    assert unit.relation == "looking_at"
    allowed[1] = False
    (unit,) = evidence_units(_vocabulary(), joint, torch.ones(1, 1), box, frames, gradient, allowed)
    assert unit.relation == "holding"


def test_leave_one_unit_out_attribution_cites_only_the_carrying_token() -> None:
    video = _video()
    keep = torch.ones(4, 2)
    units = evidence_units(_vocabulary(), video["joint"], keep, video["object_class"], video["frame_index"])
    model = OneTokenModel()

    def score(masks: Tensor) -> Tensor:
        return model.score_with_evidence({"mask": video["mask"].expand(len(masks), -1, -1)}, masks)

    full, attribution = attribute_units(score, keep, units)
    assert full.tolist() == pytest.approx([0.9, 0.5])
    # removing "box: not_contacting" (frames 30-40, it holds token (2, 0)) drops class 0 by 0.8
    assert attribution[:, 0].tolist() == pytest.approx([0.0, 0.8, 0.0])
    assert attribution[:, 1].tolist() == pytest.approx([0.0, 0.0, 0.0])
    explained = explain_classes(units, attribution, full, [0, 1], CLASSES, OBJECTS, min_attribution=0.05)
    assert explained[0].sentence == "Putting a box somewhere (0.90): person-box not_contacting (frames 30-40)"
    assert [(s.object, s.relation, s.start, s.end) for s in explained[0].evidence] == [
        ("box", "not_contacting", 30, 40)
    ]
    assert explained[0].evidence[0].attribution == pytest.approx(0.8)
    assert explained[1].evidence == [] and "no run of kept tokens" in explained[1].sentence


def test_log_odds_are_exact_for_both_heads() -> None:
    logits = torch.tensor([[2.0, -1.0, 0.5], [30.0, 0.0, -4.0]], dtype=torch.float64)
    assert torch.equal(log_odds(logits, multi_label=True), logits)
    p = logits.softmax(-1)
    expected = p.log() - (1 - p).log()
    assert torch.allclose(log_odds(logits, multi_label=False)[0], expected[0])
    # where p rounds to 1 the log-odds are still exact: 30 - logsumexp(0, -4)
    assert log_odds(logits, multi_label=False)[1, 0].item() == pytest.approx(30 - torch.logaddexp(
        torch.tensor(0.0), torch.tensor(-4.0)).item())


def test_a_confident_class_still_gets_its_evidence_cited() -> None:
    # class 0's logit is 12 with token (2, 0) and 9 without: its probability moves by 1e-4 only, its
    # log-odds by 3, so a log-odds threshold cites the token where a probability threshold of 0.005 would not
    video = _video()
    keep = torch.ones(4, 2)
    units = evidence_units(_vocabulary(), video["joint"], keep, video["object_class"], video["frame_index"])

    def score(masks: Tensor) -> Tensor:
        used = masks[:, 2, 0].double()
        return log_odds(torch.stack([9.0 + 3.0 * used, torch.zeros_like(used)], dim=-1), multi_label=True)

    _, attribution = attribute_units(score, keep, units)
    assert attribution[:, 0].tolist() == pytest.approx([0.0, 3.0, 0.0])
    probability_drop = torch.sigmoid(torch.tensor(12.0)) - torch.sigmoid(torch.tensor(9.0))
    assert probability_drop < 0.005
    confident = torch.tensor([0.99999])
    (explained,) = explain_classes(units, attribution, confident, [0], CLASSES[:1], OBJECTS, 0.5)
    cited = [(s.relation, s.attribution) for s in explained.evidence]
    assert cited == [("not_contacting", pytest.approx(3.0))]


def test_transition_sentence_joins_the_cited_runs_of_one_object() -> None:
    units = [
        EvidenceUnit(1, "holding", 12, 40, [(0, 0)], [0.8]),
        EvidenceUnit(1, "not_contacting", 52, 80, [(1, 0)], [0.6]),
        EvidenceUnit(2, "looking_at", 12, 80, [(0, 1)], [0.9]),
    ]
    attribution = torch.tensor([[0.4], [0.3], [0.01]])
    (explained,) = explain_classes(units, attribution, torch.tensor([0.91]), [0], CLASSES[:1], OBJECTS, 0.05)
    assert explained.sentence == (
        "Putting a box somewhere (0.91): person-box holding (frames 12-40) -> not_contacting (frames 52-80)"
    )


def _items() -> tuple[dict[str, Tensor], list[CitedEvidence]]:
    batch = {"mask": torch.ones(2, 4, 2, dtype=torch.bool)}
    cited = torch.zeros(4, 2, dtype=torch.bool)
    cited[2, 0] = True
    everything = torch.ones(4, 2, dtype=torch.bool)
    uncited = CitedEvidence(1, 1, torch.zeros_like(cited), everything)
    return batch, [CitedEvidence(0, 0, cited, everything), uncited]


def test_comprehensiveness_and_sufficiency_have_their_known_values() -> None:
    batch, items = _items()
    (scored,) = measure_faithfulness(OneTokenModel().score_with_evidence, batch, items, draws=4, seed=0)
    assert scored.probability == pytest.approx(0.9)
    assert scored.comprehensiveness == pytest.approx(0.8)
    assert scored.sufficiency == pytest.approx(1.0)
    assert (scored.cited_units, scored.candidate_units) == (1, 8)
    # a random single token is the carrying one or not: the baseline is a mean of 0.8 / 0 drops
    hits = scored.random_comprehensiveness / 0.8 * 4
    assert hits == pytest.approx(round(hits))
    assert scored.random_sufficiency == pytest.approx((hits * 0.9 + (4 - hits) * 0.1) / 4 / 0.9)
    # the same in the class log-probability: log(0.9 / 0.1) without the token, nothing lost with it alone
    assert scored.log_comprehensiveness == pytest.approx(math.log(9.0))
    assert scored.log_sufficiency == pytest.approx(0.0)
    assert scored.random_log_comprehensiveness == pytest.approx(hits * math.log(9.0) / 4)
    assert scored.random_log_sufficiency == pytest.approx((4 - hits) * -math.log(9.0) / 4)


def test_an_underflowed_probability_counts_as_the_smallest_normal_number() -> None:
    class Vanishing:
        def score_with_evidence(self, batch: dict[str, Tensor], keep_mask: Tensor) -> Tensor:
            used = keep_mask[:, 2, 0].float()
            return torch.stack([used, 1.0 - used], dim=-1)  # class 0 is gone without token (2, 0)

    batch, items = _items()
    (scored,) = measure_faithfulness(Vanishing().score_with_evidence, batch, items[:1], draws=2, seed=0)
    assert scored.log_comprehensiveness == pytest.approx(-math.log(torch.finfo(torch.float32).tiny))


def test_random_baseline_is_seeded_and_reproducible() -> None:
    batch, items = _items()
    model = OneTokenModel()
    runs = [
        measure_faithfulness(model.score_with_evidence, batch, items, draws=16, seed=seed)
        for seed in (3, 3, 4)
    ]
    assert runs[0] == runs[1]
    # over 16 draws of 1 of 8 tokens the mean drop stays far below the cited token's 0.8
    assert runs[0][0].random_comprehensiveness < 0.5


def test_callback_logs_and_writes_the_summary(tmp_path: Path) -> None:
    class Module(OneTokenModel):
        logged: dict[str, float] = {}

        def log(self, key: str, value: float, **kwargs: object) -> None:
            self.logged[key] = value

    class Strategy:
        root_device = torch.device("cpu")

        def reduce(self, tensor: Tensor, reduce_op: str) -> Tensor:
            return tensor

    class Trainer:
        strategy = Strategy()
        is_global_zero = True

    callback = ExplanationFaithfulness(tmp_path / "faithfulness.json", draws=3, seed=1)
    module, trainer = Module(), Trainer()
    callback.setup(trainer, module, "test")
    callback.on_test_epoch_start(trainer, module)
    batch, items = _items()
    callback.on_test_batch_end(trainer, module, {"cited_evidence": items}, batch, 0)
    callback.on_test_epoch_end(trainer, module)
    summary = json.loads((tmp_path / "faithfulness.json").read_text())
    assert summary["comprehensiveness"] == pytest.approx(0.8) and summary["sufficiency"] == pytest.approx(1.0)
    assert (summary["explanations"], summary["uncited"]) == (1.0, 1.0)
    assert module.logged["test/faithfulness_comprehensiveness"] == pytest.approx(0.8)
    assert summary["log_comprehensiveness"] == pytest.approx(math.log(9.0))
    assert summary["choice_log_comprehensiveness"] == pytest.approx(math.log(9.0))
    assert module.logged["test/faithfulness_random_log_sufficiency"] <= 0.0
    assert summary["choice_explanations"] == 1.0 and summary["choice_comprehensiveness"] == pytest.approx(0.8)
    # citing every candidate leaves no choice: in the means, not in the choice means
    everything = items[0].candidates
    callback.on_test_epoch_start(trainer, module)
    all_cited = {"cited_evidence": [CitedEvidence(0, 0, everything, everything)]}
    callback.on_test_batch_end(trainer, module, all_cited, batch, 0)
    callback.on_test_epoch_end(trainer, module)
    assert callback.summary["explanations"] == 1.0 and "choice_explanations" not in callback.summary
    with pytest.raises(ValueError, match="has no score_with_evidence"):
        callback.setup(trainer, object(), "test")


def test_record_schema_two_round_trips_and_schema_one_still_reads() -> None:
    step = EvidenceStep("person-box: holding", 12, 40, 0.7, 0.4, "box", "holding")
    record = ExplanationRecord(
        "AAAAA", "laiar", [("Putting a box somewhere", 0.91)], [], [step], "s", 3,
        [ClassExplanation("Putting a box somewhere", 0.91, [step], "s")],
    )
    assert record.to_json()["schema"] == 2
    assert ExplanationRecord.from_json(json.loads(json.dumps(record.to_json()))) == record
    old = {"sample_id": "A", "method": "laiar", "predictions": [["x", 0.5]], "ground_truth": [],
           "evidence": [{"text": "person-box: holding", "start": 1, "end": 2, "score": 0.5}]}
    assert ExplanationRecord.from_json(old).evidence[0].attribution is None
    with pytest.raises(ValueError, match="schema 3"):
        ExplanationRecord.from_json({**old, "schema": 3})
