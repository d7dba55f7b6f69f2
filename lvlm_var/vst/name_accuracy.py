"""Name accuracy: does each narrative segment's name say what the input clip does during that segment?

For every segment (token occurrence after run-length merging) of a clip's narrative, on the *input*
skeleton's steps of that segment (:func:`~lvlm_var.vst.kinematics.step_kinematics`,
:func:`~lvlm_var.vst.kinematics.segment_motion`):

* **part**: the body part (:data:`~lvlm_var.vst.kinematics.PART_GROUPS`) of the part with the largest mean
  speed is one the name's subject covers ("both hands" covers both arms); a name that says nothing moves
  is right when the fastest part moves slower than the calibrated ``slow`` threshold;
* **part and direction**: the part is right, and the named part's mean velocity over the segment (its
  displacement from the segment's start to its end over the duration, :func:`segment_motion`) points the
  named way (positive along the named axis), or, for a to-and-fro name ("moves side to side"), runs mostly
  along the named axis (a segment is one stroke of the to and fro, either way).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import torch

from .code_statistics import SpeedThresholds
from .kinematics import PART_GROUPS, PARTS, StepKinematics, segment_motion
from .naming import DIRECTION_AXES, OSCILLATION_AXES, CodeName
from .narrative import ActionNarrative

__all__ = ["NameAccuracy", "name_accuracy", "segment_correct"]

_PART_NAMES = tuple(PARTS)


class NameAccuracy(NamedTuple):
    """Counts over segments: ``part`` and ``part_and_direction`` right, of ``total``."""

    part: int
    part_and_direction: int
    total: int


def segment_correct(
    name: CodeName, speed: torch.Tensor, velocity: torch.Tensor, slow: float
) -> tuple[bool, bool]:
    """Whether ``name`` is right about the part, and about part and direction, of a segment whose parts
    have mean speeds ``speed`` ``(P,)`` and mean velocities ``velocity`` ``(P, 3)``."""
    fastest = int(speed.argmax())
    if name.part is None:
        still = bool(speed[fastest] < slow)
        return still, still
    part_right = PART_GROUPS[_PART_NAMES[fastest]] in name.groups
    named = _PART_NAMES.index(name.part)
    if name.direction in OSCILLATION_AXES:
        direction_right = int(velocity[named].abs().argmax()) == OSCILLATION_AXES[name.direction]
    else:
        axis, sign = DIRECTION_AXES[name.direction]
        direction_right = bool(sign * velocity[named, axis] > 0)
    return part_right, part_right and direction_right


def name_accuracy(
    narratives: Sequence[ActionNarrative],
    names: Sequence[CodeName],
    kinematics: StepKinematics,
    thresholds: SpeedThresholds,
) -> NameAccuracy:
    """Count the segments of ``narratives`` whose names are right about the input clips.

    Args:
        narratives: ``B`` narratives (segments with ``start`` / ``length`` in token steps).
        names: the name of every code.
        kinematics: the input clips' step kinematics, ``B`` clips of ``S`` steps.
        thresholds: the calibrated speed thresholds the names were made with.

    Returns:
        :class:`NameAccuracy` counts (segments whose steps hold no body are skipped).
    """
    part = both = total = 0
    for row, narrative in enumerate(narratives):
        for segment in narrative.segments:
            motion = segment_motion(kinematics, row, segment.start, segment.length)
            if motion is None:
                continue
            part_right, both_right = segment_correct(names[segment.code], *motion, thresholds.slow)
            part, both, total = part + part_right, both + both_right, total + 1
    return NameAccuracy(part, both, total)
