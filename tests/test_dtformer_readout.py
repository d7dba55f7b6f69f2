"""The DT-Former's token-max readout and rotary time: dropping == masking, what they ignore and see."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch
from laiar_batches import one_cpu_thread
from torch import nn

from lvlm_var.dtformer import DTFormer, DTFormerConfig
from lvlm_var.dtformer.rotary import FrameRotation

pytestmark = pytest.mark.usefixtures(one_cpu_thread.__name__)

TOKEN_MAX = replace(DTFormerConfig.tiny(), readout="token_max", rotary_time=True, init_keep_bias=0.0)


def _inputs(batch: int = 5, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    config = TOKEN_MAX
    tokens = torch.randn(batch, config.num_frames, config.max_pairs, config.dim, generator=generator)
    mask = torch.rand(batch, config.num_frames, config.max_pairs, generator=generator) < 0.7
    mask[:, 0, 0] = True
    return tokens, mask


def test_rotation_makes_attention_scores_depend_on_the_frame_difference_only() -> None:
    generator = torch.Generator().manual_seed(0)
    q, k = torch.randn(1, 1, 1, 8, generator=generator), torch.randn(1, 1, 1, 8, generator=generator)

    def score(query_frame: float, key_frame: float) -> torch.Tensor:
        rotate_q = FrameRotation.of_frames(torch.tensor([[query_frame]]), 8)
        rotate_k = FrameRotation.of_frames(torch.tensor([[key_frame]]), 8)
        return (rotate_q(q) * rotate_k(k)).sum()

    torch.testing.assert_close(score(3.0, 1.0), score(7.0, 5.0))
    assert not torch.allclose(score(3.0, 1.0), score(1.0, 3.0))  # earlier and later differ
    torch.testing.assert_close(FrameRotation.of_frames(torch.tensor([[4.0]]), 8)(q).norm(), q.norm())


def test_token_max_scores_are_the_largest_over_class_token_and_kept_tokens() -> None:
    torch.manual_seed(0)
    former = DTFormer(TOKEN_MAX).eval()
    head = nn.Linear(TOKEN_MAX.dim, 3)
    tokens, mask = _inputs()
    with torch.no_grad():
        out = former(tokens, mask, drop=False)
        scores = out.read(head)
        per_token = head(out.outputs)
    for video in range(tokens.shape[0]):
        readable = out.readout_mask[video]
        assert readable[0] and torch.equal(readable[1:], out.selection.keep[video].flatten() > 0.5)
        torch.testing.assert_close(scores[video], per_token[video][readable].amax(0))


def test_token_max_ignores_dropped_tokens_and_dropping_equals_masking() -> None:
    torch.manual_seed(1)
    former = DTFormer(TOKEN_MAX).eval()
    head = nn.Linear(TOKEN_MAX.dim, 4)
    tokens, mask = _inputs(batch=6)
    mask[5] = False  # a video without any pair: its scores are the [class] token's
    with torch.no_grad():
        keep = former(tokens, mask).selection.keep > 0.5
        dropped = former(tokens, mask, drop=True, keep=keep)
        masked = former(tokens, mask, drop=False, keep=keep)
        perturbed = former(tokens.masked_fill(~keep.unsqueeze(-1), 50.0), mask, drop=True, keep=keep)
    torch.testing.assert_close(dropped.read(head), masked.read(head), atol=1e-5, rtol=0)
    torch.testing.assert_close(perturbed.read(head), dropped.read(head))
    torch.testing.assert_close(dropped.read(head)[5], head(dropped.z[5]))


def test_rotary_time_tells_the_order_of_two_frames_apart() -> None:
    torch.manual_seed(2)
    config = replace(TOKEN_MAX, readout="class_token", temporal_selection=False, spatial_selection=False)
    rotary = DTFormer(config).eval()
    additive_only = DTFormer(replace(config, rotary_time=False)).eval()
    additive_only.load_state_dict(rotary.state_dict())
    with torch.no_grad():
        for former in (rotary, additive_only):
            former.temporal_embed.zero_()  # no absolute position: only the rotation knows time
    tokens = torch.zeros(1, config.num_frames, config.max_pairs, config.dim)
    a, b = torch.randn(2, config.dim)
    forward, backward = tokens.clone(), tokens.clone()
    forward[0, 0, 0], forward[0, 2, 0] = a, b
    backward[0, 0, 0], backward[0, 2, 0] = b, a
    mask = torch.zeros(1, config.num_frames, config.max_pairs, dtype=torch.bool)
    mask[0, (0, 2), 0] = True
    with torch.no_grad():
        assert not torch.allclose(rotary(forward, mask).z, rotary(backward, mask).z, atol=1e-4)
        torch.testing.assert_close(additive_only(forward, mask).z, additive_only(backward, mask).z)


@pytest.mark.parametrize(
    "field,value,message",
    [("readout", "mean", "readout must be"), ("rotary_time", True, "even head width")],
)
def test_bad_readout_settings_are_refused(field: str, value: object, message: str) -> None:
    base = replace(DTFormerConfig.tiny(), num_heads=16) if field == "rotary_time" else DTFormerConfig.tiny()
    with pytest.raises(ValueError, match=message):
        replace(base, **{field: value})
