"""CAD-120 relation tokens: every frame's person-object tokens of a video, their relations and features.

Tokens. In every frame of a segment, each object of the video whose box is valid in that frame
(``x2 > x1`` and ``y2 > y1``) gives one person-object token; the object's class is its CAD-120 type mapped
to the nearest Action Genome class (:data:`~datamodules.formats.cad120.CAD120_TO_AG_OBJECT`: bowl and plate
-> dish, cup and milk -> cup/glass/bottle, cloth -> towel, medcinebox -> medicine, book, box as themselves)
in the vocabulary :data:`~datamodules.formats.cad120.CAD120_OBJECT_CLASSES` (the 36 Action Genome classes
plus ``microwave`` and ``remote``). The person box is the box around the skeleton's 15 joints projected to
the image with the Kinect v1 intrinsics (joints with zero confidence are left out unless all are).

Relations (LaIAR's CAD-120 relation annotations are not public, so they are derived from the geometry,
over the 26 Action Genome relationships):

- contacting: ``holding`` when a tracked hand joint (LEFT_HAND, RIGHT_HAND with confidence > 0), projected
  to the image, lies inside the object box; else ``touching`` when one lies within ``touch_margin`` pixels
  of the box; else ``not_contacting``;
- spatial: ``in_front_of`` when the object box's centre lies horizontally within the trunk (between the
  leftmost and rightmost of the projected shoulders and hips: the object is between the camera and the
  body), else ``on_the_side_of``;
- attention: none (the skeleton gives no gaze).

Relations given by a file (``overrides`` of :func:`cad120_tokens`) replace the derived ones of the tokens
they name.

Features. CAD-120 has no RoI features; each slot (person box, object box, union box) gets the same
:data:`FEATURE_DIM` = 40 geometric descriptor of its box ``b`` in frame ``t`` (W x H = 640 x 480):

- ``[0:4]`` ``b`` divided by (W, H, W, H);
- ``[4:8]`` the change of those 4 values since the previous frame of the video (0 in its first frame and
  after a frame where the box was not valid);
- ``[8:38]`` the 15 projected joints relative to the box: ``(uv - centre(b)) / max(w(b), h(b), 1)``,
  clipped to [-5, 5] (joint order of :data:`~datamodules.formats.cad120.CAD120_JOINTS`);
- ``[38:40]`` the pixel distance of the left and right hand to ``b`` (0 inside) divided by the image
  diagonal, clipped to 1 (1 for an untracked hand).

So the pose, the hands' reach of every box and the boxes' motion are all in the features, as RoI features
would see them. ``boxes`` hold the person and object boxes divided by (W, H, W, H).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .formats.cad120 import (
    CAD120_JOINTS,
    CAD120_OBJECT_CLASSES,
    CAD120_TO_AG_OBJECT,
    IMAGE_SIZE,
    CAD120Video,
    project_to_image,
)
from .formats.class_names import AG_RELATIONSHIP_CLASSES
from .formats.errors import CAD120FormatError

__all__ = ["FEATURE_DIM", "CAD120Tokens", "derive_relations", "box_descriptors", "cad120_tokens"]

FEATURE_DIM = 8 + 2 * len(CAD120_JOINTS) + 2
_HANDS = (CAD120_JOINTS.index("LEFT_HAND"), CAD120_JOINTS.index("RIGHT_HAND"))
_TRUNK = tuple(
    CAD120_JOINTS.index(f"{side}_{part}") for side in ("LEFT", "RIGHT") for part in ("SHOULDER", "HIP")
)
_SCALE = np.array([IMAGE_SIZE[0], IMAGE_SIZE[1], IMAGE_SIZE[0], IMAGE_SIZE[1]], np.float64)
_DIAGONAL = float(np.hypot(*IMAGE_SIZE))
_RELATION = {name: i for i, name in enumerate(AG_RELATIONSHIP_CLASSES)}
_JOINT_CLIP = 5.0


def _valid(boxes: np.ndarray) -> np.ndarray:
    return (boxes[..., 2] > boxes[..., 0]) & (boxes[..., 3] > boxes[..., 1])


def _point_box_distance(points: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """``(T, P)`` pixel distance of points ``(T, P, 2)`` to boxes ``(T, 4)`` (0 inside or on the edge)."""
    low, high = boxes[:, None, :2], boxes[:, None, 2:]
    gap = np.maximum(np.maximum(low - points, points - high), 0.0)
    return np.hypot(gap[..., 0], gap[..., 1])


def derive_relations(
    hands_uv: np.ndarray,
    hands_tracked: np.ndarray,
    trunk_u: np.ndarray,
    object_box: np.ndarray,
    touch_margin: float,
) -> np.ndarray:
    """The derived relations of one object in every frame (the rule of the module docstring).

    Args:
        hands_uv: ``(T, 2, 2)`` left and right hand pixels.
        hands_tracked: ``(T, 2)`` bool, hands with confidence > 0.
        trunk_u: ``(T, 2)`` leftmost and rightmost image column of the shoulders and hips.
        object_box: ``(T, 4)`` xyxy pixels.
        touch_margin: pixels within which a hand outside the box counts as ``touching``.

    Returns:
        ``(T, 26)`` uint8 multi-hot over the Action Genome relationships.
    """
    distance = np.where(hands_tracked, _point_box_distance(hands_uv, object_box), np.inf)
    inside = (distance == 0).any(axis=1)
    near = (distance <= touch_margin).any(axis=1)
    contacting = np.where(
        inside, _RELATION["holding"], np.where(near, _RELATION["touching"], _RELATION["not_contacting"])
    )
    centre = (object_box[:, 0] + object_box[:, 2]) / 2
    in_front = (centre >= trunk_u[:, 0]) & (centre <= trunk_u[:, 1])
    spatial = np.where(in_front, _RELATION["in_front_of"], _RELATION["on_the_side_of"])
    relations = np.zeros((len(object_box), len(AG_RELATIONSHIP_CLASSES)), np.uint8)
    rows = np.arange(len(object_box))
    relations[rows, contacting] = 1
    relations[rows, spatial] = 1
    return relations


def box_descriptors(boxes: np.ndarray, joints_uv: np.ndarray, hands_tracked: np.ndarray) -> np.ndarray:
    """The :data:`FEATURE_DIM` geometric descriptor of a box in every frame (see the module docstring).

    Args:
        boxes: ``(T, 4)`` xyxy pixels (an invalid box in a frame gives a descriptor nobody reads).
        joints_uv: ``(T, 15, 2)`` projected joints.
        hands_tracked: ``(T, 2)`` bool.

    Returns:
        ``(T, 40)`` float32.
    """
    normalised = boxes / _SCALE
    valid = _valid(boxes)
    motion = np.zeros_like(normalised)
    motion[1:] = normalised[1:] - normalised[:-1]
    motion[1:][~(valid[1:] & valid[:-1])] = 0.0
    motion[0] = 0.0
    centre = (boxes[:, None, :2] + boxes[:, None, 2:]) / 2
    size = np.maximum(np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]), 1.0)
    relative = np.clip((joints_uv - centre) / size[:, None, None], -_JOINT_CLIP, _JOINT_CLIP)
    hands = _point_box_distance(joints_uv[:, list(_HANDS)], boxes) / _DIAGONAL
    hands = np.where(hands_tracked, np.minimum(hands, 1.0), 1.0)
    return np.concatenate([normalised, motion, relative.reshape(len(boxes), -1), hands], axis=1).astype(
        np.float32
    )


@dataclass
class CAD120Tokens:
    """Every frame's person-object tokens of one video (K = the video's objects).

    Attributes:
        frames: ``(T,)`` int64 frame numbers.
        person_box: ``(T, 4)`` float64 pixels.
        person_feature: ``(T, F)`` float32.
        present: ``(T, K)`` bool, the object's box is valid in the frame (the token exists).
        object_box: ``(T, K, 4)`` float64 pixels.
        object_feature: ``(T, K, F)`` float32.
        union_feature: ``(T, K, F)`` float32.
        relations: ``(T, K, 26)`` uint8 multi-hot.
        object_class: ``(K,)`` int64 index in :data:`CAD120_OBJECT_CLASSES`.
    """

    frames: np.ndarray
    person_box: np.ndarray
    person_feature: np.ndarray
    present: np.ndarray
    object_box: np.ndarray
    object_feature: np.ndarray
    union_feature: np.ndarray
    relations: np.ndarray
    object_class: np.ndarray

    def segment_tables(self, start_frame: int, end_frame: int) -> dict[str, dict[str, np.ndarray]]:
        """The store rows of the segment ``start_frame..end_frame``: ``frames`` (one a video frame) and
        ``pairs`` (one a token, boxes divided by (W, H, W, H))."""
        rows = np.flatnonzero((self.frames >= start_frame) & (self.frames <= end_frame))
        t_local, k = np.nonzero(self.present[rows])  # row-major: frame by frame, objects in order
        t = rows[t_local]
        boxes = np.concatenate([self.person_box[t], self.object_box[t, k]], axis=1) / np.tile(_SCALE, 2)
        return {
            "frames": {
                "frame_index": self.frames[rows].astype(np.int64),
                "person_feature": self.person_feature[rows],
            },
            "pairs": {
                "frame": t_local.astype(np.int32),
                "object_feature": self.object_feature[t, k],
                "union_feature": self.union_feature[t, k],
                "boxes": boxes.astype(np.float32),
                "object_class": self.object_class[k].astype(np.int16),
                "relations": self.relations[t, k],
            },
        }


def cad120_tokens(
    video: CAD120Video,
    touch_margin: float = 20.0,
    overrides: dict[tuple[int, int], tuple[int, ...]] | None = None,
    relation_file: Path | None = None,
) -> CAD120Tokens:
    """Boxes, features and relations of every frame and object of a video (see the module docstring).

    Args:
        video: a read video.
        touch_margin: see :func:`derive_relations`.
        overrides: this video's relation indices replacing the derived ones, keyed ``(frame,
            object_index)`` (1-based object index).
        relation_file: where ``overrides`` came from, for error messages.

    Returns:
        The video's tokens.

    Raises:
        CAD120FormatError: an override names a frame the video lacks, an object index beyond its objects,
            or an object not visible in that frame.
    """
    skeleton = video.skeleton
    frames = skeleton.frames
    joints_uv = project_to_image(skeleton.joints)
    tracked = skeleton.confidence > 0
    tracked[~tracked.any(axis=1)] = True  # a frame without any confident joint: use them all
    masked_u = np.where(tracked, joints_uv[..., 0], np.nan)
    masked_v = np.where(tracked, joints_uv[..., 1], np.nan)
    person_box = np.stack(
        [np.nanmin(masked_u, 1), np.nanmin(masked_v, 1), np.nanmax(masked_u, 1), np.nanmax(masked_v, 1)],
        axis=1,
    )
    person_box = np.clip(person_box, 0.0, _SCALE - 1.0)
    hands_uv = joints_uv[:, list(_HANDS)]
    trunk = joints_uv[:, list(_TRUNK), 0]
    trunk_u = np.stack([trunk.min(axis=1), trunk.max(axis=1)], axis=1)
    hands_tracked = skeleton.confidence[:, list(_HANDS)] > 0
    num_frames, num_objects = len(frames), len(video.objects)
    object_box = np.zeros((num_frames, num_objects, 4))
    relations = np.zeros((num_frames, num_objects, len(AG_RELATIONSHIP_CLASSES)), np.uint8)
    object_feature = np.zeros((num_frames, num_objects, FEATURE_DIM), np.float32)
    union_feature = np.zeros_like(object_feature)
    for k, track in enumerate(video.objects):
        box = object_box[:, k] = track.boxes_at(frames)
        union = np.concatenate(
            [np.minimum(person_box[:, :2], box[:, :2]), np.maximum(person_box[:, 2:], box[:, 2:])], 1
        )
        relations[:, k] = derive_relations(hands_uv, hands_tracked, trunk_u, box, touch_margin)
        object_feature[:, k] = box_descriptors(box, joints_uv, hands_tracked)
        union_feature[:, k] = box_descriptors(union, joints_uv, hands_tracked)
    present = _valid(object_box)
    row_of_frame = {int(f): t for t, f in enumerate(frames)}
    for (frame, k), indices in (overrides or {}).items():
        t = row_of_frame.get(frame)
        if t is None:
            problem = f"the video has no frame {frame}"
        elif k > num_objects:
            problem = f"the video has {num_objects} objects"
        elif not present[t, k - 1]:
            problem = f"object {k} has no box in frame {frame}"
        else:
            problem = ""
        if problem:
            raise CAD120FormatError(
                relation_file or Path("relation overrides"),
                f"video {video.video_id} frame {frame} object {k}",
                f"no such token: {problem}",
            )
        relations[t, k - 1] = 0
        relations[t, k - 1, list(indices)] = 1
    object_class = [CAD120_OBJECT_CLASSES.index(CAD120_TO_AG_OBJECT[t]) for t in video.info.object_types]
    return CAD120Tokens(
        frames=frames,
        person_box=person_box,
        person_feature=box_descriptors(person_box, joints_uv, hands_tracked),
        present=present,
        object_box=object_box,
        object_feature=object_feature,
        union_feature=union_feature,
        relations=relations,
        object_class=np.asarray(object_class, np.int64),
    )
