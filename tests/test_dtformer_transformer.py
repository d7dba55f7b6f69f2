"""Token selection (Eq. 3) and the DT-Former (Eqs. 4-6): shapes, masks, gradients, dropping == masking."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch
from laiar_batches import one_cpu_thread

from lvlm_var.dtformer import (
    DTFormer,
    DTFormerConfig,
    PackedLayout,
    SpatioTemporalSelector,
    TokenSelector,
    TransformerBlock,
)

# ``one_cpu_thread`` is imported as a fixture.
pytestmark = pytest.mark.usefixtures(one_cpu_thread.__name__)

TINY = DTFormerConfig.tiny()


def _inputs(batch: int = 4, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    tokens = torch.randn(batch, TINY.num_frames, TINY.max_pairs, TINY.dim, generator=generator)
    mask = torch.rand(batch, TINY.num_frames, TINY.max_pairs, generator=generator) < 0.6
    mask[:, 0, 0] = True
    return tokens, mask


def test_selector_is_binary_in_forward_and_passes_gradients() -> None:
    torch.manual_seed(0)
    selector = TokenSelector(dim=8, hidden=8, tau=1.0, init_keep_bias=0.0).train()
    tokens = torch.randn(3, 10, 8, requires_grad=True)
    mask = torch.ones(3, 10, dtype=torch.bool)
    mask[0, 5:] = False
    keep, probability = selector(tokens, torch.randn(3, 8), mask)
    assert set(keep.unique().tolist()) <= {0.0, 1.0}
    assert torch.all(probability[~mask] == 0) and torch.all((probability[mask] > 0) & (probability[mask] < 1))
    assert 0 < keep[mask].sum() < mask.sum()  # some kept, some dropped
    assert torch.all(keep[~mask] == 0)
    (keep * torch.arange(10.0)).sum().backward()
    assert tokens.grad is not None and tokens.grad.abs().sum() > 0
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in selector.parameters())


def test_selector_is_deterministic_in_eval_and_thresholded() -> None:
    torch.manual_seed(0)
    selector = TokenSelector(dim=8, hidden=8, tau=1.0, init_keep_bias=0.0, eval_threshold=0.5).eval()
    tokens, context, mask = torch.randn(2, 50, 8), torch.randn(2, 8), torch.ones(2, 50, dtype=torch.bool)
    keep, probability = selector(tokens, context, mask)
    assert torch.equal(keep, selector(tokens, context, mask)[0])
    logits = selector.mlp(
        torch.cat(
            [selector.token_proj(tokens), selector.context_proj(context)[:, None].expand(-1, 50, -1)], -1
        )
    )
    assert torch.equal(keep, (logits.argmax(-1) == 1).float())
    torch.testing.assert_close(probability, torch.softmax(logits, -1)[..., 1])
    strict = TokenSelector(dim=8, hidden=8, tau=1.0, init_keep_bias=0.0, eval_threshold=0.9).eval()
    strict.load_state_dict(selector.state_dict())
    strict_keep = strict(tokens, context, mask)[0]
    assert torch.all(strict_keep <= keep) and strict_keep.sum() < keep.sum()


def test_spatio_temporal_selection_multiplies_and_respects_switches() -> None:
    tokens, mask = _inputs()
    context = torch.zeros(tokens.shape[0], TINY.dim)
    both = SpatioTemporalSelector(
        TINY.dim, 8, 1.0, 0.0, temporal=True, spatial=True, eval_threshold=0.5
    ).eval()
    selection = both(tokens, context, mask)
    assert selection.temporal.shape == mask.shape[:2] and selection.spatial.shape == mask.shape
    torch.testing.assert_close(selection.keep, selection.temporal.unsqueeze(-1) * selection.spatial)
    assert torch.all(selection.keep[~mask] == 0)
    frame_tokens = (tokens * mask.unsqueeze(-1)).sum(2) / mask.sum(2, keepdim=True).clamp(min=1)
    temporal_probability = both.temporal(frame_tokens, context, mask.any(-1))[1]
    spatial_probability = both.spatial(tokens.flatten(1, 2), context, mask.flatten(1))[1].view_as(mask)
    torch.testing.assert_close(
        selection.probability, temporal_probability.unsqueeze(-1) * spatial_probability
    )
    assert torch.all(selection.probability[~mask] == 0)
    none = SpatioTemporalSelector(TINY.dim, 8, 1.0, 0.0, temporal=False, spatial=False)
    assert list(none.parameters()) == []
    torch.testing.assert_close(none(tokens, context, mask).keep, mask.float())
    torch.testing.assert_close(none(tokens, context, mask).probability, mask.float())
    temporal_only = SpatioTemporalSelector(TINY.dim, 8, 1.0, 0.0, temporal=True, spatial=False).eval()
    keep = temporal_only(tokens, context, mask)
    # whole frames are kept or dropped
    frame_keep = keep.temporal.unsqueeze(-1).expand_as(mask)
    assert torch.equal(keep.keep, frame_keep * mask)


@pytest.mark.parametrize("temporal,spatial", [(True, True), (False, True), (True, False), (False, False)])
@pytest.mark.parametrize("context", ["class_token", "mean"])
@pytest.mark.parametrize("selector_blocks", [0, 1])
def test_dropped_equals_masked_at_eval(
    temporal: bool, spatial: bool, context: str, selector_blocks: int
) -> None:
    torch.manual_seed(1)
    config = replace(
        TINY,
        temporal_selection=temporal,
        spatial_selection=spatial,
        init_keep_bias=0.0,
        selector_context=context,
        selector_blocks=selector_blocks,
    )
    former = DTFormer(config).eval()
    tokens, mask = _inputs(batch=6)
    mask[5] = False  # a video without any pair
    with torch.no_grad():
        dropped = former(tokens, mask, drop=True)
        masked = former(tokens, mask, drop=False)
        default = former(tokens, mask)
    assert (dropped.z - masked.z).abs().max() < 1e-5
    assert torch.equal(default.z, dropped.z)
    assert torch.equal(dropped.tokens_kept, masked.tokens_kept)
    assert torch.equal(dropped.tokens_total, mask.flatten(1).sum(1).float())
    if temporal or spatial:
        assert 0 < dropped.tokens_kept.sum() < dropped.tokens_total.sum()
    else:
        assert torch.equal(dropped.tokens_kept, dropped.tokens_total)


def test_padding_and_dropped_tokens_are_never_attended() -> None:
    torch.manual_seed(2)
    former = DTFormer(replace(TINY, init_keep_bias=0.0)).eval()
    tokens, mask = _inputs()
    with torch.no_grad():
        reference = former(tokens, mask, drop=False)
        ignored = (reference.selection.keep == 0).unsqueeze(-1)
        # changing an ignored token may change selection only of itself; padding is never selected
        perturbed = tokens.masked_fill(ignored & ~mask.unsqueeze(-1), 100.0)
        again = former(perturbed, mask, drop=False)
    assert torch.all(reference.selection.keep[~mask] == 0)
    torch.testing.assert_close(again.z, reference.z)


def test_policy_attention_drops_keys_in_forward_and_passes_their_gradient() -> None:
    torch.manual_seed(4)
    block = TransformerBlock(dim=8, num_heads=2, mlp_ratio=2.0, dropout=0.0)
    x = torch.randn(2, 5, 8)
    padding = torch.tensor([[True] * 5, [True, True, True, True, False]])
    policy = torch.tensor([[1.0, 0.0, 1.0, 1.0, 0.0], [1.0, 1.0, 0.0, 1.0, 1.0]], requires_grad=True)
    hard = block(x, padding & (policy > 0))
    soft = block(x, padding, policy=policy)
    torch.testing.assert_close(soft[:, 0], hard[:, 0])
    soft[:, 0].square().sum().backward()
    assert policy.grad[0, 1] != 0 and policy.grad[0, 4] != 0  # dropped keys learn whether to come back
    assert policy.grad[1, 4] == 0  # padding: never attended, no gradient


@pytest.mark.parametrize("selection_gradient", ["attention_policy", "masked_multiply"])
def test_training_forward_shapes_and_gradients_reach_selectors(selection_gradient: str) -> None:
    torch.manual_seed(3)
    former = DTFormer(replace(TINY, init_keep_bias=0.0, selection_gradient=selection_gradient)).train()
    tokens, mask = _inputs()
    tokens.requires_grad_(True)
    out = former(tokens, mask)
    assert out.z.shape == (tokens.shape[0], TINY.dim)
    assert set(out.selection.keep.unique().tolist()) <= {0.0, 1.0}
    out.z.square().sum().backward()
    for name, parameter in former.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, name


def test_too_long_input_is_rejected() -> None:
    former = DTFormer(TINY)
    with pytest.raises(ValueError, match=r"T=5, K=3; this model was built for at most T=4, K=3"):
        former(torch.randn(1, 5, 3, TINY.dim), torch.ones(1, 5, 3, dtype=torch.bool))


def test_shorter_input_uses_a_slice_of_the_position_embedding() -> None:
    former = DTFormer(TINY).eval()
    out = former(torch.randn(2, 2, 1, TINY.dim), torch.ones(2, 2, 1, dtype=torch.bool))
    assert out.z.shape == (2, TINY.dim) and out.selection.keep.shape == (2, 2, 1)


def test_packed_layout_round_trip() -> None:
    valid = torch.tensor([[True, False, True, True], [True, False, False, False], [True, True, False, True]])
    sequence = torch.arange(24.0).reshape(3, 4, 2)
    layout = PackedLayout.from_mask(valid)
    packed = sequence[valid]
    padded = layout.unpack(packed)
    assert padded.shape == (3, 3, 2)
    assert layout.key_mask.tolist() == [[True, True, True], [True, False, False], [True, True, True]]
    torch.testing.assert_close(padded[0], sequence[0, [0, 2, 3]])
    assert torch.equal(padded[1, 1:], torch.zeros(2, 2))
    torch.testing.assert_close(layout.pack(padded), packed)
    torch.testing.assert_close(packed[layout.row_starts], sequence[:, 0])


def _spatial_keep_logits(former: DTFormer, tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The keep-minus-drop logits of the spatial selector in one eval pass."""
    selector = former.selector.spatial
    captured = []
    handle = selector.register_forward_hook(lambda module, args, output: captured.append(args))
    with torch.no_grad():
        former(tokens, mask)
    handle.remove()
    x, context, _ = captured[0]
    context = selector.context_proj(context).unsqueeze(1).expand(-1, x.shape[1], -1)
    logits = selector.mlp(torch.cat([selector.token_proj(x), context], dim=-1))
    return logits[..., 1] - logits[..., 0]


