"""The spatial-partition adjacency of a skeleton layout's bone graph (the VST encoder's graph convolutions).

The layouts themselves (joint names, parents) are data in :mod:`lvlm_var.skeleton_layout`, chosen by the
number of joints ``V``.
"""

from __future__ import annotations

import torch
from torch import Tensor

from ..skeleton_layout import SkeletonLayout

COORDINATES = 3  # x, y, z per joint: the skeleton batches' C

__all__ = ["COORDINATES", "spatial_adjacency"]


def _column_normalized(adjacency: Tensor) -> Tensor:
    degree = adjacency.sum(dim=0)
    return adjacency / torch.where(degree > 0, degree, torch.ones_like(degree))


def spatial_adjacency(layout: SkeletonLayout) -> Tensor:
    """The spatial-partition adjacency of ST-GCN / CTR-GCN: self, centripetal and centrifugal subsets.

    ``A[k, u, v]`` is the weight with which joint ``u`` aggregates joint ``v`` in subset ``k``; the
    centripetal subset lets a parent gather its children, the centrifugal one a child its parent. Each
    neighbour subset is normalised by its column degree, as in CTR-GCN.

    Args:
        layout: the joint layout.

    Returns:
        ``(3, V, V)`` float32.
    """
    num_joints = layout.num_joints
    toward_parent = torch.zeros(num_joints, num_joints)
    for child, parent in layout.bones:
        toward_parent[parent, child] = 1.0
    return torch.stack(
        [
            torch.eye(num_joints),
            _column_normalized(toward_parent),
            _column_normalized(toward_parent.T.contiguous()),
        ]
    )
