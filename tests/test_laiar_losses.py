"""Each term of the LaIAR learning scheme against a value computed by hand."""

from __future__ import annotations

import math

import pytest
import torch
from laiar_batches import one_cpu_thread

from lvlm_var.dtformer import (
    LaIARLoss,
    LaIARLossConfig,
    RelationContrastiveLoss,
    classification_loss,
    cross_modal_loss,
    keep_ratio_loss,
    token_selection_supervision_loss,
)

# ``one_cpu_thread`` is imported as a fixture.
pytestmark = pytest.mark.usefixtures(one_cpu_thread.__name__)


def _log_sigmoid(x: float) -> float:
    return -math.log1p(math.exp(-x))


def test_classification_loss_multi_and_single_label() -> None:
    bce = classification_loss(torch.tensor([[0.0, 2.0]]), torch.tensor([[1.0, 0.0]]), multi_label=True)
    assert bce.item() == pytest.approx(math.log(2) + math.log1p(math.exp(2)))  # summed over classes
    ce = classification_loss(torch.tensor([[1.0, 0.0, 0.0]]), torch.tensor([0]), multi_label=False)
    assert ce.item() == pytest.approx(-math.log(math.e / (math.e + 2)))


def test_contrastive_loss_by_hand_and_padding_excluded() -> None:
    loss = RelationContrastiveLoss(init_temperature=0.5)  # logit scale 2
    visual = torch.zeros(1, 1, 3, 2)
    semantic = torch.zeros(1, 1, 3, 2)
    visual[0, 0, 0] = torch.tensor([3.0, 0.0])  # normalised to [1, 0]
    visual[0, 0, 1] = torch.tensor([0.0, 1.0])
    semantic[0, 0, 0] = torch.tensor([1.0, 0.0])
    semantic[0, 0, 1] = torch.tensor([1.0, 1.0])  # normalised to [1, 1] / sqrt 2
    visual[0, 0, 2] = semantic[0, 0, 2] = torch.tensor([5.0, -7.0])  # padding
    mask = torch.tensor([[[True, True, False]]])
    r = math.sqrt(2)
    visual_to_semantic = (
        -math.log(math.exp(2) / (math.exp(2) + math.exp(r))) - math.log(math.exp(r) / (1 + math.exp(r)))
    ) / 2
    semantic_to_visual = (-math.log(math.exp(2) / (math.exp(2) + 1)) - math.log(0.5)) / 2
    value = loss(visual, semantic, mask)
    assert value.item() == pytest.approx((visual_to_semantic + semantic_to_visual) / 2, rel=1e-5)
    value.backward()
    assert loss.logit_scale.grad is not None and loss.logit_scale.grad != 0


def test_contrastive_positives_of_the_same_relation() -> None:
    loss = RelationContrastiveLoss(init_temperature=0.5)  # logit scale 2
    direction = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    visual, semantic = direction.view(1, 1, 3, 2), direction.view(1, 1, 3, 2).clone()
    mask = torch.ones(1, 1, 3, dtype=torch.bool)
    content = torch.tensor([[4.0, 1.0, 0.0], [4.0, 1.0, 0.0], [2.0, 0.0, 1.0]]).view(1, 1, 3, 3)
    # tokens 0 and 1 share object and relations: each is the other's positive, token 2 the negative
    one_of_two = -math.log(2 * math.exp(2) / (2 * math.exp(2) + 1))
    alone = -math.log(math.exp(2) / (math.exp(2) + 2))
    expected = (2 * one_of_two + alone) / 3
    assert loss(visual, semantic, mask, content).item() == pytest.approx(expected, rel=1e-5)
    pair_only = (2 * -math.log(math.exp(2) / (2 * math.exp(2) + 1)) + alone) / 3
    assert loss(visual, semantic, mask).item() == pytest.approx(pair_only, rel=1e-5)
    distinct = torch.arange(3.0).view(1, 1, 3, 1)  # all different: the pair loss exactly
    torch.testing.assert_close(loss(visual, semantic, mask, distinct), loss(visual, semantic, mask))