def test_selector_blocks_give_the_selector_the_video_but_not_the_classifier() -> None:
    """Without selector blocks a token's keep logit depends on the token alone; with one, on its video
    too; the blocks' output never reaches ``z`` except through the decisions."""
    torch.manual_seed(0)
    tokens, mask = _inputs(batch=2)
    mask[:] = True
    other = tokens.clone()
    other[1, 1:] = torch.randn_like(other[1, 1:])  # video 1 changes everywhere but frame 0
    frame0 = slice(0, TINY.max_pairs)
    for blocks, depends_on_video in ((0, False), (1, True)):
        former = DTFormer(replace(TINY, selector_blocks=blocks, temporal_selection=False)).eval()
        before, after = _spatial_keep_logits(former, tokens, mask), _spatial_keep_logits(former, other, mask)
        torch.testing.assert_close(before[0], after[0])  # video 0 unchanged
        assert torch.allclose(before[1, frame0], after[1, frame0]) != depends_on_video
    former = DTFormer(replace(TINY, selector_blocks=1)).eval()
    with torch.no_grad():  # selectors that keep everything: the selector blocks change nothing in z
        for selector in (former.selector.temporal, former.selector.spatial):
            selector.mlp[-1].weight.zero_()
            selector.mlp[-1].bias.copy_(torch.tensor([0.0, 10.0]))
        reference = former(tokens, mask)
        for parameter in former.selector_blocks.parameters():
            parameter.add_(torch.randn_like(parameter))
        changed = former(tokens, mask)
    assert torch.equal(reference.tokens_kept, reference.tokens_total)
    assert torch.equal(changed.z, reference.z)
    with pytest.raises(ValueError, match="selector_blocks must be >= 0, got -1"):
        replace(TINY, selector_blocks=-1)
