"""The token budget holds at inference: eval keeps, per video, the share that training keeps on average."""

from __future__ import annotations

import pytest
import torch
from laiar_batches import one_cpu_thread

from lvlm_var.dtformer import SpatioTemporalSelector, TokenSelector
from lvlm_var.dtformer.token_selector import keep_expected_count

pytestmark = pytest.mark.usefixtures(one_cpu_thread.__name__)


def test_expected_count_keeps_the_most_probable_round_sum_tokens() -> None:
    probability = torch.tensor([[0.9, 0.6, 0.55, 0.6, 0.1, 0.0], [0.2, 0.1, 0.1, 0.0, 0.0, 0.0]])
    mask = torch.tensor([[True] * 5 + [False], [True] * 3 + [False] * 3])
    keep = keep_expected_count(probability, mask)
    # sum 2.75 -> 3 tokens: 0.9 and the two 0.6; sum 0.4 rounds to 0 but a video keeps at least one
    assert keep.tolist() == [[1.0, 1.0, 0.0, 1.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0, 0.0, 0.0]]
    assert torch.equal(
        keep_expected_count(torch.zeros(1, 3), torch.zeros(1, 3, dtype=torch.bool)), torch.zeros(1, 3)
    )


def _selector_near_half(threshold: float | None) -> SpatioTemporalSelector:
    """Both selectors with keep probabilities spread around 0.6, where thresholding at 0.5 keeps most."""
    torch.manual_seed(0)
    selector = SpatioTemporalSelector(16, 16, 1.0, 0.4, temporal=True, spatial=True, eval_threshold=threshold)
    for part in (selector.temporal, selector.spatial):
        assert isinstance(part, TokenSelector)
        with torch.no_grad():
            part.mlp[-1].weight.mul_(0.3)
    return selector


@pytest.mark.parametrize("spatial_only", [False, True])
@torch.no_grad()
def test_eval_share_matches_the_training_share(spatial_only: bool) -> None:
    tokens = torch.randn(8, 6, 5, 16)
    mask = torch.rand(8, 6, 5) < 0.8
    mask[:, 0, 0] = True
    context = torch.randn(8, 16)
    selector = _selector_near_half(None)
    if spatial_only:
        selector.temporal = None
    selector.train()
    trained = (
        torch.stack([selector(tokens, context, mask).keep.sum() for _ in range(400)]).mean() / mask.sum()
    )
    selector.eval()
    selection = selector(tokens, context, mask)
    evaluated = selection.keep.sum() / mask.sum()
    assert abs(float(evaluated - trained)) < 0.05
    assert torch.all(selection.keep[~mask] == 0)
    assert torch.equal(selection.temporal, selection.keep.amax(-1))
    # per video too: each keeps round(sum p) of its pairs
    expected = selection.probability.flatten(1).sum(1).round().clamp(min=1)
    assert torch.equal(selection.keep.flatten(1).sum(1), expected)
    # the old rule, p > 0.5, keeps far more than training with these probabilities
    thresholded = _selector_near_half(0.5)
    if spatial_only:
        thresholded.temporal = None
    assert thresholded.eval()(tokens, context, mask).keep.sum() / mask.sum() > trained + 0.1