def test_same_relation_positives_need_the_semantic_content() -> None:
    criterion = LaIARLoss(LaIARLossConfig(sim_positives="same_relation", use_xm=False))
    tokens = torch.randn(1, 2, 2, 4)
    with pytest.raises(ValueError, match="semantic_content"):
        criterion(
            labels=torch.ones(1, 3),
            mask=torch.ones(1, 2, 2, dtype=torch.bool),
            video_logits=torch.zeros(1, 3),
            language_logits=torch.zeros(1, 3),
            video_joint=tokens,
            language_joint=tokens,
            video_keep=torch.ones(1, 2, 2),
            language_keep=torch.ones(1, 2, 2),
            video_to_language_logits=None,
        )
    with pytest.raises(ValueError, match="sim_positives must be"):
        LaIARLossConfig(sim_positives="object")


def test_contrastive_loss_without_pairs_is_zero_with_graph() -> None:
    loss = RelationContrastiveLoss()
    visual = torch.randn(2, 2, 2, 4, requires_grad=True)
    value = loss(visual, torch.randn(2, 2, 2, 4), torch.zeros(2, 2, 2, dtype=torch.bool))
    assert value.item() == 0.0
    value.backward()


def test_logit_scale_is_clamped() -> None:
    loss = RelationContrastiveLoss(init_temperature=1e-4, max_logit_scale=100.0)
    assert loss.scale().item() == pytest.approx(100.0)


def test_token_selection_supervision_by_hand() -> None:
    video = torch.tensor([[[1.0, 0.0, 1.0, 1.0]], [[1.0, 1.0, 0.0, 0.0]]])
    language = torch.tensor([[[1.0, 1.0, 0.0, 0.0]], [[0.0, 1.0, 1.0, 1.0]]])
    mask = torch.tensor([[[True, True, True, False]], [[True, True, False, False]]])
    # video 0: squared diffs (0, 1, 1) + |u_s| (1, 1, 0) over 3 tokens = 4 / 3
    # video 1: squared diffs (1, 0) + |u_s| (0, 1) over 2 tokens = 1
    value = token_selection_supervision_loss(video, language, mask)
    assert value.item() == pytest.approx((4 / 3 + 1) / 2)
    no_sparsity = token_selection_supervision_loss(video, language, mask, sparsity_weight=0.0)
    assert no_sparsity.item() == pytest.approx((2 / 3 + 1 / 2) / 2)


def test_token_selection_supervision_gradients() -> None:
    video = torch.tensor([[[1.0, 0.0]]], requires_grad=True)
    language = torch.tensor([[[0.0, 1.0]]], requires_grad=True)
    mask = torch.ones(1, 1, 2, dtype=torch.bool)
    token_selection_supervision_loss(video, language, mask).backward()
    assert video.grad.tolist() == [[[1.0, -1.0]]]  # 2 (u_v - u_s) / 2 tokens
    assert language.grad.tolist() == [[[-1.0, 1.5]]]  # (-2 (u_v - u_s) + sign(u_s)) / 2, sign(0) = 0
    language.grad = None
    token_selection_supervision_loss(video, language, mask, detach_language=True).backward()
    assert language.grad.tolist() == [[[0.0, 0.5]]]  # only the L1 term


def test_keep_ratio_loss_by_hand_and_gradient() -> None:
    keep = torch.tensor([[[1.0, 1.0, 0.0, 1.0]], [[1.0, 0.0, 0.0, 0.0]], [[0.0, 0.0, 0.0, 0.0]]])
    keep.requires_grad_(True)
    mask = torch.tensor([[[True, True, True, False]], [[True, True, False, False]], [[False] * 4]])
    # video 0 keeps 2 of 3 real tokens, video 1 keeps 1 of 2, video 2 has none and is left out
    value = keep_ratio_loss(keep, mask, target=0.25)
    assert value.item() == pytest.approx(((2 / 3 - 0.25) ** 2 + (0.5 - 0.25) ** 2) / 2)
    value.backward()
    # d/du of (share - target)^2 / 2 videos = (share - target) / count on real tokens, 0 elsewhere
    assert keep.grad[0, 0].tolist() == pytest.approx([(2 / 3 - 0.25) / 3] * 3 + [0.0])
    assert keep.grad[1, 0].tolist() == pytest.approx([0.25 / 2] * 2 + [0.0, 0.0])
    assert keep.grad[2].abs().sum().item() == 0.0


def test_total_loss_adds_the_keep_ratio_term_when_set() -> None:
    inputs = _loss_inputs()
    base = LaIARLoss(LaIARLossConfig())(**inputs)
    terms = LaIARLoss(LaIARLossConfig(keep_ratio=0.3, keep_ratio_weight=2.0))(**inputs)
    assert "loss_ratio" not in base
    expected_ratio = keep_ratio_loss(inputs["video_keep"], inputs["mask"], 0.3) + keep_ratio_loss(
        inputs["language_keep"], inputs["mask"], 0.3
    )
    torch.testing.assert_close(terms["loss_ratio"], expected_ratio)
    torch.testing.assert_close(terms["loss"], base["loss"] + 2.0 * expected_ratio)


