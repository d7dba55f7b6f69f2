"""DT-Former (Sec. 3.1.2): position embedding, [class] token, token selection, pre-LN transformer."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lvlm_var.dtformer.config import DTFormerConfig
from lvlm_var.dtformer.rotary import FrameRotation
from lvlm_var.dtformer.token_selector import Selection, SpatioTemporalSelector

__all__ = ["DTFormer", "DTFormerOutput", "PackedLayout", "TransformerBlock"]


class TransformerBlock(nn.Module):
    """Eqs. 4-5: ``Y = MSA(LN(Y)) + Y; Y = MLP(LN(Y)) + Y`` on ``F.scaled_dot_product_attention``.

    Args:
        dim: token width.
        num_heads: attention heads.
        mlp_ratio: MLP hidden width over ``dim``.
        dropout: dropout on the attention output and in the MLP.
    """

    def __init__(self, dim: int, num_heads: int, mlp_ratio: float, dropout: float) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.norm1 = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.norm2 = nn.LayerNorm(dim)
        hidden = int(dim * mlp_ratio)
        self.mlp = nn.Sequential(
            nn.Linear(dim, hidden),
            nn.GELU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, dim),
            nn.Dropout(dropout),
        )
        self.dropout = nn.Dropout(dropout)

    def forward(
        self,
        x: Tensor,
        key_mask: Tensor,
        layout: PackedLayout | None = None,
        policy: Tensor | None = None,
        rotation: FrameRotation | None = None,
    ) -> Tensor:
        """Apply the block.

        Args:
            x: ``(B, N, D)`` tokens, or ``(M, D)`` packed tokens when ``layout`` is given.
            key_mask: ``(B, N)`` (or ``layout.key_mask``) bool, True for tokens that may be attended to
                (at least one per row).
            layout: packed mode: the linear layers run on the ``M`` real tokens only and attention on
                their padded ``(B, L)`` arrangement.
            policy: ``(B, N)`` float keep decisions in {0, 1} (differentiable): attention weights are
                multiplied by it and renormalised (DynamicViT), which equals excluding the dropped keys
                in the forward pass while giving every dropped key the gradient of being attended.
            rotation: rotate queries and keys by their frames (in the padded arrangement).

        Returns:
            same shape as ``x``.
        """
        qkv = self.qkv(self.norm1(x))
        if layout is not None:
            qkv = layout.unpack(qkv)
        batch, length, _ = qkv.shape
        q, k, v = qkv.reshape(batch, length, 3, self.num_heads, -1).permute(2, 0, 3, 1, 4)
        if rotation is not None:
            q, k = rotation(q), rotation(k)
        if policy is None:
            attended = F.scaled_dot_product_attention(q, k, v, attn_mask=key_mask[:, None, None, :])
        else:
            attended = _policy_attention(q, k, v, key_mask, policy)
        attended = attended.transpose(1, 2).reshape(batch, length, -1)
        if layout is not None:
            attended = layout.pack(attended)
        x = x + self.dropout(self.proj(attended))
        return x + self.mlp(self.norm2(x))


def _policy_attention(q: Tensor, k: Tensor, v: Tensor, key_mask: Tensor, policy: Tensor) -> Tensor:
    """``softmax(q k^T / sqrt(d)) * policy``, renormalised over keys, times ``v``: ``(B, H, N, d)``."""
    scores = (q @ k.transpose(-2, -1)) * q.shape[-1] ** -0.5
    scores = scores.masked_fill(~key_mask[:, None, None, :], float("-inf"))
    weights = torch.softmax(scores, dim=-1) * policy[:, None, None, :]
    weights = weights / weights.sum(-1, keepdim=True).clamp(min=torch.finfo(weights.dtype).tiny)
    return weights @ v


@dataclass
class PackedLayout:
    """Where the rows of a packed ``(M, C)`` token sequence sit in a padded ``(B, L, C)`` batch.

    Attributes:
        index: ``(M,)`` long, position of each packed token in the flattened ``B * L`` layout.
        key_mask: ``(B, L)`` bool, True for real tokens (each row's first ``lengths[b]``).
        row_starts: ``(B,)`` long, packed index of each row's first token.
    """

    index: Tensor
    key_mask: Tensor
    row_starts: Tensor

    @classmethod
    def from_mask(cls, valid: Tensor) -> PackedLayout:
        """Layout of ``sequence[valid]`` (row-major order) for a ``(B, N)`` bool ``valid``."""
        lengths = valid.sum(1)
        length = int(lengths.max().item())
        rows = torch.arange(valid.shape[0], device=valid.device).unsqueeze(1)
        index = (rows * length + valid.long().cumsum(1) - 1)[valid]
        key_mask = torch.arange(length, device=valid.device) < lengths.unsqueeze(1)
        return cls(index=index, key_mask=key_mask, row_starts=lengths.cumsum(0) - lengths)

    def unpack(self, packed: Tensor) -> Tensor:
        """``(M, C) -> (B, L, C)`` with zeros at padding."""
        batch, length = self.key_mask.shape
        padded = packed.new_zeros(batch * length, packed.shape[-1]).index_copy(0, self.index, packed)
        return padded.view(batch, length, -1)

    def pack(self, padded: Tensor) -> Tensor:
        """``(B, L, C) -> (M, C)``."""
        return padded.reshape(-1, padded.shape[-1]).index_select(0, self.index)


@dataclass
class DTFormerOutput:
    """What one DT-Former pass produces.

    Attributes:
        z: ``(B, D)`` video-level representation ``LN(Y^L_0)`` (Eq. 6).
        selection: the selection signals (``selection.keep`` is ``U``, ``(B, T, K)``).
        tokens_kept: ``(B,)`` float, kept tokens per video (the paper's "Num").
        tokens_total: ``(B,)`` float, valid tokens per video.
        outputs: with ``readout="token_max"``, ``(B, 1 + T K, D)`` ``LN(Y^L)``: ``z`` then every token's
            output in ``(t, k)`` order (zeros where a token was not computed); else ``None``.
        readout_mask: with ``outputs``, ``(B, 1 + T K)`` bool: ``[class]`` and the kept tokens.
    """

    z: Tensor
    selection: Selection
    tokens_kept: Tensor
    tokens_total: Tensor
    outputs: Tensor | None = None
    readout_mask: Tensor | None = None

    def read(self, head: nn.Module) -> Tensor:
        """``(B, C)`` class scores: ``head(z)``, or each class's largest ``head`` score over ``[class]``
        and the kept tokens (``readout="token_max"``)."""
        if self.outputs is None:
            return head(self.z)
        scores = head(self.outputs)
        return scores.masked_fill(~self.readout_mask.unsqueeze(-1), float("-inf")).amax(1)


class DTFormer(nn.Module):
    """Dynamic Token Transformer.

    In training (and in eval with ``drop=False``) every token stays in the sequence and padding is never
    attended. How unselected tokens leave attention during training is ``config.selection_gradient``:

    * ``"attention_policy"`` (default): the attention weights are multiplied by ``U`` and renormalised
      (DynamicViT). The forward pass equals dropping the tokens, and a dropped token still receives the
      gradient of being attended, so the selector can bring it back. Without this a dropped token's
      decision gets gradient only from ``L_tss``, which (with the L1 term) only pushes it further down:
      on our synthetic data the selection collapsed to no token at all within a few epochs.
    * ``"masked_multiply"``: the paper's ``Y = U X`` literally, with unselected tokens also masked out
      of attention as keys; the selector gets task gradients through the kept tokens only.

    In eval with ``drop=False``, unselected tokens are masked as keys (``F.scaled_dot_product_attention``).
    Dropped tokens still compute as queries, which costs time but changes nothing: the [class] output
    depends only on attended keys. With ``drop=True`` (eval default) only the kept tokens (and [class])
    are computed: the linear layers run on them packed without padding, attention on their per-video
    padded arrangement (:class:`PackedLayout`), so inference cost falls with retention; both eval paths
    give the same logits.

    The learnable spatio-temporal position embedding ``e_(t,k)`` is factorised as ``e_t + e_k`` (one
    vector per frame plus one per pair slot) rather than one free vector per ``(t, k)`` cell: every video
    then trains the same ``T`` temporal vectors whatever slots its pairs occupy (pair slots follow the
    detector's order, so a cell of its own per slot and frame mostly learns from a few videos).

    Args:
        config: DT-Former hyperparameters.
    """

    def __init__(self, config: DTFormerConfig) -> None:
        super().__init__()
        self.config = config
        self.temporal_embed = nn.Parameter(torch.zeros(config.num_frames, config.dim))
        self.pair_embed = nn.Parameter(torch.zeros(config.max_pairs, config.dim))
        self.cls_token = nn.Parameter(torch.zeros(config.dim))
        nn.init.trunc_normal_(self.temporal_embed, std=0.02)
        nn.init.trunc_normal_(self.pair_embed, std=0.02)
        nn.init.trunc_normal_(self.cls_token, std=0.02)
        self.selector = SpatioTemporalSelector(
            config.dim,
            config.selector_hidden,
            config.gumbel_tau,
            config.init_keep_bias,
            temporal=config.temporal_selection,
            spatial=config.spatial_selection,
            eval_threshold=config.eval_keep_threshold,
        )
        self.blocks = nn.ModuleList(
            TransformerBlock(config.dim, config.num_heads, config.mlp_ratio, config.dropout)
            for _ in range(config.depth)
        )
        self.selector_blocks = nn.ModuleList(
            TransformerBlock(config.dim, config.num_heads, config.mlp_ratio, config.dropout)
            for _ in range(config.selector_blocks)
        )
        self.norm = nn.LayerNorm(config.dim)

    @property
    def pos_embed(self) -> Tensor:
        """``(num_frames, max_pairs, D)`` spatio-temporal position embedding ``e_(t,k) = e_t + e_k``."""
        return self.temporal_embed[:, None] + self.pair_embed[None]

    def forward(
        self,
        tokens: Tensor,
        mask: Tensor,
        drop: bool | None = None,
        select: bool = True,
        keep: Tensor | None = None,
    ) -> DTFormerOutput:
        """Select tokens and encode the video.

        Args:
            tokens: ``(B, T, K, D)`` joint-space tokens, ``T <= num_frames``, ``K <= max_pairs``.
            mask: ``(B, T, K)`` bool, True for real pairs.
            drop: gather the kept tokens instead of masking; default ``not training and drop_at_eval``.
            select: run the token selector; False keeps every real pair (the selector gets no gradient).
            keep: ``(B, T, K)`` bool, a selection given from outside (explanations and their faithfulness:
                only these real pairs are used, the selector is not run).

        Returns:
            the :class:`DTFormerOutput`.

        Raises:
            ValueError: ``T`` or ``K`` exceeds the position embedding.
        """
        batch, frames, pairs, dim = tokens.shape
        if frames > self.config.num_frames or pairs > self.config.max_pairs:
            raise ValueError(
                f"DT-Former input has T={frames}, K={pairs}; this model was built for at most "
                f"T={self.config.num_frames}, K={self.config.max_pairs} "
                "(DTFormerConfig.num_frames / max_pairs)"
            )
        if drop is None:
            drop = not self.training and self.config.drop_at_eval
        x = tokens + self.temporal_embed[:frames, None] + self.pair_embed[None, :pairs]
        cls = self.cls_token.expand(batch, dim)
        if keep is not None:
            selection = Selection.keep_all(mask & keep, x.dtype)
        else:
            selection = self._select(x, cls, mask) if select else Selection.keep_all(mask, x.dtype)
        keep = selection.keep.flatten(1)
        frames_of = self._sequence_frames(frames, pairs, x.device, x.dtype)
        rotation = self._rotation(frames_of.unsqueeze(0))
        if self.training and not drop and self.config.selection_gradient == "attention_policy":
            sequence, key_mask = _with_class_token(cls, x.flatten(1, 2), mask.flatten(1))
            policy = torch.cat([keep.new_ones(batch, 1), keep], dim=1)
            for block in self.blocks:
                sequence = block(sequence, key_mask, policy=policy, rotation=rotation)
            return self._output(sequence, selection, mask)
        sequence, key_mask = _with_class_token(cls, x.flatten(1, 2) * keep.unsqueeze(-1), keep > 0)
        if drop:
            layout = PackedLayout.from_mask(key_mask)
            packed = sequence[key_mask]
            if rotation is not None:
                packed_frames = frames_of.expand(batch, -1)[key_mask].unsqueeze(-1)
                rotation = self._rotation(layout.unpack(packed_frames).squeeze(-1))
            for block in self.blocks:
                packed = block(packed, layout.key_mask, layout, rotation=rotation)
            sequence = packed.new_zeros(sequence.shape).index_put((key_mask,), packed)
        else:
            for block in self.blocks:
                sequence = block(sequence, key_mask, rotation=rotation)
        return self._output(sequence, selection, mask)

    @staticmethod
    def _sequence_frames(frames: int, pairs: int, device: torch.device, dtype: torch.dtype) -> Tensor:
        """``(1 + T K,)`` frame index of each sequence position (``[class]`` at frame 0)."""
        tokens = torch.arange(frames, device=device, dtype=dtype).repeat_interleave(pairs)
        return torch.cat([tokens.new_zeros(1), tokens])

    def _rotation(self, frames: Tensor) -> FrameRotation | None:
        """The rotation of ``(B, L)`` frame indices, or ``None`` without ``rotary_time``."""
        if not self.config.rotary_time:
            return None
        return FrameRotation.of_frames(frames, self.config.dim // self.config.num_heads)

    def _select(self, x: Tensor, cls: Tensor, mask: Tensor) -> Selection:
        """Run the selectors on the embedded tokens, after the selector blocks when there are any."""
        if len(self.selector_blocks):
            frames, pairs = x.shape[1:3]
            sequence, key_mask = _with_class_token(cls, x.flatten(1, 2), mask.flatten(1))
            rotation = self._rotation(self._sequence_frames(frames, pairs, x.device, x.dtype).unsqueeze(0))
            for block in self.selector_blocks:
                sequence = block(sequence, key_mask, rotation=rotation)
            cls, x = sequence[:, 0], sequence[:, 1:].unflatten(1, (frames, pairs))
        if self.config.selector_context == "class_token":
            context = cls
        else:
            maskf = mask.to(x.dtype).unsqueeze(-1)
            context = (x * maskf).sum((1, 2)) / maskf.sum((1, 2)).clamp(min=1.0)
        return self.selector(x, context, mask)

    def _output(self, sequence: Tensor, selection: Selection, mask: Tensor) -> DTFormerOutput:
        """The output of the ``(B, 1 + T K, D)`` last-block sequence."""
        keep = selection.keep.flatten(1)
        outputs = readout_mask = None
        if self.config.readout == "token_max":
            outputs = self.norm(sequence)
            readout_mask = torch.cat([keep.new_ones(keep.shape[0], 1, dtype=torch.bool), keep > 0.5], 1)
        return DTFormerOutput(
            z=self.norm(sequence[:, 0]) if outputs is None else outputs[:, 0],
            selection=selection,
            tokens_kept=keep.detach().sum(1),
            tokens_total=mask.flatten(1).sum(1).to(keep.dtype),
            outputs=outputs,
            readout_mask=readout_mask,
        )


def _with_class_token(cls: Tensor, tokens: Tensor, token_mask: Tensor) -> tuple[Tensor, Tensor]:
    """``[class]`` prepended to ``(B, N, D)`` tokens, and to their ``(B, N)`` bool key mask (always
    attended): ``(B, 1 + N, D)`` and ``(B, 1 + N)``."""
    sequence = torch.cat([cls.unsqueeze(1), tokens], dim=1)
    return sequence, torch.cat([token_mask.new_ones(token_mask.shape[0], 1), token_mask], dim=1)
