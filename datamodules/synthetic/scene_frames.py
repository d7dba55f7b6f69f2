"""The annotated frames of a synthetic relation video: ids, frame keys, drifting boxes, per-frame relations.

Shared by both scene-graph presets (:mod:`.scene_graphs`, :mod:`.charades_scale`): given each object's
contacting relation in every frame, :func:`layout_frames` lays out the person and object boxes, which
drift at random, independently of the relations, so geometry gives nothing away; draws the attention
(every frame) and spatial relations; and hides distractors now and then. With a noise stream of its own
it adds Action Genome's annotation noise: action objects missed, spatial relations redrawn.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..formats.action_genome import AGFrame, AGObject
from ..formats.class_names import (
    AG_ATTENTION_RELATIONSHIPS,
    AG_OBJECT_CLASSES,
    AG_RELATIONSHIP_CLASSES,
    AG_SPATIAL_RELATIONSHIPS,
)
from .transitions import FPS, SyntheticTransition

__all__ = ["GENERIC_STATIC", "SyntheticVideo", "video_ids", "frame_keys", "layout_frames"]

GENERIC_STATIC = ("not_contacting", "touching")  # contacting states any distractor may hold
_SCENES = ("Kitchen", "Bedroom", "Living room", "Bathroom", "Dining room", "Home Office", "Hallway", "Pantry")
_ID_ALPHABET = np.array(list("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
_FRAME_SIZES = ((480, 270), (480, 360))
_HIDDEN_PROBABILITY = 0.1  # how often a distractor is annotated but not visible in a frame


@dataclass
class SyntheticVideo:
    """One generated video: its annotated frames, the transitions behind its labels, who and where."""

    frames: list[AGFrame]
    transitions: list[SyntheticTransition]
    subject: str
    scene: str

    @classmethod
    def draw(
        cls, rng: np.random.Generator, frames: list[AGFrame], transitions: list[SyntheticTransition]
    ) -> SyntheticVideo:
        """The video of ``frames`` and ``transitions``, with a subject and a scene drawn from ``rng``."""
        subject = f"H{_ID_ALPHABET[int(rng.integers(10, 36))]}{int(rng.integers(10, 100))}"
        return cls(frames, transitions, subject, _SCENES[int(rng.integers(len(_SCENES)))])

    @property
    def seconds(self) -> dict[str, float]:
        """Frame key -> its time in the video (s)."""
        return {f.key: f.frame_index / FPS for f in self.frames}

    @property
    def length(self) -> float:
        """Charades' ``length`` (s): one second past the last annotated frame."""
        return round(self.frames[-1].frame_index / FPS + 1.0, 2)


def video_ids(rng: np.random.Generator, count: int) -> list[str]:
    """``count`` distinct Charades-like video ids (five characters of ``0-9A-Z``)."""
    ids: list[str] = []
    seen: set[str] = set()
    while len(ids) < count:
        candidate = "".join(rng.choice(_ID_ALPHABET, size=5))
        if candidate not in seen:
            seen.add(candidate)
            ids.append(candidate)
    return ids


def frame_keys(rng: np.random.Generator, video_id: str, num_frames: int) -> tuple[np.ndarray, list[str]]:
    """Frame numbers of ``num_frames`` annotated frames (4 to 40 video frames apart) and their keys."""
    frame_numbers = np.cumsum(
        np.concatenate([rng.integers(1, 60, size=1), rng.integers(4, 40, size=num_frames - 1)])
    )
    return frame_numbers, [f"{video_id}.mp4/{n:06d}.png" for n in frame_numbers]


def layout_frames(
    rng: np.random.Generator,
    keys: list[str],
    frame_numbers: np.ndarray,
    contacting: dict[str, list[str]],
    action_objects: set[str],
    split: str,
    noise: np.random.Generator | None = None,
    miss_probability: float = 0.0,
    spatial_change_probability: float = 0.0,
    changes: dict[str, int] | None = None,
) -> list[AGFrame]:
    """Boxes and relations of every frame, given each object's contacting relation per frame.

    The action objects are always visible, distractors hidden now and then. With ``noise`` (its own
    random stream), Action Genome's annotation noise: each action object is missed with
    ``miss_probability`` away from its ``changes`` step (never in the frames either side of it), and
    each object's spatial relation is redrawn with ``spatial_change_probability`` a frame.
    """
    names = list(contacting)
    order = [names[i] for i in rng.permutation(len(names))]
    width, height = _FRAME_SIZES[int(rng.integers(len(_FRAME_SIZES)))]
    spatial = {o: AG_SPATIAL_RELATIONSHIPS[int(rng.integers(len(AG_SPATIAL_RELATIONSHIPS)))] for o in order}
    person_center = rng.uniform([0.3 * width, 0.4 * height], [0.7 * width, 0.6 * height])
    person_half = rng.uniform([0.1 * width, 0.25 * height], [0.2 * width, 0.4 * height])
    object_box = {o: _random_box(rng, width, height) for o in order}
    frames = []
    for t, key in enumerate(keys):
        center = person_center + rng.integers(-3, 4, size=2)
        person_box = _clip_box(
            np.concatenate([center - person_half, center + person_half]).round(), width, height
        )
        objects = []
        for obj in order:
            object_box[obj] = _clip_box(
                object_box[obj] + np.tile(rng.integers(-5, 6, size=2), 2), width, height
            )
            visible = obj in action_objects or rng.random() >= _HIDDEN_PROBABILITY
            if noise is not None and obj in action_objects and t not in (changes[obj] - 1, changes[obj]):
                visible = noise.random() >= miss_probability
            if noise is not None and noise.random() < spatial_change_probability:
                spatial[obj] = AG_SPATIAL_RELATIONSHIPS[int(noise.integers(len(AG_SPATIAL_RELATIONSHIPS)))]
            relations: tuple[int, ...] = ()
            if visible:
                attention = AG_ATTENTION_RELATIONSHIPS[int(rng.integers(len(AG_ATTENTION_RELATIONSHIPS)))]
                relations = tuple(
                    sorted(
                        AG_RELATIONSHIP_CLASSES.index(r)
                        for r in (attention, spatial[obj], contacting[obj][t])
                    )
                )
            objects.append(
                AGObject(
                    AG_OBJECT_CLASSES.index(obj),
                    tuple(float(v) for v in object_box[obj]) if visible else None,
                    relations,
                    visible,
                    split,
                )
            )
        frames.append(
            AGFrame(key, int(frame_numbers[t]), (width, height), tuple(float(v) for v in person_box), objects)
        )
    return frames


def _random_box(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    size = rng.integers(20, 120, size=2)
    corner = rng.integers(0, [width - size[0], height - size[1]])
    return np.concatenate([corner, corner + size]).astype(np.float64)


def _clip_box(box: np.ndarray, width: int, height: int) -> np.ndarray:
    size = box[2:] - box[:2]
    corner = np.clip(box[:2], 0, [width - size[0], height - size[1]])
    return np.concatenate([corner, corner + size])
