"""What the clips assigned each code do: per-code kinematics sums and the training set's speed distribution.

:class:`CodeStatistics` accumulates, over one training epoch, for every code the summed part velocities,
part speeds and poses (:func:`~lvlm_var.vst.kinematics.step_kinematics`) of the input steps assigned to it,
and a histogram of every step's fastest-part speed; and, per narrative segment (a flicker-absorbed run,
:func:`~lvlm_var.vst.narrative.token_runs`), votes: which body part was the fastest in each of the code's
segments, which way each part went, whether both sides moved (:class:`SegmentVotes`). The names
(:mod:`lvlm_var.vst.naming`) claim what most of a code's segments agree on and take their words from the
means; the speed thresholds are quantiles of the histogram, so they are calibrated to the data set (its
frame rate, its performers' pace) instead of hand-tuned. The sums are buffers (the VSTModule keeps a
persistent copy, so a checkpoint carries the calibration) and those of several processes add up
(``copy_from``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import torch
from torch import Tensor

from ..skeleton_layout import layout_for_num_joints
from .config import VSTConfig
from .kinematics import (
    GROUPS,
    PART_GROUPS,
    PARTS,
    SIDE_PAIRS,
    StepKinematics,
    segment_motion,
    step_kinematics,
)
from .narrative import token_runs
from .optional_state import OptionalBuffers

__all__ = ["SpeedThresholds", "SegmentVotes", "CodeKinematics", "CodeStatistics"]

# Log-spaced speed bins, torso lengths / s: 1e-3 (jitter) to 1e2 (beyond any body motion).
_BINS = torch.logspace(-3.0, 2.0, 201, dtype=torch.float64)
_GROUP_OF_PART = torch.tensor([GROUPS.index(PART_GROUPS[part]) for part in PARTS])
_BOTH_SIDES_SHARE = 0.5  # the slower side of a pair at least this fast relative to the faster: both move
_WITH_GROUP_SHARE = 0.5  # a part at least this fast relative to its group's fastest part moves with it


class SpeedThresholds(NamedTuple):
    """Speeds (torso lengths / s) below which a part is still, moves slowly; above which it moves fast."""

    still: float
    slow: float
    fast: float


class SegmentVotes(NamedTuple):
    """How the training segments assigned one code moved: counts of segments (each one vote).

    Attributes:
        count: the code's segments.
        fastest: ``(G,)`` segments whose fastest part (largest mean speed) lies in each group of
            :data:`~lvlm_var.vst.kinematics.GROUPS`.
        positive: ``(G, P, 3)`` of those, the segments in which part ``p`` of :data:`PARTS` moved with its
            group (at least half as fast as the group's fastest part) and was displaced along the positive
            axis; ``negative`` along the negative one.
        dominant: ``(G, P, 3)`` of those, the segments in which part ``p`` moved with its group and the
            axis carried most of its displacement.
        both_sides: ``(len(SIDE_PAIRS),)`` segments in which both sides of the pair moved (the slower at
            least half as fast as the faster).
        top_speed: histogram of the segments' fastest-part speeds (the bins of the step histogram).
    """

    count: float
    fastest: Tensor
    positive: Tensor
    negative: Tensor
    dominant: Tensor
    both_sides: Tensor
    top_speed: Tensor

    def slower_than(self, speed: float) -> float:
        """Segments whose fastest part moved slower than ``speed`` (to the histogram's bin edges)."""
        upper_edges = torch.cat([_BINS, torch.tensor([math.inf], dtype=_BINS.dtype)])
        return float(self.top_speed[upper_edges <= speed * (1 + 1e-9)].sum())


class CodeKinematics(NamedTuple):
    """What the training steps assigned one code do, on average (torso lengths, per second).

    Attributes:
        velocity: ``(P, 3)`` mean signed velocity of every part of :data:`PARTS`.
        axis_speed: ``(P, 3)`` mean absolute velocity along each axis (large where ``velocity`` is small: the
            part goes both ways).
        speed: ``(P,)`` mean speed of every part.
        fastest: ``(P,)`` share of the steps in which each part was the fastest.
        top_speed: median over the steps of the fastest part's speed.
        pose: ``(V, 3)`` mean joint positions relative to the spine base.
        segments: the votes of the code's segments (``count`` 0 in a calibration saved before there were
            votes).
    """

    velocity: Tensor
    axis_speed: Tensor
    speed: Tensor
    fastest: Tensor
    top_speed: float
    pose: Tensor
    segments: SegmentVotes


def _quantile(histogram: Tensor, q: float) -> float:
    """The ``q`` quantile of speeds binned in ``histogram`` (the upper edge of the bin it falls in)."""
    cumulative = histogram.cumsum(0) / histogram.sum().clamp(min=1e-12)
    # bucketize puts speeds in (BINS[i-1], BINS[i]] into bin i; the last bin is open-ended.
    edges = torch.cat([_BINS, _BINS[-1:]]).to(cumulative.device)
    index = int(
        torch.searchsorted(cumulative, torch.tensor(q, dtype=cumulative.dtype, device=cumulative.device))
    )
    return float(edges[min(index, len(edges) - 1)])


class _SegmentSums(OptionalBuffers):
    """The per-code sums of :class:`SegmentVotes` (its own module: a calibration saved before the votes
    existed loads without them)."""

    def __init__(self, size: int, persistent: bool) -> None:
        super().__init__()
        groups, parts, pairs = len(GROUPS), len(PARTS), len(SIDE_PAIRS)
        shapes = {
            "count": (size,),
            "fastest": (size, groups),
            "positive": (size, groups, parts, 3),
            "negative": (size, groups, parts, 3),
            "dominant": (size, groups, parts, 3),
            "both_sides": (size, pairs),
            "top_speed": (size, len(_BINS) + 1),
        }
        for name, shape in shapes.items():
            self.register_buffer(name, torch.zeros(shape, dtype=torch.float64), persistent=persistent)

    def accumulate(self, codes: Tensor, speed: Tensor, velocity: Tensor) -> None:
        """Add segments of ``codes`` ``(N,)``: mean part speeds ``(N, P)``, mean velocities ``(N, P, 3)``."""
        group_of_part = _GROUP_OF_PART.to(codes.device)
        fastest = torch.nn.functional.one_hot(group_of_part[speed.argmax(dim=-1)], len(GROUPS)).double()
        group_speed = torch.stack(
            [speed[:, group_of_part == g].amax(dim=-1) for g in range(len(GROUPS))], dim=-1
        )
        # A part votes for a direction only where it moves with its group (a still elbow under a moving
        # hand has no direction, only jitter).
        moving = speed >= _WITH_GROUP_SHARE * group_speed[:, group_of_part].clamp(min=1e-12)
        by_group = fastest[:, :, None, None] * moving.double()[:, None, :, None]
        dominant = torch.nn.functional.one_hot(velocity.abs().argmax(dim=-1), 3).double()
        pair_speed = group_speed[:, [[GROUPS.index(g) for g in pair] for pair in SIDE_PAIRS]]
        both = pair_speed.amin(-1) >= _BOTH_SIDES_SHARE * pair_speed.amax(-1).clamp(min=1e-12)
        self.count.index_add_(0, codes, torch.ones_like(codes, dtype=self.count.dtype))
        self.fastest.index_add_(0, codes, fastest)
        self.positive.index_add_(0, codes, by_group * (velocity > 0).double()[:, None])
        self.negative.index_add_(0, codes, by_group * (velocity < 0).double()[:, None])
        self.dominant.index_add_(0, codes, by_group * dominant[:, None])
        self.both_sides.index_add_(0, codes, both.double())
        bins = torch.bucketize(speed.amax(dim=-1), _BINS.to(speed.device))
        self.top_speed.index_put_((codes, bins), torch.ones_like(bins, dtype=torch.float64), accumulate=True)

    def votes(self, k: int) -> SegmentVotes:
        return SegmentVotes(
            float(self.count[k]),
            *(buffer[k].cpu() for buffer in (self.fastest, self.positive, self.negative, self.dominant)),
            self.both_sides[k].cpu(),
            self.top_speed[k].cpu(),
        )


class CodeStatistics(OptionalBuffers):
    """Per-code kinematics of the training clips and the speed distribution that calibrates the names.

    Args:
        config: the VST hyperparameters (codebook size, layout, steps, frame rate, speed quantiles).
        persistent: whether the sums are saved in checkpoints.
    """

    def __init__(self, config: VSTConfig, persistent: bool = True) -> None:
        super().__init__()
        self.config = config
        self.layout = layout_for_num_joints(config.num_joints)
        parts, size = len(PARTS), config.codebook_size
        shapes = {
            "counts": (size,),
            "velocity_sum": (size, parts, 3),
            "axis_speed_sum": (size, parts, 3),
            "speed_sum": (size, parts),
            "fastest_counts": (size, parts),
            "pose_sum": (size, config.num_joints, 3),
            "speed_histogram": (size, len(_BINS) + 1),
        }
        for name, shape in shapes.items():
            self.register_buffer(name, torch.zeros(shape, dtype=torch.float64), persistent=persistent)
        self.segments = _SegmentSums(size, persistent)

    def kinematics(self, skeleton: Tensor) -> StepKinematics:
        """:func:`step_kinematics` of ``skeleton`` ``(B, 3, T, V, M)`` at this model's steps and fps."""
        return step_kinematics(skeleton, self.layout, self.config.temporal_downsample, self.config.frame_rate)

    def reset(self) -> None:
        for buffer in self.buffers():
            buffer.zero_()

    @torch.no_grad()
    def accumulate(self, skeleton: Tensor, codes: Tensor) -> None:
        """Add the steps of ``skeleton`` ``(B, 3, T, V, M)`` quantized to ``codes`` ``(B, S)``, and its
        narrative segments (the runs of ``codes`` after flicker absorption at the config's ``min_run``)."""
        steps = self.kinematics(skeleton)
        keep = steps.present.flatten()
        flat_codes = codes.flatten()[keep]
        velocity = steps.velocity.flatten(0, 1)[keep].double()
        speed = steps.speed.flatten(0, 1)[keep].double()
        self.counts.index_add_(0, flat_codes, torch.ones_like(flat_codes, dtype=self.counts.dtype))
        self.velocity_sum.index_add_(0, flat_codes, velocity)
        self.axis_speed_sum.index_add_(0, flat_codes, velocity.abs())
        self.speed_sum.index_add_(0, flat_codes, speed)
        fastest = torch.nn.functional.one_hot(speed.argmax(dim=-1), len(PARTS)).double()
        self.fastest_counts.index_add_(0, flat_codes, fastest)
        self.pose_sum.index_add_(0, flat_codes, steps.pose.flatten(0, 1)[keep].double())
        bins = torch.bucketize(speed.amax(dim=-1), _BINS.to(speed.device))
        self.speed_histogram.index_put_(
            (flat_codes, bins), torch.ones_like(bins, dtype=torch.float64), accumulate=True
        )
        segments = [
            (code, motion)
            for row, clip in enumerate(codes.tolist())
            for code, start, length in token_runs(clip, self.config.min_run)
            if (motion := segment_motion(steps, row, start, length)) is not None
        ]
        if segments:
            self.segments.accumulate(
                torch.tensor([code for code, _ in segments], device=codes.device),
                torch.stack([motion[0] for _, motion in segments]).double(),
                torch.stack([motion[1] for _, motion in segments]).double(),
            )

    def copy_from(self, other: CodeStatistics, reduce: Callable[[Tensor], Tensor] | None = None) -> None:
        """Set these sums to ``other``'s, summed over processes by ``reduce`` when given."""
        for mine, theirs in zip(self.buffers(), other.buffers(), strict=True):
            mine.copy_(reduce(theirs.clone()) if reduce is not None else theirs)

    @property
    def seen(self) -> bool:
        """Whether any step was accumulated."""
        return bool(self.counts.sum() > 0)

    def code(self, k: int) -> CodeKinematics:
        """The mean kinematics of the steps assigned code ``k`` (zeros if none was)."""
        count = float(self.counts[k].clamp(min=1.0))
        return CodeKinematics(
            (self.velocity_sum[k] / count).cpu(),
            (self.axis_speed_sum[k] / count).cpu(),
            (self.speed_sum[k] / count).cpu(),
            (self.fastest_counts[k] / count).cpu(),
            _quantile(self.speed_histogram[k], 0.5),
            (self.pose_sum[k] / count).cpu(),
            self.segments.votes(k),
        )

    def thresholds(self) -> SpeedThresholds:
        """Quantiles ``still_quantile``, ``slow_quantile``, ``fast_quantile`` of the steps' top speed.

        Raises:
            RuntimeError: nothing was accumulated yet.
        """
        if not self.seen:
            raise RuntimeError("CodeStatistics.thresholds: no training step was accumulated")
        histogram = self.speed_histogram.sum(0)
        cfg = self.config
        return SpeedThresholds(
            _quantile(histogram, cfg.still_quantile),
            _quantile(histogram, cfg.slow_quantile),
            _quantile(histogram, cfg.fast_quantile),
        )
