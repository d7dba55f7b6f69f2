"""The motion library of the synthetic skeletons: each action as pose tracks of the kinematic body.

A motion shapes the tracks of :data:`~.kinematic_body.REST_POSE` over the phase ``phi`` of the
performance (0 at the start, 1 at the end) and :func:`perform` turns them into world joints with
:func:`~.kinematic_body.forward_kinematics`. :class:`SyntheticAction` ties a data set's action to a
motion and to the body parts that carry it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np

from .kinematic_body import REST_POSE, BodyShape, forward_kinematics

__all__ = ["SyntheticAction", "perform", "idle_person"]

_FPS = 30.0


@dataclass(frozen=True)
class SyntheticAction:
    """An action the generator can perform.

    Attributes:
        name: the data set's own action name.
        moving_parts: the body parts (from :data:`BODY_PARTS`) that carry the action.
        motion: key of the motion (in this module's library) that performs it.
    """

    name: str
    moving_parts: tuple[str, ...]
    motion: str


def _ramp(phi: np.ndarray, start: float, stop: float) -> np.ndarray:
    """0 before ``start``, 1 after ``stop``, smoothstep in between."""
    x = np.clip((phi - start) / (stop - start), 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def _bump(phi: np.ndarray, rise: float, top: float, fall: float, end: float) -> np.ndarray:
    return _ramp(phi, rise, top) * (1.0 - _ramp(phi, fall, end))


def _sides(*sides: str, **targets: float | np.ndarray) -> dict[str, float | np.ndarray]:
    """The same targets for each of ``sides`` (``"l"``, ``"r"``): ``thigh_flex=0.7`` -> ``l_thigh_flex``..."""
    return {f"{side}_{key}": value for key, value in targets.items() for side in sides}


class _Motion:
    """Pose tracks being shaped by a motion: each step pulls tracks towards a target."""

    def __init__(self, phi: np.ndarray, amplitude: float) -> None:
        self.phi = phi
        self.amplitude = amplitude
        self.pose = {key: np.full(phi.shape, value) for key, value in REST_POSE.items()}

    def toward(self, weight: np.ndarray, **targets: float | np.ndarray) -> None:
        for key, target in targets.items():
            goal = REST_POSE[key] + self.amplitude * (np.asarray(target) - REST_POSE[key])
            self.pose[key] = self.pose[key] + weight * (goal - self.pose[key])


def _pick_up(m: _Motion, sides: tuple[str, ...]) -> None:
    w = _bump(m.phi, 0.12, 0.4, 0.6, 0.88)
    m.toward(w, lean=1.0, **_sides("l", "r", thigh_flex=0.7, shin_flex=-0.4))
    m.toward(w, **_sides(*sides, upper_flex=-0.45, fore_flex=-0.35, upper_abd=0.05))


def _drop(m: _Motion) -> None:
    w = _bump(m.phi, 0.2, 0.42, 0.6, 0.85)
    m.toward(w, r_upper_flex=1.0, r_fore_flex=1.15, lean=0.1)
    m.toward(_bump(m.phi, 0.42, 0.5, 0.5, 0.6), r_fore_flex=0.7)


def _throw(m: _Motion) -> None:
    m.toward(
        _bump(m.phi, 0.12, 0.35, 0.4, 0.5), r_upper_flex=2.6, r_upper_abd=0.5, r_fore_flex=3.4, twist=-0.4
    )
    m.toward(_bump(m.phi, 0.4, 0.5, 0.58, 0.85), r_upper_flex=1.3, r_fore_flex=1.2, twist=0.3, lean=0.2)


def _sit(m: _Motion, seated: np.ndarray) -> None:
    transit = seated * (1.0 - seated) * 4.0
    m.toward(seated, **_sides("l", "r", thigh_flex=1.5, shin_flex=0.05, upper_flex=0.35, fore_flex=1.2))
    m.toward(transit, lean=0.6)


def _clapping(m: _Motion) -> None:
    w = _bump(m.phi, 0.04, 0.18, 0.85, 0.97)
    together = 0.5 * (1.0 - np.cos(2.0 * np.pi * 5.0 * m.phi))
    m.toward(
        w, **_sides("l", "r", upper_flex=0.7, upper_abd=0.3, fore_flex=1.35, fore_abd=0.35 - 1.1 * together)
    )


def _hand_waving(m: _Motion) -> None:
    w = _bump(m.phi, 0.04, 0.2, 0.8, 0.96)
    m.toward(
        w,
        r_upper_abd=1.35,
        r_upper_flex=0.25,
        r_fore_flex=0.2,
        r_fore_abd=2.75 + 0.45 * np.sin(2.0 * np.pi * 3.5 * m.phi),
    )


def _kicking(m: _Motion) -> None:
    m.toward(_bump(m.phi, 0.22, 0.38, 0.42, 0.5), r_thigh_flex=0.4, r_shin_flex=-0.8, l_upper_flex=0.3)
    m.toward(_bump(m.phi, 0.42, 0.52, 0.58, 0.8), r_thigh_flex=1.2, r_shin_flex=1.15, l_upper_flex=0.4)


def _jump_up(m: _Motion) -> None:
    crouch = _bump(m.phi, 0.15, 0.32, 0.36, 0.44) + _bump(m.phi, 0.6, 0.68, 0.72, 0.88)
    m.toward(crouch, lean=0.45, **_sides("l", "r", thigh_flex=0.85, shin_flex=-0.75, upper_flex=-0.6))
    air = _bump(m.phi, 0.4, 0.5, 0.52, 0.62)
    m.toward(air, lift=0.32, **_sides("l", "r", upper_flex=2.6, fore_flex=2.7))


def _pointing(m: _Motion) -> None:
    m.toward(
        _bump(m.phi, 0.15, 0.35, 0.7, 0.9),
        r_upper_flex=1.45,
        r_upper_abd=0.25,
        r_fore_flex=1.5,
        r_fore_abd=0.2,
    )


def _salute(m: _Motion) -> None:
    m.toward(
        _bump(m.phi, 0.15, 0.35, 0.7, 0.88),
        r_upper_abd=1.3,
        r_upper_flex=0.4,
        r_fore_abd=-2.3,
        r_fore_flex=0.6,
    )


def _falling(m: _Motion) -> None:
    m.toward(_bump(m.phi, 0.1, 0.3, 0.5, 0.7), **_sides("l", "r", thigh_flex=0.5, shin_flex=-0.4))
    down = _ramp(m.phi, 0.3, 0.62)
    m.toward(down, fall=1.45, **_sides("l", "r", upper_flex=1.5, fore_flex=1.6))


def _donning(m: _Motion, reverse: bool) -> None:
    """Into the left sleeve, the right sleeve, then settle the jacket; doffing runs it backwards."""
    phi = 1.0 - m.phi if reverse else m.phi
    for side, (a, b, c, d) in (("l", (0.08, 0.22, 0.32, 0.48)), ("r", (0.38, 0.52, 0.62, 0.78))):
        sleeve = _sides(side, upper_flex=-0.8, upper_abd=0.7, fore_flex=-0.5, fore_abd=0.9)
        m.toward(_bump(phi, a, b, c, d), **sleeve)
    m.toward(_bump(phi, 0.76, 0.84, 0.88, 0.96), **_sides("l", "r", upper_abd=0.55, fore_flex=1.0))


def _walk(m: _Motion, turn: float, carry: bool) -> None:
    progress = np.clip(m.phi, 0.0, 1.0)
    gait = _bump(m.phi, -0.02, 0.05, 0.95, 1.02)
    cycle = 2.0 * np.pi * 2.5 * progress
    pose = m.pose
    pose["heading"] = np.pi / 2 + turn * progress  # start walking across the camera's view
    step = np.diff(2.2 * m.amplitude * progress, prepend=0.0)
    pose["root_x"] = np.cumsum(step * np.sin(pose["heading"])) - 1.1
    pose["root_z"] = np.cumsum(step * np.cos(pose["heading"]))
    for side, shift in (("l", 0.0), ("r", np.pi)):  # legs in antiphase, each arm against its leg
        swing = np.sin(cycle + shift) * gait
        pose[f"{side}_thigh_flex"] = 0.4 * m.amplitude * swing
        pose[f"{side}_shin_flex"] = (
            pose[f"{side}_thigh_flex"] - 0.6 * np.maximum(0.0, np.sin(cycle + shift + 1.2)) * gait
        )
        pose[f"{side}_upper_flex"] = -0.3 * m.amplitude * swing
    if carry:
        m.toward(np.ones_like(m.phi), **_sides("l", "r", upper_flex=0.6, fore_flex=1.5, fore_abd=-0.35))


def _sit_down(m: _Motion) -> None:
    _sit(m, _ramp(m.phi, 0.2, 0.75))


def _stand_up(m: _Motion) -> None:
    _sit(m, 1.0 - _ramp(m.phi, 0.25, 0.8))


_MOTIONS = {
    "pick_up_one_hand": partial(_pick_up, sides=("r",)),
    "pick_up_two_hands": partial(_pick_up, sides=("l", "r")),
    "drop": _drop,
    "throw": _throw,
    "sit_down": _sit_down,
    "stand_up": _stand_up,
    "clapping": _clapping,
    "donning": partial(_donning, reverse=False),
    "doffing": partial(_donning, reverse=True),
    "hand_waving": _hand_waving,
    "kicking": _kicking,
    "jump_up": _jump_up,
    "pointing": _pointing,
    "salute": _salute,
    "falling": _falling,
    "walk_around": partial(_walk, turn=np.pi / 2, carry=False),
    "carry": partial(_walk, turn=0.0, carry=True),
}


def perform(
    motion: str, shape: BodyShape, rng: np.random.Generator, min_frames: int, max_frames: int
) -> tuple[np.ndarray, np.ndarray]:
    """One performance of ``motion`` by a body of ``shape``, at a random amplitude and speed.

    Args:
        motion: a key of the motion library (:attr:`SyntheticAction.motion`).
        shape: the performer's bone lengths.
        rng: draws the speed, the amplitude and the start / end phases.
        min_frames / max_frames: clip length range (30 fps).

    Returns:
        ``(T, 25, 3)`` world joints and ``(T, 2)`` Kinect leanX / leanY.
    """
    speed = rng.uniform(0.75, 1.3)
    num_frames = int(np.clip(round(75 / speed), min_frames, max_frames))
    phi = np.linspace(-rng.uniform(0.0, 0.08), 1.0 + rng.uniform(0.0, 0.08), num_frames)
    m = _Motion(phi, amplitude=rng.uniform(0.8, 1.15))
    _MOTIONS[motion](m)
    lean = np.stack(
        [np.clip(0.3 * np.sin(m.pose["twist"]), -1, 1), np.clip(np.sin(m.pose["lean"]), -1, 1)], -1
    )
    return forward_kinematics(shape, m.pose), lean


def idle_person(num_frames: int, rng: np.random.Generator) -> np.ndarray:
    """``(T, 25, 3)`` world joints of a near-still bystander beside the actor (a random body)."""
    phi = np.linspace(0.0, 1.0, num_frames)
    m = _Motion(phi, amplitude=1.0)
    m.pose["heading"] = np.full(num_frames, rng.uniform(-0.5, 0.5))
    side = rng.choice([-1.0, 1.0])
    sway = 0.01 * np.sin(2.0 * np.pi * 0.25 * np.arange(num_frames) / _FPS + rng.uniform(0, 2 * np.pi))
    m.pose["root_x"] = side * rng.uniform(1.0, 1.5) + sway
    m.pose["root_z"] = np.full(num_frames, rng.uniform(-0.8, 0.3))
    return forward_kinematics(BodyShape.sample(rng), m.pose)