@pytest.mark.parametrize("multi_label", [True, False])
def test_cross_modal_kl_by_hand_and_teacher_detached(multi_label: bool) -> None:
    language = torch.tensor([[0.0, 0.0]], requires_grad=True)
    video_to_language = torch.tensor([[math.log(3.0), 0.0]], requires_grad=True)
    value = cross_modal_loss(language, video_to_language, multi_label)
    if multi_label:
        # class 0: p = 0.5, q = 0.75; class 1: p = q = 0.5
        expected = 0.5 * math.log(0.5 / 0.75) + 0.5 * math.log(0.5 / 0.25)
    else:
        # p = (0.5, 0.5), q = (0.75, 0.25)
        expected = 0.5 * math.log(0.5 / 0.75) + 0.5 * math.log(0.5 / 0.25)
    assert value.item() == pytest.approx(expected, rel=1e-5)
    value.backward()
    assert language.grad is None
    assert video_to_language.grad.abs().sum() > 0


def test_cross_modal_kl_is_zero_when_matching() -> None:
    logits = torch.randn(3, 5)
    assert cross_modal_loss(logits, logits, True).item() == pytest.approx(0.0, abs=1e-6)
    assert cross_modal_loss(logits, logits, False).item() == pytest.approx(0.0, abs=1e-6)


def _loss_inputs() -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    mask = torch.rand(2, 3, 2, generator=generator) < 0.7
    mask[:, 0, 0] = True
    return dict(
        labels=torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]]),
        mask=mask,
        video_logits=torch.randn(2, 3, generator=generator),
        language_logits=torch.randn(2, 3, generator=generator),
        video_joint=torch.randn(2, 3, 2, 4, generator=generator),
        language_joint=torch.randn(2, 3, 2, 4, generator=generator),
        video_keep=(torch.rand(2, 3, 2, generator=generator) < 0.5).float(),
        language_keep=(torch.rand(2, 3, 2, generator=generator) < 0.5).float(),
        video_to_language_logits=torch.randn(2, 3, generator=generator),
    )


def test_total_loss_is_eq_11_with_every_term_returned() -> None:
    criterion = LaIARLoss(LaIARLossConfig(sim_weight=0.1, tss_weight=1.0, xm_weight=0.1))
    inputs = _loss_inputs()
    terms = criterion(**inputs)
    assert set(terms) == {
        "loss",
        "loss_cls",
        "loss_v",
        "loss_s",
        "loss_sim",
        "loss_tss",
        "loss_xm",
        "logit_scale",
    }
    expected = (
        terms["loss_v"]
        + terms["loss_s"]
        + 0.1 * terms["loss_sim"]
        + terms["loss_tss"]
        + 0.1 * terms["loss_xm"]
    )
    torch.testing.assert_close(terms["loss"], expected)
    torch.testing.assert_close(
        terms["loss_xm"],
        cross_modal_loss(inputs["language_logits"], inputs["video_to_language_logits"], True),
    )
    torch.testing.assert_close(
        terms["loss_tss"],
        token_selection_supervision_loss(inputs["video_keep"], inputs["language_keep"], inputs["mask"]),
    )


def test_terms_switch_off_for_the_ablation() -> None:
    criterion = LaIARLoss(LaIARLossConfig(use_sim=False, use_tss=False, use_xm=False))
    assert list(criterion.parameters()) == []
    inputs = _loss_inputs()
    inputs["video_to_language_logits"] = None
    terms = criterion(**inputs)
    assert set(terms) == {"loss", "loss_cls", "loss_v", "loss_s"}
    torch.testing.assert_close(terms["loss"], terms["loss_cls"])
    with pytest.raises(ValueError, match="use_xm=True needs the P\\^v2s logits"):
        LaIARLoss(LaIARLossConfig())(**inputs)


def test_loss_config_checks() -> None:
    with pytest.raises(ValueError, match="LaIARLossConfig.sim_weight must be >= 0, got -1"):
        LaIARLossConfig(sim_weight=-1)
    with pytest.raises(ValueError, match="keep_ratio must be in \\(0, 1\\] or None, got 0"):
        LaIARLossConfig(keep_ratio=0.0)
