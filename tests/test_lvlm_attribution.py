"""Leave-one-segment-out citations of the LVLM classifier, on a hand-built scorer with known answers."""

from __future__ import annotations

import pytest
import torch
from lvlm_helpers import CODE_NAMES
from torch import Tensor

from lvlm_var.lvlm.attribution import cite_attributed, leave_one_segment_out, segment_attribution
from lvlm_var.lvlm.config import LLMClassifierConfig
from lvlm_var.vst.narrative import ActionNarrative, merge_token_runs


def carrying_code_scorer(narratives: list[ActionNarrative]) -> Tensor:
    """Class 0's log-likelihood is 6 when a segment of code 1 ("left arm rises") is read and 0 when not; a
    code-2 segment adds 0.05 to it (below any sensible threshold); class 1 is always 3."""
    rows = []
    for narrative in narratives:
        codes = narrative.codes
        rows.append([6.0 * (1 in codes) + 0.05 * (2 in codes), 3.0])
    return torch.tensor(rows)


def _clips() -> list[ActionNarrative]:
    return [
        merge_token_runs([0, 0, 1, 1, 2, 4], CODE_NAMES, seconds_per_step=0.2),  # code 1 is segment 1
        merge_token_runs([1, 1, 1], CODE_NAMES, seconds_per_step=0.2),  # one segment
        merge_token_runs([0, 2, 2, 4], CODE_NAMES, seconds_per_step=0.2),  # no code 1: class 1 wins
    ]


def test_every_segment_is_left_out_once_in_clip_order() -> None:
    clips = _clips()
    variants = leave_one_segment_out(clips)
    assert len(variants) == 4 + 1 + 3
    assert variants[1].codes == [0, 2, 4] and variants[4].codes == [] and variants[7].codes == [0, 2]


def test_the_segment_the_class_depends_on_is_cited_alone() -> None:
    clips = _clips()
    calls = []

    def score(narratives: list[ActionNarrative]) -> Tensor:
        calls.append(len(narratives))
        return carrying_code_scorer(narratives)

    scores = carrying_code_scorer(clips)
    preds = scores.argmax(-1).tolist()
    assert preds == [0, 0, 1]
    drops = segment_attribution(score, clips, scores, preds)
    assert calls == [8]  # one scoring call for the whole batch
    full = scores.log_softmax(-1)
    # clip 0 reads 6.05 vs 3: leaving out the code-1 segment leaves 0.05 vs 3, the code-2 one 6 vs 3
    def drop_to(class_0: float) -> float:
        return float(full[0, 0] - torch.tensor([class_0, 3.0]).log_softmax(-1)[0])

    assert drops[0].tolist() == pytest.approx([0.0, drop_to(0.05), drop_to(6.0), 0.0], abs=1e-6)
    assert drop_to(0.05) > 2.5 and drop_to(6.0) < 0.01
    assert cite_attributed(drops[0], min_attribution=0.1, max_segments=2) == [1]
    # a one-segment clip cites its segment; a clip whose class no segment carries cites its largest drop
    assert cite_attributed(drops[1], 0.1, 2) == [0]
    assert float(drops[2].max()) < 0.1 and cite_attributed(drops[2], 0.1, 2) == [int(drops[2].argmax())]


def test_threshold_and_cap_choose_among_the_drops_in_temporal_order() -> None:
    drops = torch.tensor([0.3, 2.0, -1.0, 0.05, 0.8])
    assert cite_attributed(drops, min_attribution=0.1, max_segments=2) == [1, 4]
    assert cite_attributed(drops, min_attribution=0.1, max_segments=5) == [0, 1, 4]
    assert cite_attributed(drops, min_attribution=0.0, max_segments=5) == [0, 1, 3, 4]
    assert cite_attributed(drops, min_attribution=5.0, max_segments=3) == [1]
    # ties go to the earlier segment
    assert cite_attributed(torch.tensor([0.5, 0.5, 0.5]), 0.1, 1) == [0]
    with pytest.raises(ValueError, match="empty narrative"):
        cite_attributed(torch.zeros(0), 0.1, 2)


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        ("explanation_source", "llm", "explanation_source='llm' is not supported; choose one of attribution"),
        ("min_attribution", -0.1, "min_attribution must be a finite number of nats >= 0, got -0.1"),
        ("min_attribution", float("nan"), "min_attribution must be a finite number"),
        ("min_attribution", float("inf"), "min_attribution must be a finite number"),
        ("max_cited_segments", 0, "max_cited_segments must be >= 1, got 0"),
    ],
)
def test_bad_citation_settings_are_named(field: str, value: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        LLMClassifierConfig(**{field: value})
