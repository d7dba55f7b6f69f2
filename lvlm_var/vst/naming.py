"""Semantic names of the codebook entries, from what the training clips assigned each code do.

A code's name describes the input steps the tokenizer assigned it
(:class:`~lvlm_var.vst.code_statistics.CodeStatistics`, body-size-normalised, canonical view), with speed
words calibrated to the training set's speed distribution. What it *claims* is voted by the code's
training segments (its flicker-absorbed runs, :class:`~lvlm_var.vst.code_statistics.SegmentVotes`), each
judged as name accuracy (:mod:`lvlm_var.vst.name_accuracy`) judges a test segment; the claim right in
most of them wins:

* **which part moves**: the body part fastest in most segments; "both hands", "both legs", ... when both
  sides moved (the slower at least half as fast) in at least half of them and together they win more
  segments; nothing moves ("stands still", or "barely moves" when the steps are not still but slower than
  ``slow``) when most segments move slower than the ``slow_quantile`` of the training steps' fastest-part
  speed;
* **direction**: the way most segments displaced the part: rises / lowers / moves forward / moves back /
  moves left / moves right (torso: straightens up / bends down / bends forward / leans back / leans left /
  leans right), or the axis most of them ran along, either way: moves side to side / up and down / back
  and forth (ties go to the direction of the steps' mean velocity, which says to and fro when it is under
  30 % of the mean per-axis speed);

and the words come from the means of the code's steps: "arm" instead of "hand" when the elbow moves at
least 60 % as fast; the other side's own direction when both sides go different ways ("right hand moves
left and left hand moves right"); a second part moving at least half as fast ("... and left foot moves
forward"); "slowly" below the ``slow_quantile``, "fast" above the ``fast_quantile``; **hand position**
relative to the body (above the head, at the head, at the chest, hands together); **posture**
(crouching, sitting, knees bent, bending: spine more than 35 degrees from vertical). A calibration saved
before there were segment votes claims from the means instead (the part fastest in most steps, the way
its mean velocity points).

Examples: ``"right hand moves side to side, right hand above head"``, ``"both legs move forward, knees
bent"``, ``"sits still"``, ``"both hands move side to side, hands together"``.

A code never assigned in training is named as its nearest assigned code (cosine of the code vectors).
Names are a deterministic function of the statistics and the codebook. Distinct codes may share a name:
the ``<act_k>`` token in the narrative keeps them apart.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import torch
from torch import Tensor

from ..skeleton_layout import SkeletonLayout
from .code_statistics import CodeKinematics, CodeStatistics, SpeedThresholds
from .kinematics import GROUPS, PART_GROUPS, PARTS, SIDE_PAIRS

__all__ = ["CodeName", "DIRECTION_AXES", "OSCILLATION_AXES", "UNSEEN", "describe_motion", "name_codes"]

UNSEEN = "not seen in training"
_PART_NAMES = tuple(PARTS)
_LIMB_SHARE = 0.6  # an elbow / knee this fast relative to the hand / foot makes it an arm / leg motion
_BOTH_SIDES_SHARE = 0.6  # a calibration without segment votes: the other side this fast moves too
_SECONDARY_SHARE = 0.5
_OSCILLATION_SHARE = 0.3  # mean velocity below this share of the mean per-axis speed: it goes both ways
_EPS = 1e-6
_EXTREMITY_LIMB = {"hand": "arm", "foot": "leg"}
_PLURALS = {"hand": "hands", "arm": "arms", "foot": "feet", "leg": "legs"}
# to-and-fro direction -> the axis it runs along
OSCILLATION_AXES: dict[str, int] = {"side to side": 0, "up and down": 1, "back and forth": 2}
_VERBS = {  # direction -> (singular, plural)
    "up": ("rises", "rise"),
    "down": ("lowers", "lower"),
    "forward": ("moves forward", "move forward"),
    "back": ("moves back", "move back"),
    "left": ("moves left", "move left"),
    "right": ("moves right", "move right"),
    **{key: (f"moves {key}", f"move {key}") for key in OSCILLATION_AXES},
}
_TORSO_VERBS = {
    "up": "straightens up",
    "down": "bends down",
    "forward": "bends forward",
    "back": "leans back",
    "left": "leans left",
    "right": "leans right",
    "side to side": "sways side to side",
    "up and down": "bobs up and down",
    "back and forth": "rocks back and forth",
}
# direction -> (axis, sign) of the canonical view; the actor faces -z, +x points to the actor's right.
DIRECTION_AXES: dict[str, tuple[int, float]] = {
    "up": (1, 1.0),
    "down": (1, -1.0),
    "forward": (2, -1.0),
    "back": (2, 1.0),
    "left": (0, -1.0),
    "right": (0, 1.0),
}


class CodeName(NamedTuple):
    """A code's name and what it claims, for the narrative and for name accuracy.

    Attributes:
        text: the words, e.g. ``"right hand rises fast, right hand above head"``.
        part: the named moving part (a key of :data:`PARTS`), ``None`` when the name says nothing moves.
        groups: the body parts (values of :data:`PART_GROUPS`) the subject covers: ``("left arm",
            "right arm")`` for "both hands".
        direction: a key of :data:`DIRECTION_AXES` or of :data:`OSCILLATION_AXES`, ``None`` when nothing
            moves.
    """

    text: str
    part: str | None = None
    groups: tuple[str, ...] = ()
    direction: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "part": self.part,
            "groups": list(self.groups),
            "direction": self.direction,
        }

    @classmethod
    def from_json(cls, record: dict[str, Any]) -> CodeName:
        return cls(record["text"], record["part"], tuple(record["groups"]), record["direction"])


def _direction(velocity: Tensor, axis_speed: Tensor) -> str:
    if float(velocity.norm()) < _OSCILLATION_SHARE * float(axis_speed.norm()):
        axis = int(axis_speed.argmax())
        return next(d for d, a in OSCILLATION_AXES.items() if a == axis)
    axis = int(velocity.abs().argmax())
    sign = 1.0 if float(velocity[axis]) >= 0 else -1.0
    return next(d for d, direction in DIRECTION_AXES.items() if direction == (axis, sign))


def _angle_degrees(a: Tensor, b: Tensor) -> float:
    cosine = torch.dot(a, b) / (a.norm() * b.norm()).clamp(min=_EPS)
    return math.degrees(math.acos(float(cosine.clamp(-1.0, 1.0))))


def _postures(pose: Tensor, layout: SkeletonLayout) -> list[str]:
    joint = {name: pose[i] for i, name in enumerate(layout.joint_names)}
    postures = []
    thigh = [(joint[f"{s}_hip"] - joint[f"{s}_knee"]).norm() for s in ("left", "right")]
    shin = [(joint[f"{s}_knee"] - joint[f"{s}_ankle"]).norm() for s in ("left", "right")]
    leg_length = sum(float(t + s) for t, s in zip(thigh, shin, strict=True)) / 2
    hips_over_ankles = (
        sum(float(joint[f"{s}_hip"][1] - joint[f"{s}_ankle"][1]) for s in ("left", "right")) / 2
    )
    hips_over_knees = sum(float(joint[f"{s}_hip"][1] - joint[f"{s}_knee"][1]) for s in ("left", "right")) / 2
    knee_angles = [
        _angle_degrees(joint[f"{s}_hip"] - joint[f"{s}_knee"], joint[f"{s}_ankle"] - joint[f"{s}_knee"])
        for s in ("left", "right")
    ]
    if leg_length > _EPS and hips_over_ankles < 0.35 * leg_length:
        postures.append("crouching")
    elif leg_length > _EPS and hips_over_knees < 0.4 * sum(float(t) for t in thigh) / 2:
        postures.append("sitting")
    elif all(angle < 140.0 for angle in knee_angles):
        postures.append("knees bent")
    spine = joint["spine_shoulder"] - joint["spine_base"]
    if spine.norm() > _EPS and _angle_degrees(spine, torch.tensor([0.0, 1.0, 0.0], dtype=pose.dtype)) > 35.0:
        postures.append("bending")
    return postures


def _hand_positions(pose: Tensor, layout: SkeletonLayout) -> list[str]:
    """Where the hands are relative to the body, in torso lengths from the spine base."""
    joint = {name: pose[i] for i, name in enumerate(layout.joint_names)}
    head, chest = joint["head"], joint["spine_shoulder"]
    places = {}
    for side in ("left", "right"):
        hand = joint[f"{side}_hand"]
        if hand[1] > head[1] + 0.1:
            places[side] = "above head"
        elif (hand - head).norm() < 0.45:
            places[side] = "at head"
        elif 0.3 < hand[1] < chest[1] + 0.1 and hand[2] < chest[2] - 0.25 and hand[0].abs() < 0.6:
            places[side] = "at chest"
    positions = []
    if (joint["left_hand"] - joint["right_hand"]).norm() < 0.35:
        positions.append("hands together")
    if places.get("left") is not None and places.get("left") == places.get("right"):
        positions.append(f"both hands {places['left']}")
    else:
        positions += [f"{side} hand {place}" for side, place in places.items()]
    return positions


def _phrase(part: str, direction: str, plural: bool) -> str:
    if part == "torso":
        return f"torso {_TORSO_VERBS[direction]}"
    return f"{part} {_VERBS[direction][1 if plural else 0]}"


def _side_and_kind(part: str) -> tuple[str | None, str]:
    side, _, kind = part.partition(" ")
    return (side, kind) if side in ("left", "right") else (None, part)


class _Claim(NamedTuple):
    """What a name claims: the moving ``part``, the ``groups`` its subject covers, the ``direction``."""

    part: str
    groups: tuple[str, ...]
    direction: str


def _pair_of(group: str) -> tuple[int, tuple[str, str]] | None:
    return next(((i, pair) for i, pair in enumerate(SIDE_PAIRS) if group in pair), None)


def _voted_claim(
    kinematics: CodeKinematics, thresholds: SpeedThresholds, directions: dict[str, str]
) -> _Claim | None:
    """The claim right in most of the code's training segments, as name accuracy judges one; ``None``: the
    segments mostly move slower than ``slow`` (nothing moves). On a tie a moving part wins (it says more)
    unless the code's steps are still, then the direction of the steps' mean velocity (``directions``: a to
    and fro when it goes both ways), then the axis of the largest displacement, then one side over both.
    "Both" sides are claimable only when both moved in at least half the segments."""
    votes = kinematics.segments
    still = votes.slower_than(thresholds.slow)
    still_steps = kinematics.top_speed < thresholds.still
    best, best_score = None, (still, still, math.inf if still_steps else -math.inf, 0.0, 0)
    for i, part in enumerate(_PART_NAMES):
        group = PART_GROUPS[part]
        subjects = [(group,)]
        pair = _pair_of(group)
        if pair is not None and float(votes.both_sides[pair[0]]) >= 0.5 * votes.count:
            subjects.append(pair[1])
        for groups in subjects:
            rows = [GROUPS.index(g) for g in groups]
            part_votes = float(votes.fastest[rows].sum())
            for direction in (*DIRECTION_AXES, *OSCILLATION_AXES):
                if direction in OSCILLATION_AXES:
                    axis = OSCILLATION_AXES[direction]
                    right = votes.dominant[rows, i, axis]
                else:
                    axis, sign = DIRECTION_AXES[direction]
                    right = (votes.positive if sign > 0 else votes.negative)[rows, i, axis]
                along = float(votes.dominant[rows, i, axis].sum())
                score = (float(right.sum()), part_votes, directions[part] == direction, along, -len(groups))
                if score > best_score:
                    best, best_score = _Claim(part, groups, direction), score
    return best


def _mean_claim(
    kinematics: CodeKinematics, thresholds: SpeedThresholds, directions: dict[str, str]
) -> _Claim | None:
    """The claim of a calibration saved without segment votes: the part fastest in most steps, the way its
    mean velocity points, and both sides when the other one moves the same way about as fast."""
    if kinematics.top_speed < thresholds.still:
        return None
    share = {part: float(kinematics.fastest[i]) for i, part in enumerate(_PART_NAMES)}
    speeds = {part: float(kinematics.speed[i]) for i, part in enumerate(_PART_NAMES)}
    primary = max(_PART_NAMES, key=lambda part: (share[part], speeds[part]))
    groups = (PART_GROUPS[primary],)
    other = _other_side(primary)
    if other is not None and speeds[other] >= _BOTH_SIDES_SHARE * speeds[primary]:
        if directions[other] == directions[primary]:
            groups = tuple(sorted({PART_GROUPS[primary], PART_GROUPS[other]}))
    return _Claim(primary, groups, directions[primary])


def _other_side(part: str) -> str | None:
    side, kind = _side_and_kind(part)
    return None if side is None else f"{'left' if side == 'right' else 'right'} {kind}"


def describe_motion(
    kinematics: CodeKinematics, layout: SkeletonLayout, thresholds: SpeedThresholds
) -> CodeName:
    """Name what the steps assigned one code do.

    Args:
        kinematics: their mean kinematics and their segments' votes (:meth:`CodeStatistics.code`).
        layout: the joint layout of the pose's ``V`` joints.
        thresholds: calibrated speed thresholds.

    Returns:
        The :class:`CodeName`, e.g. text ``"right hand rises fast"`` or ``"sits still, hands together"``.
    """
    pose = kinematics.pose.double()
    speeds = {part: float(kinematics.speed[i]) for i, part in enumerate(_PART_NAMES)}
    directions = {
        part: _direction(kinematics.velocity[i].double(), kinematics.axis_speed[i].double())
        for i, part in enumerate(_PART_NAMES)
    }
    postures = _postures(pose, layout)
    positions = _hand_positions(pose, layout)
    if kinematics.segments.count > 0:
        claim = _voted_claim(kinematics, thresholds, directions)
    else:
        claim = _mean_claim(kinematics, thresholds, directions)
    if claim is None:
        if kinematics.top_speed >= thresholds.still:
            return CodeName(", ".join(["barely moves", *positions, *postures]))
        base = {"sitting": "sits still", "crouching": "crouches still"}
        stance = next((p for p in postures if p in base), None)
        rest = [p for p in postures if p != stance]
        return CodeName(", ".join([base[stance] if stance else "stands still", *positions, *rest]))
    primary, direction = claim.part, claim.direction
    side, kind = _side_and_kind(primary)
    used = {primary}
    if kind in _EXTREMITY_LIMB:
        limb = f"{side} {_EXTREMITY_LIMB[kind]}"
        used.add(limb)
        if speeds[limb] >= _LIMB_SHARE * speeds[primary]:
            kind = _EXTREMITY_LIMB[kind]
    elif kind in _EXTREMITY_LIMB.values():
        used.add(f"{side} {next(k for k, v in _EXTREMITY_LIMB.items() if v == kind)}")
    subject, plural = (primary if side is None else f"{side} {kind}"), False
    other = _other_side(primary)
    both_ways = None  # the other side's phrase when both sides move, but not the same way
    if len(claim.groups) > 1 and other is not None:
        other_side = other.split(" ")[0]
        used |= {f"{other_side} {k}" for k in (*_EXTREMITY_LIMB, *_EXTREMITY_LIMB.values())}
        if directions[other] == direction:
            subject, plural = f"both {_PLURALS[kind]}", True
        else:
            both_ways = _phrase(f"{other_side} {kind}", directions[other], plural=False)
    phrase = _phrase(subject, direction, plural)
    if speeds[primary] < thresholds.slow:
        phrase += " slowly"
    elif speeds[primary] > thresholds.fast:
        phrase += " fast"
    ranked = sorted(speeds, key=lambda part: (-speeds[part], part))
    secondary = next((p for p in ranked if p not in used), None)
    if both_ways is not None:
        phrase += f" and {both_ways}"
    elif secondary is not None and speeds[secondary] >= max(
        thresholds.still, _SECONDARY_SHARE * speeds[primary]
    ):
        phrase += f" and {_phrase(secondary, directions[secondary], plural=False)}"
    return CodeName(", ".join([phrase, *positions, *postures]), primary, claim.groups, direction)


@torch.no_grad()
def name_codes(
    statistics: CodeStatistics, codebook: Tensor, thresholds: SpeedThresholds | None = None
) -> list[CodeName]:
    """The name of every code, from the mean kinematics of the training steps assigned to it.

    Args:
        statistics: accumulated (and, under DDP, reduced) code statistics.
        codebook: ``(K, D)`` code vectors: an unassigned code is named as its nearest assigned one.
        thresholds: speed thresholds; ``None``: calibrated from ``statistics``.

    Returns:
        ``K`` names, indexed by code; all :data:`UNSEEN` before any training step was accumulated.
    """
    size = len(statistics.counts)
    if not statistics.seen:
        return [CodeName(UNSEEN)] * size
    thresholds = thresholds or statistics.thresholds()
    seen = statistics.counts.cpu() > 0
    named = {
        k: describe_motion(statistics.code(k), statistics.layout, thresholds) for k in range(size) if seen[k]
    }
    vectors = torch.nn.functional.normalize(codebook.detach().double().cpu(), dim=-1)
    similarity = vectors @ vectors.T
    similarity[:, ~seen] = -math.inf
    return [named[k] if seen[k] else named[int(similarity[k].argmax())] for k in range(size)]
