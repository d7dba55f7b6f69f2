"""A synthetic CAD-120 data set in the official layout, whose sub-activities show in hand-object geometry.

Writes, through the real writers of :mod:`datamodules.formats.cad120`::

    out_dir/SubjectN_annotations/<activity>/activityLabel.txt, labeling.txt,
                                            <id>.txt (skeleton), <id>_obj<k>.txt (object boxes)

for the 4 subjects (1, 3, 4, 5) and the 10 high-level activities, ``videos_per_activity`` videos each.
A video plays its activity's script (:data:`ACTIVITY_SCRIPTS`), a sequence of sub-activity segments on the
video's objects; each segment moves the right hand (image pixels, unprojected to millimetres with the
Kinect intrinsics at a depth in front of the body, so the reader's projection gives them back) and the
boxes so that the relations derived by :mod:`datamodules.cad120_tokens` tell the sub-activity:

- reaching: the hand travels from where it was to just outside the object (not_contacting -> touching);
- moving: the hand holds the object (inside its box) while the box moves up towards the body;
- placing: held, the box goes down to the table, then the hand withdraws (holding -> not_contacting);
- drinking: the held cup goes to the mouth and stays there;
- eating: the object stays; the hand goes from it to the mouth and back, twice;
- pouring: the held container moves above the second object and tips (its box widens and flattens);
- opening / closing: the hand on the box's left edge while the box widens / narrows (a door swinging open
  towards the person);
- cleaning: the held cloth sweeps back and forth;
- null: both hands rest, nothing moves.

Subjects differ in body size and position, videos in object placement, every frame in small jitter.
The object files carry, after the box, a 2 x 3 affine of the box's motion since the previous frame in
place of the tracker's SIFT transform. Deterministic from the seed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..formats.cad120 import (
    CAD120_ACTIVITIES,
    CAD120_JOINTS,
    CAD120_ORIENTED_JOINTS,
    CAD120_SUBJECTS,
    IMAGE_SIZE,
    CAD120Activity,
    CAD120ObjectTrack,
    CAD120Segment,
    CAD120Skeleton,
    CAD120Video,
    project_to_image,
    unproject_from_image,
    write_cad120_activity,
)

__all__ = ["ACTIVITY_SCRIPTS", "SyntheticCAD120Config", "write_synthetic_cad120"]

# activity -> (object types, script of (sub-activity, object index or None, second object index or None))
ACTIVITY_SCRIPTS: dict[str, tuple[tuple[str, ...], tuple[tuple[str, int | None, int | None], ...]]] = {
    "arranging_objects": (
        ("plate", "bowl", "cup"),
        (("reaching", 0, None), ("moving", 0, None), ("placing", 0, None), ("reaching", 2, None),
         ("moving", 2, None), ("placing", 2, None), ("null", None, None)),
    ),
    "cleaning_objects": (
        ("microwave", "cloth"),
        (("reaching", 0, None), ("opening", 0, None), ("reaching", 1, None), ("cleaning", 1, None),
         ("placing", 1, None), ("reaching", 0, None), ("closing", 0, None)),
    ),
    "having_meal": (
        ("bowl", "cup"),
        (("reaching", 0, None), ("eating", 0, None), ("reaching", 1, None), ("moving", 1, None),
         ("drinking", 1, None), ("placing", 1, None), ("null", None, None)),
    ),
    "making_cereal": (
        ("bowl", "box", "milk"),
        (("reaching", 1, None), ("moving", 1, None), ("pouring", 1, 0), ("placing", 1, None),
         ("reaching", 2, None), ("moving", 2, None), ("pouring", 2, 0), ("placing", 2, None)),
    ),
    "microwaving_food": (
        ("microwave", "bowl"),
        (("reaching", 0, None), ("opening", 0, None), ("reaching", 1, None), ("moving", 1, None),
         ("placing", 1, None), ("reaching", 0, None), ("closing", 0, None), ("null", None, None)),
    ),
    "picking_objects": (
        ("book", "remote"),
        (("null", None, None), ("reaching", 1, None), ("moving", 1, None), ("placing", 1, None),
         ("null", None, None)),
    ),
    "stacking_objects": (
        ("plate", "plate", "bowl"),
        (("reaching", 0, None), ("moving", 0, None), ("placing", 0, None), ("reaching", 2, None),
         ("moving", 2, None), ("placing", 2, None)),
    ),
    "taking_food": (
        ("microwave", "plate"),
        (("reaching", 0, None), ("opening", 0, None), ("reaching", 1, None), ("moving", 1, None),
         ("placing", 1, None), ("reaching", 0, None), ("closing", 0, None)),
    ),
    "taking_medicine": (
        ("medcinebox", "cup"),
        (("reaching", 0, None), ("opening", 0, None), ("eating", 0, None), ("reaching", 1, None),
         ("moving", 1, None), ("drinking", 1, None), ("placing", 1, None), ("reaching", 0, None),
         ("closing", 0, None)),
    ),
    "unstacking_objects": (
        ("bowl", "plate", "plate"),
        (("reaching", 0, None), ("moving", 0, None), ("placing", 0, None), ("reaching", 1, None),
         ("moving", 1, None), ("placing", 1, None), ("null", None, None)),
    ),
}  # fmt: skip
_AFFORDANCE = {
    "reaching": "reachable",
    "moving": "movable",
    "pouring": "pourable",
    "eating": "containable",
    "drinking": "drinkable",
    "opening": "openable",
    "placing": "placeable",
    "closing": "closeable",
    "cleaning": "cleaner",
    "null": "stationary",
}
_TABLE_V = 360.0  # image row of the table top, where objects stand
_REACH_GAP = 8.0  # pixels left between the hand and the box at the end of reaching (< the touch margin)
# Body template in millimetres relative to the torso (x right, y up), CAD120_JOINTS order.
_BODY = np.array(
    [
        [0, 480, 0], [0, 320, 0], [0, 0, 0], [-180, 300, 0], [-260, 40, 0], [180, 300, 0], [260, 40, 0],
        [-110, -260, 0], [-120, -650, 0], [110, -260, 0], [120, -650, 0], [-280, -180, -80],
        [280, -180, -80], [-130, -1000, 0], [130, -1000, 0],
    ],
    dtype=np.float64,
)  # fmt: skip
_RIGHT_HAND = CAD120_JOINTS.index("RIGHT_HAND")
_RIGHT_ELBOW = CAD120_JOINTS.index("RIGHT_ELBOW")
_RIGHT_SHOULDER = CAD120_JOINTS.index("RIGHT_SHOULDER")
_HEAD = CAD120_JOINTS.index("HEAD")


@dataclass(frozen=True)
class SyntheticCAD120Config:
    """Size and look of the synthetic set.

    Attributes:
        videos_per_activity: videos of each activity for each subject.
        activities: the high-level activities to write (default all 10).
        segment_frames: inclusive range of frames a segment.
        jitter: standard deviation, in pixels, of the per-frame jitter of hands and boxes.
    """

    videos_per_activity: int = 1
    activities: tuple[str, ...] = CAD120_ACTIVITIES
    segment_frames: tuple[int, int] = (12, 22)
    jitter: float = 0.6

    def __post_init__(self) -> None:
        if self.videos_per_activity < 1:
            raise ValueError(f"videos_per_activity must be >= 1, got {self.videos_per_activity}")
        unknown = [a for a in self.activities if a not in ACTIVITY_SCRIPTS]
        if unknown or not self.activities:
            raise ValueError(
                f"activities must be a non-empty subset of {', '.join(CAD120_ACTIVITIES)}; "
                f"got {unknown or '()'}"
            )
        low, high = self.segment_frames
        if not 4 <= low <= high:
            raise ValueError(
                f"segment_frames must be an inclusive range with 4 <= min <= max, got {(low, high)}"
            )
        if not 0 <= self.jitter < 2:
            raise ValueError(f"jitter must be in [0, 2) pixels (larger blurs touching), got {self.jitter}")


class _Scene:
    """The moving state of one video: boxes (pixels), the right hand (pixels) and the per-frame record."""

    def __init__(
        self, rng: np.random.Generator, types: tuple[str, ...], torso: np.ndarray, scale: float
    ) -> None:
        self.rng = rng
        self.torso = torso
        self.body = _BODY * scale
        self.hand_depth = torso[2] - 350.0
        self.rest = project_to_image(torso + self.body[_RIGHT_HAND])
        self.mouth = project_to_image(torso + self.body[_HEAD]) + np.array([0.0, 25.0])
        self.boxes = self._place(types)
        self.home = self.boxes.copy()
        self.hand = self.rest.copy()
        self.hand_track: list[np.ndarray] = []
        self.box_track: list[np.ndarray] = []

    def _place(self, types: tuple[str, ...]) -> np.ndarray:
        boxes = []
        u = float(self.rest[0]) + 70.0 + self.rng.uniform(0, 20)
        for object_type in types:
            if object_type == "microwave":
                width, height = self.rng.uniform(130, 150), self.rng.uniform(85, 100)
                top = _TABLE_V - 200.0
            else:
                width, height = self.rng.uniform(36, 56), self.rng.uniform(24, 44)
                top = _TABLE_V - height
            boxes.append([u, top, u + width, top + height])
            u += width + self.rng.uniform(18, 30)
        return np.asarray(boxes, dtype=np.float64)

    def record(self, hands: np.ndarray, boxes: np.ndarray) -> None:
        """Append ``n`` frames: right hand ``(n, 2)`` and boxes ``(n, K, 4)``; the scene ends in the last."""
        self.hand_track.extend(hands)
        self.box_track.extend(boxes)
        self.hand = hands[-1].copy()
        self.boxes = boxes[-1].copy()


def _ramp(n: int) -> np.ndarray:
    return np.linspace(0.0, 1.0, n)[:, None]


def _centre(box: np.ndarray) -> np.ndarray:
    return (box[..., :2] + box[..., 2:]) / 2


def _moved(box: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """``box`` translated so that its centre follows ``centres`` ``(n, 2)``."""
    half = (box[2:] - box[:2]) / 2
    return np.concatenate([centres - half, centres + half], axis=1)


def _play(scene: _Scene, sub_activity: str, target: int | None, other: int | None, n: int) -> None:
    """Simulate one segment of ``n`` frames on ``scene``."""
    rng = scene.rng
    s = _ramp(n)
    boxes = np.repeat(scene.boxes[None], n, axis=0)
    hand0 = scene.hand
    if sub_activity == "null" or target is None:
        hands = scene.rest + np.zeros((n, 2))
        scene.record(hands, boxes)
        return
    box = scene.boxes[target]
    centre = _centre(box)
    if sub_activity == "reaching":
        goal = np.array([box[0] - _REACH_GAP, centre[1]])
        hands = hand0 + s * (goal - hand0)
    elif sub_activity in ("moving", "drinking", "cleaning", "pouring"):
        if sub_activity == "moving":
            goal = centre + np.array([rng.uniform(-70, -40), rng.uniform(-60, -35)])
            path = centre + np.minimum(s * 1.5, 1.0) * (goal - centre)
        elif sub_activity == "drinking":
            path = centre + np.minimum(s * 2.0, 1.0) * (scene.mouth - centre)
        elif sub_activity == "cleaning":
            path = centre + np.concatenate([45.0 * np.sin(4 * np.pi * s), np.zeros_like(s)], axis=1)
        else:
            above = _centre(scene.boxes[other]) - np.array([0.0, (box[3] - box[1]) + 30.0])
            path = centre + np.minimum(s * 2.5, 1.0) * (above - centre)
        boxes[:, target] = _moved(box, path)
        if sub_activity == "pouring":  # tipping: the box turns from upright to lying
            tip = np.clip(s[:, 0] * 2.5 - 1.0, 0.0, 1.0)[:, None]
            size = box[2:] - box[:2]
            turned = size + tip * (size[::-1] - size)
            boxes[:, target] = np.concatenate([path - turned / 2, path + turned / 2], axis=1)
        hands = _centre(boxes[:, target])
    elif sub_activity == "placing":
        home = scene.home[target]
        spot = np.array([_centre(home)[0] + rng.uniform(-15, 15), _TABLE_V - (home[3] - home[1]) / 2])
        carry = np.minimum(s / 0.7, 1.0)
        path = centre + carry * (spot - centre)
        boxes[:, target] = _moved(box, path)
        withdraw = np.clip((s - 0.7) / 0.3, 0.0, 1.0)
        hands = path + withdraw * (scene.rest - path)
    elif sub_activity == "eating":
        swing = 0.5 - 0.5 * np.cos(4 * np.pi * s)
        hands = centre + swing * (scene.mouth - centre)
    elif sub_activity in ("opening", "closing"):
        closed = scene.home[target]
        width = closed[2] - closed[0]
        opened = np.array([closed[0] - 0.45 * width, closed[1], closed[2], closed[3]])
        start, stop = (closed, opened) if sub_activity == "opening" else (opened, closed)
        if sub_activity == "closing":
            start = box
        boxes[:, target] = start + s * (stop - start)
        hands = np.stack([boxes[:, target, 0] + 6.0, _centre(boxes[:, target])[:, 1]], axis=1)
    else:
        raise ValueError(f"no script for sub-activity {sub_activity!r}")
    scene.record(hands, boxes)


def _skeleton(scene: _Scene, rng: np.random.Generator, jitter: float) -> CAD120Skeleton:
    hands = np.asarray(scene.hand_track) + rng.normal(0.0, jitter, (len(scene.hand_track), 2))
    num = len(hands)
    sway = rng.normal(0.0, 3.0, (num, 1, 3)).cumsum(axis=0) * 0.1
    joints = scene.torso + scene.body[None] + sway
    joints[:, _RIGHT_HAND] = unproject_from_image(hands, scene.hand_depth)
    # the elbow hangs below the middle of shoulder and hand
    joints[:, _RIGHT_ELBOW] = (joints[:, _RIGHT_SHOULDER] + joints[:, _RIGHT_HAND]) / 2 - [0.0, 120.0, -40.0]
    orientation = np.broadcast_to(np.eye(3), (num, CAD120_ORIENTED_JOINTS, 3, 3))
    return CAD120Skeleton(
        frames=np.arange(1, num + 1),
        orientation=orientation,
        orientation_confidence=np.ones((num, CAD120_ORIENTED_JOINTS)),
        joints=np.round(joints, 2),
        confidence=np.ones((num, len(CAD120_JOINTS))),
    )


def _tracks(scene: _Scene, rng: np.random.Generator, jitter: float) -> list[CAD120ObjectTrack]:
    boxes = np.asarray(scene.box_track)  # (T, K, 4)
    boxes = np.round(boxes + rng.normal(0.0, jitter, boxes.shape)[..., [0, 1, 0, 1]])
    width, height = IMAGE_SIZE
    boxes = np.clip(boxes, 0, [width - 1, height - 1, width - 1, height - 1])
    frames = np.arange(1, len(boxes) + 1)
    tracks = []
    for k in range(boxes.shape[1]):
        shift = np.diff(boxes[:, k, :2], axis=0, prepend=boxes[:1, k, :2])
        affine = np.concatenate(
            [np.ones((len(frames), 1)), np.zeros((len(frames), 1)), shift[:, :1],
             np.zeros((len(frames), 1)), np.ones((len(frames), 1)), shift[:, 1:]],
            axis=1,
        )  # fmt: skip
        tracks.append(CAD120ObjectTrack(k + 1, frames, boxes[:, k], affine))
    return tracks


def _video(
    rng: np.random.Generator, video_id: str, activity: str, subject: int, body: tuple[np.ndarray, float],
    config: SyntheticCAD120Config,
) -> CAD120Video:  # fmt: skip
    types, script = ACTIVITY_SCRIPTS[activity]
    torso, scale = body
    scene = _Scene(rng, types, torso + rng.normal(0.0, 20.0, 3), scale)
    segments = []
    for sub_activity, target, other in script:
        n = int(rng.integers(config.segment_frames[0], config.segment_frames[1] + 1))
        start = len(scene.hand_track) + 1
        _play(scene, sub_activity, target, other, n)
        affordances = tuple(
            _AFFORDANCE[sub_activity] if k == target else "pourto" if k == other else "stationary"
            for k in range(len(types))
        )
        segments.append(CAD120Segment(video_id, start, start + n - 1, sub_activity, affordances))
    info = CAD120Activity(video_id, activity, subject, types)
    return CAD120Video(
        info, segments, _skeleton(scene, rng, config.jitter), _tracks(scene, rng, config.jitter)
    )


def write_synthetic_cad120(
    out_dir: str | Path, seed: int = 0, config: SyntheticCAD120Config | None = None
) -> dict[str, int]:
    """Write the synthetic CAD-120 set (same arguments -> same bytes).

    Args:
        out_dir: the root that gets the ``SubjectN_annotations`` folders (replaced if present).
        seed: the random seed.
        config: size and look; ``SyntheticCAD120Config()`` (4 subjects x 10 activities x 1 video) when None.

    Returns:
        ``{"videos": count, "segments": count, "frames": count}``.
    """
    config = config or SyntheticCAD120Config()
    out_dir = Path(out_dir)
    root_rng = np.random.default_rng(np.random.SeedSequence(seed))
    ids = root_rng.choice(
        10**10, size=len(CAD120_SUBJECTS) * len(config.activities) * config.videos_per_activity, replace=False
    )
    counts = {"videos": 0, "segments": 0, "frames": 0}
    number = 0
    for subject in CAD120_SUBJECTS:
        body = (
            np.array([root_rng.uniform(-420, -320), root_rng.uniform(-60, 60), root_rng.uniform(2400, 2800)]),
            float(root_rng.uniform(0.9, 1.1)),
        )
        for activity in config.activities:
            videos = []
            for _ in range(config.videos_per_activity):
                video_rng = np.random.default_rng(np.random.SeedSequence([seed, number]))
                videos.append(_video(video_rng, f"{int(ids[number]):010d}", activity, subject, body, config))
                number += 1
            folder = out_dir / f"Subject{subject}_annotations" / activity
            for stale in folder.glob("*.txt"):
                stale.unlink()
            write_cad120_activity(folder, videos)
            counts["videos"] += len(videos)
            counts["segments"] += sum(len(v.segments) for v in videos)
            counts["frames"] += sum(v.skeleton.num_frames for v in videos)
    return counts
