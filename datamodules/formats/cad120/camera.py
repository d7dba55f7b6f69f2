"""The Kinect v1 RGB camera of CAD-120: skeleton positions (mm, camera frame) <-> image pixels.

:func:`project_to_image` uses the pinhole model with :data:`KINECT_FOCAL` = 525 px and principal point
:data:`KINECT_PRINCIPAL_POINT` (319.5, 239.5) in the :data:`IMAGE_SIZE` 640 x 480 image, so hands can be
compared with the object boxes.
"""

from __future__ import annotations

import numpy as np

__all__ = ["IMAGE_SIZE", "KINECT_FOCAL", "KINECT_PRINCIPAL_POINT", "project_to_image", "unproject_from_image"]

IMAGE_SIZE = (640, 480)
KINECT_FOCAL = 525.0
KINECT_PRINCIPAL_POINT = (319.5, 239.5)


def project_to_image(xyz: np.ndarray) -> np.ndarray:
    """Pixel coordinates of camera-frame points (Kinect v1 RGB intrinsics, pinhole model).

    Args:
        xyz: ``(..., 3)`` millimetres, x right, y up, z away from the camera (> 0).

    Returns:
        ``(..., 2)`` float64 ``(u, v)``: u to the right, v down, origin at the image's upper-left corner.
    """
    xyz = np.asarray(xyz, dtype=np.float64)
    depth = np.maximum(xyz[..., 2], 1.0)  # a zero depth (an untracked joint) must not divide by zero
    u = KINECT_PRINCIPAL_POINT[0] + KINECT_FOCAL * xyz[..., 0] / depth
    v = KINECT_PRINCIPAL_POINT[1] - KINECT_FOCAL * xyz[..., 1] / depth
    return np.stack([u, v], axis=-1)


def unproject_from_image(uv: np.ndarray, depth: np.ndarray | float) -> np.ndarray:
    """The inverse of :func:`project_to_image`: ``(..., 2)`` pixels and depth (mm) -> ``(..., 3)`` mm."""
    uv = np.asarray(uv, dtype=np.float64)
    depth = np.broadcast_to(np.asarray(depth, dtype=np.float64), uv.shape[:-1])
    x = (uv[..., 0] - KINECT_PRINCIPAL_POINT[0]) * depth / KINECT_FOCAL
    y = (KINECT_PRINCIPAL_POINT[1] - uv[..., 1]) * depth / KINECT_FOCAL
    return np.stack([x, y, depth], axis=-1)
