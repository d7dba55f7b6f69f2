"""Segment-based temporal sampling of a fixed number of frames, shared by the skeleton and scene-graph data.

The ``num_frames`` source frames are cut into ``length`` equal segments and one frame is taken from each
(TSN's segment sampling): a random frame of every segment for training, the middle frame for evaluation,
which is LaIAR's (section 3.3) random sampling in training and uniform sampling at inference. Segments
shorter than one frame repeat frames, so a clip of any length (even one frame) becomes exactly ``length``
frames with its temporal order kept.
"""

from __future__ import annotations

import numpy as np

__all__ = ["uniform_frame_indices", "random_frame_indices"]


def _segment_edges(num_frames: int, length: int) -> np.ndarray:
    if num_frames < 1:
        raise ValueError(f"cannot sample frames from a sequence of {num_frames} frames; need at least 1")
    if length < 1:
        raise ValueError(f"length must be at least 1, got {length}")
    return np.linspace(0.0, float(num_frames), length + 1)


def uniform_frame_indices(num_frames: int, length: int) -> np.ndarray:
    """Middle frame of each of ``length`` equal segments (deterministic; evaluation).

    Args:
        num_frames: frames in the source sequence (>= 1).
        length: frames to return (T).

    Returns:
        ``(length,)`` int64 non-decreasing indices in ``[0, num_frames)``.

    Raises:
        ValueError: ``num_frames`` or ``length`` is below 1.
    """
    edges = _segment_edges(num_frames, length)
    middles = (edges[:-1] + edges[1:]) / 2.0
    return np.minimum(np.floor(middles).astype(np.int64), num_frames - 1)


def random_frame_indices(num_frames: int, length: int, rng: np.random.Generator) -> np.ndarray:
    """A uniformly random frame of each of ``length`` equal segments (training).

    Args:
        num_frames: frames in the source sequence (>= 1).
        length: frames to return (T).
        rng: the random generator to draw from.

    Returns:
        ``(length,)`` int64 non-decreasing indices in ``[0, num_frames)``.

    Raises:
        ValueError: ``num_frames`` or ``length`` is below 1.
    """
    edges = _segment_edges(num_frames, length)
    positions = edges[:-1] + rng.random(length) * (edges[1:] - edges[:-1])
    return np.minimum(np.floor(positions).astype(np.int64), num_frames - 1)
