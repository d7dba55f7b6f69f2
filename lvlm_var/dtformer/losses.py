"""The LaIAR learning scheme (Sec. 3.2): L = L_cls + delta L_sim + zeta L_tss + eta L_xm (Eq. 11)."""

from __future__ import annotations

import math

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import Tensor, nn

from lvlm_var.dtformer.config import LaIARLossConfig

__all__ = [
    "classification_loss",
    "RelationContrastiveLoss",
    "token_selection_supervision_loss",
    "keep_ratio_loss",
    "cross_modal_loss",
    "LaIARLoss",
]


def classification_loss(logits: Tensor, labels: Tensor, multi_label: bool) -> Tensor:
    """``L_v`` or ``L_s``: BCE-with-logits over classes (multi-label) or softmax cross-entropy.

    The multi-label loss sums its ``C`` binary terms (and averages over the batch), as ``L_xm`` does, so
    its weight against ``L_sim``, ``L_tss`` and ``L_xm`` does not fall with the number of classes. A mean
    over classes made it ``C`` times smaller: at Charades' 157 classes with about 7 positives a video,
    the auxiliary terms outweighed it and the video branch learned nearly nothing (see the README).

    Args:
        logits: ``(B, C)``.
        labels: ``(B, C)`` multi-hot float (multi-label) or ``(B,)`` long class indices.
        multi_label: which of the two.

    Returns:
        scalar: mean over the batch of the summed BCE over classes, or of the cross-entropy.
    """
    if multi_label:
        per_class = F.binary_cross_entropy_with_logits(logits, labels.to(logits.dtype), reduction="none")
        return per_class.sum(-1).mean()
    return F.cross_entropy(logits, labels)


def _gather_with_local_grad(features: Tensor) -> tuple[Tensor, int]:
    """Concatenate the rows of every rank; this rank's rows keep their gradient.

    Ranks may hold different numbers of rows (valid relation tokens vary), so rows are padded to the
    largest count for ``all_gather`` and the padding is cut afterwards.

    Returns:
        ``(N_global, D)`` rows of all ranks in rank order, and the offset of this rank's rows.
    """
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return features, 0
    world, rank = dist.get_world_size(), dist.get_rank()
    count = torch.tensor([features.shape[0]], device=features.device)
    counts = [torch.zeros_like(count) for _ in range(world)]
    dist.all_gather(counts, count)
    counts = [int(c.item()) for c in counts]
    padded = features.new_zeros(max(counts), features.shape[1])
    padded[: features.shape[0]] = features.detach()
    gathered = [torch.zeros_like(padded) for _ in range(world)]
    dist.all_gather(gathered, padded)
    parts = [g[:c] for g, c in zip(gathered, counts, strict=True)]
    parts[rank] = features
    return torch.cat(parts), sum(counts[:rank])


class RelationContrastiveLoss(nn.Module):
    """``L_sim`` (Eq. 8): symmetric InfoNCE over the paired visual / semantic relation embeddings.

    Every valid (non-padding) token of the batch is one pair; the negatives of a pair are all the other
    tokens of the global batch (gathered from every rank under DDP, with this rank's gradient kept, as in
    open_clip's ``ClipLoss(local_loss=True)``). The temperature is learnable as a CLIP logit scale.
    Given each token's semantic content (``same_as``), tokens with equal content are each other's
    positives: each side's loss is ``-log`` of the softmax mass on all of them (multi-positive InfoNCE).

    Args:
        init_temperature: initial temperature ``t`` (logit scale ``1 / t``).
        max_logit_scale: clamp of the logit scale.
    """

    def __init__(self, init_temperature: float = 0.07, max_logit_scale: float = 100.0) -> None:
        super().__init__()
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1.0 / init_temperature)))
        self.max_log_scale = math.log(max_logit_scale)

    def scale(self) -> Tensor:
        return self.logit_scale.clamp(max=self.max_log_scale).exp()

    def forward(
        self, visual: Tensor, semantic: Tensor, mask: Tensor, same_as: Tensor | None = None
    ) -> Tensor:
        """Compute the loss.

        Args:
            visual: ``(B, T, K, E)`` visual relation embeddings.
            semantic: ``(B, T, K, E)`` semantic relation embeddings of the same pairs.
            mask: ``(B, T, K)`` bool, True for real pairs.
            same_as: ``(B, T, K, A)`` float, what each token's semantic embedding is computed from (e.g.
                its object class and relations); ``None``: only a token's own pair is its positive.

        Returns:
            scalar loss; 0 (with a graph) when this rank has no valid pair.
        """
        x = F.normalize(visual[mask], dim=-1)
        y = F.normalize(semantic[mask], dim=-1)
        all_x, offset = _gather_with_local_grad(x)
        all_y, _ = _gather_with_local_grad(y)
        if x.shape[0] == 0:
            return (visual.sum() + semantic.sum() + self.logit_scale) * 0.0
        scale = self.scale()
        if same_as is None:
            targets = torch.arange(x.shape[0], device=x.device) + offset
            visual_to_semantic = F.cross_entropy(scale * x @ all_y.T, targets)
            semantic_to_visual = F.cross_entropy(scale * y @ all_x.T, targets)
        else:
            content = same_as[mask].to(x.dtype)
            all_content, _ = _gather_with_local_grad(content)
            positive = (content[:, None] == all_content[None]).all(-1)
            visual_to_semantic = _multi_positive_nce(scale * x @ all_y.T, positive)
            semantic_to_visual = _multi_positive_nce(scale * y @ all_x.T, positive)
        return (visual_to_semantic + semantic_to_visual) / 2


