"""Skeleton graphs: joint names, bones and the spatial-partition adjacency of the Kinect joint layouts.

The layout is data, chosen by the number of joints ``V``: 25 joints for Kinect v2 (NTU RGB+D 60/120),
20 for Kinect v1 (NW-UCLA). Joints that exist in both layouts share a name, so code that reasons about
body parts (:mod:`lvlm_var.vst.naming`) works for either.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

COORDINATES = 3  # x, y, z per joint: the skeleton batches' C

__all__ = [
    "COORDINATES",
    "JointLayout",
    "NTU_LAYOUT",
    "KINECT_V1_LAYOUT",
    "joint_layout",
    "spatial_adjacency",
]


@dataclass(frozen=True)
class JointLayout:
    """The joints of one sensor's skeleton and the bones that connect them.

    Attributes:
        name: the sensor / data set.
        joint_names: name of every joint, indexed by joint (0-based), e.g. ``"right_wrist"``.
        parents: parent of every joint along the kinematic tree rooted at ``root`` (``parents[root] ==
            root``); bones point from parent to child.
        root: the joint at the base of the tree (spine base / hip centre).
    """

    name: str
    joint_names: tuple[str, ...]
    parents: tuple[int, ...]
    root: int

    def __post_init__(self) -> None:
        if len(self.parents) != len(self.joint_names):
            raise ValueError(
                f"JointLayout {self.name}: {len(self.parents)} parents for {len(self.joint_names)} joints"
            )
        if self.parents[self.root] != self.root:
            raise ValueError(f"JointLayout {self.name}: root {self.root} must be its own parent")
        for joint in range(len(self.parents)):
            seen, current = set(), joint
            while current != self.root:
                if current in seen or not 0 <= self.parents[current] < len(self.parents):
                    raise ValueError(f"JointLayout {self.name}: joint {joint} does not reach the root")
                seen.add(current)
                current = self.parents[current]

    @property
    def num_joints(self) -> int:
        return len(self.joint_names)

    def index(self, joint_name: str) -> int:
        """Index of ``joint_name``; ``KeyError`` naming the layout if it has no such joint."""
        try:
            return self.joint_names.index(joint_name)
        except ValueError:
            raise KeyError(f"layout {self.name} has no joint {joint_name!r}") from None

    @property
    def bones(self) -> list[tuple[int, int]]:
        """``(child, parent)`` pairs of every bone (the root has none)."""
        return [(child, parent) for child, parent in enumerate(self.parents) if child != parent]


def _layout(name: str, joints: list[tuple[str, str]], root: str) -> JointLayout:
    names = tuple(joint for joint, _ in joints)
    return JointLayout(name, names, tuple(names.index(parent) for _, parent in joints), names.index(root))


# Kinect v2, in NTU's joint order (1-based in the dataset's documentation). Hand tips and thumbs hang from
# the hand (ST-GCN's edge list hangs the tip from the thumb, which is not anatomical).
NTU_LAYOUT = _layout(
    "kinect-v2 (NTU RGB+D)",
    [
        ("spine_base", "spine_base"),
        ("spine_mid", "spine_base"),
        ("neck", "spine_shoulder"),
        ("head", "neck"),
        ("left_shoulder", "spine_shoulder"),
        ("left_elbow", "left_shoulder"),
        ("left_wrist", "left_elbow"),
        ("left_hand", "left_wrist"),
        ("right_shoulder", "spine_shoulder"),
        ("right_elbow", "right_shoulder"),
        ("right_wrist", "right_elbow"),
        ("right_hand", "right_wrist"),
        ("left_hip", "spine_base"),
        ("left_knee", "left_hip"),
        ("left_ankle", "left_knee"),
        ("left_foot", "left_ankle"),
        ("right_hip", "spine_base"),
        ("right_knee", "right_hip"),
        ("right_ankle", "right_knee"),
        ("right_foot", "right_ankle"),
        ("spine_shoulder", "spine_mid"),
        ("left_hand_tip", "left_hand"),
        ("left_thumb", "left_hand"),
        ("right_hand_tip", "right_hand"),
        ("right_thumb", "right_hand"),
    ],
    root="spine_base",
)

# Kinect v1 (NW-UCLA): hip centre, spine, shoulder centre, head, then arms and legs as in Kinect v2.
KINECT_V1_LAYOUT = _layout(
    "kinect-v1 (NW-UCLA)",
    [
        ("spine_base", "spine_base"),
        ("spine_mid", "spine_base"),
        ("spine_shoulder", "spine_mid"),
        ("head", "spine_shoulder"),
        ("left_shoulder", "spine_shoulder"),
        ("left_elbow", "left_shoulder"),
        ("left_wrist", "left_elbow"),
        ("left_hand", "left_wrist"),
        ("right_shoulder", "spine_shoulder"),
        ("right_elbow", "right_shoulder"),
        ("right_wrist", "right_elbow"),
        ("right_hand", "right_wrist"),
        ("left_hip", "spine_base"),
        ("left_knee", "left_hip"),
        ("left_ankle", "left_knee"),
        ("left_foot", "left_ankle"),
        ("right_hip", "spine_base"),
        ("right_knee", "right_hip"),
        ("right_ankle", "right_knee"),
        ("right_foot", "right_ankle"),
    ],
    root="spine_base",
)

_LAYOUTS = {layout.num_joints: layout for layout in (NTU_LAYOUT, KINECT_V1_LAYOUT)}


def joint_layout(num_joints: int) -> JointLayout:
    """The joint layout of skeletons with ``num_joints`` joints.

    Raises:
        ValueError: no known layout has that many joints (the message lists the known ones).
    """
    if num_joints not in _LAYOUTS:
        known = ", ".join(f"{v} ({layout.name})" for v, layout in sorted(_LAYOUTS.items()))
        raise ValueError(f"no skeleton layout with {num_joints} joints; known layouts: {known}")
    return _LAYOUTS[num_joints]


def _column_normalized(adjacency: Tensor) -> Tensor:
    degree = adjacency.sum(dim=0)
    return adjacency / torch.where(degree > 0, degree, torch.ones_like(degree))


def spatial_adjacency(layout: JointLayout) -> Tensor:
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
