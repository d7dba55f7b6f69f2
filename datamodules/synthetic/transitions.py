"""A synthetic action as one contacting-relation transition, and the ground truth behind every label.

Both scene-graph presets (:mod:`.scene_graphs`, :mod:`.charades_scale`) define their actions as
:class:`SyntheticAction` and record, for each (video, action) label, the :class:`SyntheticTransition` that
made it, in ``synthetic_truth.json``: what explanations are scored against.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

__all__ = [
    "FPS",
    "SyntheticAction",
    "SyntheticTransition",
    "read_synthetic_truth",
    "write_synthetic_truth",
]

FPS = 24.0  # frame rate of the synthetic videos: Charades seconds = frame number / FPS


@dataclass(frozen=True)
class SyntheticAction:
    """An action defined by one contacting-relationship transition.

    Attributes:
        code: Charades class code, ``"c042"``.
        name: Charades class name, ``"Putting a box somewhere"``.
        objects: Action Genome object classes the action can involve.
        relation_before: the person-object contacting relationship before the change.
        relation_after: the relationship from the change on.
    """

    code: str
    name: str
    objects: tuple[str, ...]
    relation_before: str
    relation_after: str


@dataclass(frozen=True)
class SyntheticTransition:
    """The ground truth behind one (video, action) label: what explanations are scored against.

    Attributes:
        action: Charades code, ``"c042"``.
        action_name: its Charades name.
        object: Action Genome class of the object, ``"box"``.
        relation_before: contacting relationship in every frame before ``change_frame``.
        relation_after: contacting relationship from ``change_frame`` on.
        change_frame: key of the first frame with ``relation_after``, ``"AB12C.mp4/000123.png"``.
        change_step: position of that frame among the video's annotated frames (0-based).
    """

    action: str
    action_name: str
    object: str
    relation_before: str
    relation_after: str
    change_frame: str
    change_step: int

    @classmethod
    def of(cls, action: SyntheticAction, obj: str, keys: Sequence[str], change: int) -> SyntheticTransition:
        """``action`` on ``obj``, changing at annotated frame ``change`` of the frames ``keys``."""
        return cls(
            action.code, action.name, obj, action.relation_before, action.relation_after, keys[change], change
        )


def write_synthetic_truth(
    path: Path, actions: Sequence[SyntheticAction], videos: dict[str, list[SyntheticTransition]]
) -> None:
    """Write ``synthetic_truth.json``: the frame rate, the action definitions, every video's transitions."""
    truth = {video: [asdict(t) for t in transitions] for video, transitions in videos.items()}
    definitions = [asdict(a) for a in actions]
    path.write_text(
        json.dumps({"fps": FPS, "actions": definitions, "videos": truth}, indent=1, sort_keys=True) + "\n"
    )


def read_synthetic_truth(path: str | Path) -> dict[str, list[SyntheticTransition]]:
    """Read ``synthetic_truth.json``: video id -> the transition behind each of its action labels."""
    data = json.loads(Path(path).read_text())
    return {video: [SyntheticTransition(**t) for t in items] for video, items in data["videos"].items()}