def _multi_positive_nce(logits: Tensor, positive: Tensor) -> Tensor:
    """Mean over rows of ``-log`` (softmax mass on the row's positives); ``positive`` is ``(N, M)`` bool."""
    on_positives = torch.logsumexp(logits.masked_fill(~positive, float("-inf")), dim=-1)
    return (torch.logsumexp(logits, dim=-1) - on_positives).mean()


def token_selection_supervision_loss(
    video_keep: Tensor,
    language_keep: Tensor,
    mask: Tensor,
    sparsity_weight: float = 1.0,
    detach_language: bool = False,
) -> Tensor:
    """``L_tss`` (Eq. 9): ``mean_{t,k} (u^v - u^s)^2 + sparsity_weight * |u^s|``.

    The mean runs over each video's valid tokens, then over the videos that have any.

    Args:
        video_keep: ``(B, T, K)`` ``U^v``.
        language_keep: ``(B, T, K)`` ``U^s``.
        mask: ``(B, T, K)`` bool, True for real pairs.
        sparsity_weight: weight of the L1 term (1 in Eq. 9).
        detach_language: no gradient from the squared term into ``U^s``.

    Returns:
        scalar.
    """
    target = language_keep.detach() if detach_language else language_keep
    per_token = (video_keep - target) ** 2 + sparsity_weight * language_keep.abs()
    per_video, has_tokens = _per_video_mean(per_token, mask)
    return _mean_over_videos(per_video, has_tokens)


def keep_ratio_loss(keep: Tensor, mask: Tensor, target: float) -> Tensor:
    """DynamicViT's ratio loss: mean over videos of ``(kept share - target)^2``.

    Args:
        keep: ``(B, T, K)`` selection ``U`` (0 on padding).
        mask: ``(B, T, K)`` bool, True for real pairs.
        target: the share of each video's real tokens to keep.

    Returns:
        scalar; videos without real tokens are left out.
    """
    share, has_tokens = _per_video_mean(keep, mask)
    return _mean_over_videos((share - target) ** 2, has_tokens)


