"""The one in-memory type every skeleton reader produces."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["SkeletonClip"]


@dataclass
class SkeletonClip:
    """A skeleton sequence, whatever file it came from (NTU ``.skeleton``, pyskl pickle, NW-UCLA JSON).

    Attributes:
        name: sample name, e.g. ``S001C002P003R002A023`` or ``a01_s01_e00_v01``.
        joints: ``(T, M, V, 3)`` float32 xyz in metres; ``M`` bodies (zeros where a body is absent
            in a frame), ``V`` joints (25 for NTU, 20 for NW-UCLA). ``T`` may be 0 for an empty file.
        label: 0-based class index.
        subject: performer / subject id.
        view: camera id (NTU ``Cccc``) or view id (NW-UCLA ``vWW``).
        setup: NTU setup id (``Ssss``); NW-UCLA has none and uses 0.
    """

    name: str
    joints: np.ndarray
    label: int
    subject: int
    view: int
    setup: int = 0

    @property
    def num_frames(self) -> int:
        return int(self.joints.shape[0])
