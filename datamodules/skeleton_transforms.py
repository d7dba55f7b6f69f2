"""Pure numpy transforms of skeleton sequences ``(T, M, V, 3)``: tidy, view-normalise, augment.

Absent bodies are all-zero rows and stay exactly zero through every transform, so models can tell
"no second person" from "a person at the origin".

The view normalisation follows the standard NTU pre-normalisation (2s-AGCN / CTR-GCN
``pre_normalization``: centre, then align the spine and the shoulder line with coordinate axes). Here the
origin is the first frame's main-body spine base, the spine (spine base -> shoulder centre) points along
+y (Kinect's vertical axis, where those tools use z) and the shoulder line (left -> right shoulder) along
+x. Which joints those are depends on the sensor's joint layout
(:class:`~lvlm_var.skeleton_layout.SkeletonLayout`: its ``root``, ``spine_top`` and shoulders).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lvlm_var.skeleton_layout import SkeletonLayout

__all__ = [
    "body_present",
    "drop_empty_frames",
    "fit_bodies",
    "canonical_view_rotation",
    "normalize_view",
    "rotate",
    "SkeletonAugmentation",
]

_EPS = 1e-6


def body_present(joints: np.ndarray) -> np.ndarray:
    """``(T, M)`` bool: True where body ``m`` has any non-zero joint in frame ``t`` of ``(T, M, V, 3)``."""
    return np.any(joints != 0, axis=(2, 3))


def drop_empty_frames(joints: np.ndarray) -> np.ndarray:
    """Remove frames in which no body was tracked: ``(T, M, V, 3)`` -> ``(T', M, V, 3)``, ``T' <= T``."""
    return joints[body_present(joints).any(axis=1)]


def fit_bodies(joints: np.ndarray, num_bodies: int) -> np.ndarray:
    """Pad with absent (zero) bodies or keep the first ``num_bodies``: ``(T, M, V, 3)`` -> ``(T, M', V, 3)``.

    The readers order bodies by importance (NTU: most motion first), so truncation keeps the main ones.
    """
    frames, bodies, joints_per_body, coords = joints.shape
    if bodies >= num_bodies:
        return joints[:, :num_bodies]
    padding = np.zeros((frames, num_bodies - bodies, joints_per_body, coords), dtype=joints.dtype)
    return np.concatenate([joints, padding], axis=1)


def _unit(vector: np.ndarray) -> np.ndarray | None:
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > _EPS else None


def canonical_view_rotation(joints: np.ndarray, layout: SkeletonLayout) -> np.ndarray:
    """Rotation taking the first frame's main body to the canonical view.

    The main body is the first body present in frame 0. The returned matrix ``R`` maps its spine
    (``root -> spine_top``: spine base to shoulder centre) to +y and the part of its shoulder vector
    (``left -> right``) orthogonal to the spine to +x; ``R @ p`` rotates a point ``p``. Degenerate
    poses (zero-length spine, shoulders parallel to the spine, an empty first frame) give the identity.

    Args:
        joints: ``(T, M, V, 3)`` with ``V == layout.num_joints``.
        layout: the joint layout.

    Returns:
        ``(3, 3)`` float64 rotation matrix (orthonormal, determinant +1).
    """
    present = body_present(joints[:1])[0] if len(joints) else np.zeros(0, dtype=bool)
    if not present.any():
        return np.eye(3)
    body = joints[0, int(np.argmax(present))].astype(np.float64)
    y_axis = _unit(body[layout.spine_top] - body[layout.root])
    if y_axis is None:
        return np.eye(3)
    shoulders = body[layout.right_shoulder] - body[layout.left_shoulder]
    x_axis = _unit(shoulders - np.dot(shoulders, y_axis) * y_axis)
    if x_axis is None:
        return np.eye(3)
    return np.stack([x_axis, y_axis, np.cross(x_axis, y_axis)])


def rotate(joints: np.ndarray, rotation: np.ndarray) -> np.ndarray:
    """Apply ``rotation`` ((3, 3), possibly scaled) to every joint of ``(T, M, V, 3)``; zeros stay zero."""
    return (joints @ rotation.T.astype(joints.dtype)).astype(joints.dtype)


def normalize_view(joints: np.ndarray, layout: SkeletonLayout) -> np.ndarray:
    """Centre on the first frame's main-body spine base and rotate to the canonical view.

    Args:
        joints: ``(T, M, V, 3)`` float, absent bodies all zero, frame 0 non-empty (see
            :func:`drop_empty_frames`).
        layout: the joint layout.

    Returns:
        ``(T, M, V, 3)`` of the same dtype; absent bodies stay zero.
    """
    if len(joints) == 0:
        return joints
    present = body_present(joints)
    if not present[0].any():
        return joints
    origin = joints[0, int(np.argmax(present[0])), layout.root]
    centred = np.where(present[:, :, None, None], joints - origin, 0).astype(joints.dtype)
    return rotate(centred, canonical_view_rotation(centred, layout))


def _axis_rotation(axis: int, angle: float) -> np.ndarray:
    cos, sin = np.cos(angle), np.sin(angle)
    i, j = [k for k in range(3) if k != axis]
    matrix = np.eye(3)
    matrix[i, i], matrix[i, j], matrix[j, i], matrix[j, j] = cos, -sin, sin, cos
    return matrix


@dataclass(frozen=True)
class SkeletonAugmentation:
    """Random rotation about the three axes and isotropic scaling, applied to a whole clip (training only).

    Args:
        max_rotation_degrees: each axis' angle is uniform in ``[-max, max]`` degrees (CTR-GCN uses ~17).
        min_scale: lower bound of the uniform scale factor.
        max_scale: upper bound of the uniform scale factor.

    Raises:
        ValueError: a negative angle or a scale range that is empty or not positive.
    """

    max_rotation_degrees: float = 17.0
    min_scale: float = 0.9
    max_scale: float = 1.1

    def __post_init__(self) -> None:
        if not 0.0 <= self.max_rotation_degrees <= 180.0:
            raise ValueError(f"max_rotation_degrees must be in [0, 180], got {self.max_rotation_degrees}")
        if not 0.0 < self.min_scale <= self.max_scale:
            raise ValueError(
                f"need 0 < min_scale <= max_scale, got min_scale={self.min_scale}, max_scale={self.max_scale}"
            )

    def __call__(self, joints: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Augment ``(T, M, V, 3)``; absent bodies stay zero.

        Args:
            joints: the view-normalised clip.
            rng: the random generator to draw the angles and scale from.

        Returns:
            ``(T, M, V, 3)`` of the same dtype.
        """
        angles = np.deg2rad(rng.uniform(-self.max_rotation_degrees, self.max_rotation_degrees, size=3))
        rotation = _axis_rotation(0, angles[0]) @ _axis_rotation(1, angles[1]) @ _axis_rotation(2, angles[2])
        scale = rng.uniform(self.min_scale, self.max_scale)
        return rotate(joints, rotation * scale)