def _per_video_mean(values: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
    """``(B,)`` mean of ``(B, T, K)`` values over each video's real tokens, and ``(B,)`` 1.0 where the
    video has any (0.0 elsewhere)."""
    maskf = mask.to(values.dtype)
    counts = maskf.sum((1, 2))
    return (values * maskf).sum((1, 2)) / counts.clamp(min=1.0), (counts > 0).to(values.dtype)


def _mean_over_videos(per_video: Tensor, has_tokens: Tensor) -> Tensor:
    """Mean of ``per_video`` over the videos that have real tokens."""
    return (per_video * has_tokens).sum() / has_tokens.sum().clamp(min=1.0)


def cross_modal_loss(language_logits: Tensor, video_to_language_logits: Tensor, multi_label: bool) -> Tensor:
    """``L_xm`` (Eq. 10): ``KL(P^s || P^{v2s})``, summed over classes, mean over the batch.

    The language prediction is the (detached) teacher. Multi-label: one Bernoulli KL per class on the
    sigmoid probabilities; single-label: the KL of the softmax distributions. (Eq. 10 prints a leading
    minus sign, which would make the divergence negative; we minimise the divergence itself.)

    Args:
        language_logits: ``(B, C)`` ``P^s`` logits.
        video_to_language_logits: ``(B, C)`` ``P^{v2s}`` logits.
        multi_label: Bernoulli per class instead of categorical.

    Returns:
        scalar.
    """
    teacher = language_logits.detach()
    if multi_label:
        p = torch.sigmoid(teacher)
        log_p, log_not_p = F.logsigmoid(teacher), F.logsigmoid(-teacher)
        log_q, log_not_q = F.logsigmoid(video_to_language_logits), F.logsigmoid(-video_to_language_logits)
        kl = p * (log_p - log_q) + (1 - p) * (log_not_p - log_not_q)
        return kl.sum(-1).mean()
    log_p = F.log_softmax(teacher, dim=-1)
    log_q = F.log_softmax(video_to_language_logits, dim=-1)
    return F.kl_div(log_q, log_p, log_target=True, reduction="batchmean")


class LaIARLoss(nn.Module):
    """Eq. 11 with every term switchable (Table 2 ablation) and returned separately.

    Args:
        config: weights and switches. The learnable temperature exists only when ``use_sim``.
    """

    def __init__(self, config: LaIARLossConfig) -> None:
        super().__init__()
        self.config = config
        self.contrastive = (
            RelationContrastiveLoss(config.init_temperature, config.max_logit_scale)
            if config.use_sim
            else None
        )

    def forward(
        self,
        labels: Tensor,
        mask: Tensor,
        video_logits: Tensor,
        language_logits: Tensor,
        video_joint: Tensor,
        language_joint: Tensor,
        video_keep: Tensor,
        language_keep: Tensor,
        video_to_language_logits: Tensor | None,
        semantic_content: Tensor | None = None,
    ) -> dict[str, Tensor]:
        """Compute every term.

        Args:
            labels: ``(B, C)`` multi-hot or ``(B,)`` class indices.
            mask: ``(B, T, K)`` bool valid pairs.
            video_logits, language_logits: ``(B, C)`` ``P^v``, ``P^s``.
            video_joint, language_joint: ``(B, T, K, E)`` joint-space relation embeddings.
            video_keep, language_keep: ``(B, T, K)`` selection ``U^v``, ``U^s``.
            video_to_language_logits: ``(B, C)`` ``P^{v2s}``; required when ``use_xm``.
            semantic_content: ``(B, T, K, A)`` what each language token is computed from; required when
                ``sim_positives="same_relation"``.

        Returns:
            ``loss`` (Eq. 11), ``loss_cls``, ``loss_v``, ``loss_s`` and, for the enabled terms, the
            unweighted ``loss_sim``, ``loss_tss``, ``loss_xm``, ``loss_ratio`` and the current
            ``logit_scale``.

        Raises:
            ValueError: ``use_xm`` without ``video_to_language_logits``, or ``same_relation`` positives
                without ``semantic_content``.
        """
        config = self.config
        terms: dict[str, Tensor] = {
            "loss_v": classification_loss(video_logits, labels, config.multi_label),
            "loss_s": classification_loss(language_logits, labels, config.multi_label),
        }
        terms["loss_cls"] = terms["loss_v"] + terms["loss_s"]
        loss = terms["loss_cls"]
        if self.contrastive is not None:
            if config.sim_positives == "same_relation" and semantic_content is None:
                raise ValueError("LaIARLoss: sim_positives='same_relation' needs the semantic_content")
            same_as = semantic_content if config.sim_positives == "same_relation" else None
            terms["loss_sim"] = self.contrastive(video_joint, language_joint, mask, same_as)
            terms["logit_scale"] = self.contrastive.scale().detach()
            loss = loss + config.sim_weight * terms["loss_sim"]
        if config.use_tss:
            terms["loss_tss"] = token_selection_supervision_loss(
                video_keep, language_keep, mask, config.sparsity_weight, config.tss_detach_language
            )
            loss = loss + config.tss_weight * terms["loss_tss"]
        if config.keep_ratio is not None:
            terms["loss_ratio"] = keep_ratio_loss(video_keep, mask, config.keep_ratio) + keep_ratio_loss(
                language_keep, mask, config.keep_ratio
            )
            loss = loss + config.keep_ratio_weight * terms["loss_ratio"]
        if config.use_xm:
            if video_to_language_logits is None:
                raise ValueError(
                    "LaIARLoss: use_xm=True needs the P^v2s logits (build LaIAR with cross_modal_head)"
                )
            terms["loss_xm"] = cross_modal_loss(language_logits, video_to_language_logits, config.multi_label)
            loss = loss + config.xm_weight * terms["loss_xm"]
        terms["loss"] = loss
        return terms
