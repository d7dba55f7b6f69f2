"""Skeleton layouts: the joints of each sensor's skeleton, the bones between them, the joints transforms use.

This is data, not a model: the file readers (``datamodules/formats``), the transforms, the synthetic
generators and the VST encoder all read the layouts from here, so a joint index is written once. The
module imports nothing heavy (no torch, no numpy).

Three layouts, in the joint order of their files (0-based):

* :data:`KINECT_V2_LAYOUT`: 25 joints of Kinect v2 (NTU RGB+D 60/120 ``.skeleton``);
* :data:`KINECT_V1_LAYOUT`: 20 joints of Kinect v1 (NW-UCLA JSON);
* :data:`CAD120_LAYOUT`: the 15 OpenNI joints of CAD-120's skeleton files.

Joints that exist in several layouts share a name (``right_hand``, ``spine_shoulder``, ...), so code that
reasons about body parts works for any of them.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "SkeletonLayout",
    "KINECT_V2_LAYOUT",
    "KINECT_V1_LAYOUT",
    "CAD120_LAYOUT",
    "CLIP_LAYOUTS",
    "layout_for_num_joints",
]


@dataclass(frozen=True)
class SkeletonLayout:
    """The joints of one sensor's skeleton and the bones that connect them.

    Attributes:
        name: the sensor / data set.
        joint_names: name of every joint, indexed by joint (0-based), e.g. ``"right_wrist"``.
        parents: parent of every joint along the kinematic tree rooted at ``root`` (``parents[root] ==
            root``); bones point from parent to child.
        root: the joint at the base of the tree (spine base / hip centre; CAD-120: torso); the view
            normalisation moves it to the origin.
        spine_top: the top of the spine (shoulder centre; CAD-120: neck); ``root -> spine_top`` is the
            spine vector the view normalisation aligns with +y.

    Raises:
        ValueError: parents and names differ in length, a joint name repeats, or a joint does not reach
            the root.
    """

    name: str
    joint_names: tuple[str, ...]
    parents: tuple[int, ...]
    root: int
    spine_top: int

    def __post_init__(self) -> None:
        if len(self.parents) != len(self.joint_names):
            raise ValueError(
                f"SkeletonLayout {self.name}: {len(self.parents)} parents for {len(self.joint_names)} joints"
            )
        if len(set(self.joint_names)) != len(self.joint_names):
            raise ValueError(f"SkeletonLayout {self.name}: joint names repeat")
        if self.parents[self.root] != self.root:
            raise ValueError(f"SkeletonLayout {self.name}: root {self.root} must be its own parent")
        if not 0 <= self.spine_top < len(self.parents):
            raise ValueError(f"SkeletonLayout {self.name}: spine_top {self.spine_top} is not a joint")
        for joint in range(len(self.parents)):
            seen, current = set(), joint
            while current != self.root:
                if current in seen or not 0 <= self.parents[current] < len(self.parents):
                    raise ValueError(f"SkeletonLayout {self.name}: joint {joint} does not reach the root")
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
    def left_shoulder(self) -> int:
        """Start of the shoulder line the view normalisation aligns with +x."""
        return self.index("left_shoulder")

    @property
    def right_shoulder(self) -> int:
        """End of the shoulder line the view normalisation aligns with +x."""
        return self.index("right_shoulder")

    @property
    def bones(self) -> list[tuple[int, int]]:
        """``(child, parent)`` pairs of every bone (the root has none)."""
        return [(child, parent) for child, parent in enumerate(self.parents) if child != parent]

    @property
    def end_joints(self) -> tuple[int, ...]:
        """The joints no bone starts from (head, feet, hand tips, ...), in index order.

        Kinect reports no bone orientation for them (a zero quaternion in NTU files).
        """
        parents = {parent for _, parent in self.bones}
        return tuple(joint for joint in range(self.num_joints) if joint not in parents)


def _layout(name: str, joints: list[tuple[str, str]], root: str, spine_top: str) -> SkeletonLayout:
    names = tuple(joint for joint, _ in joints)
    parents = tuple(names.index(parent) for _, parent in joints)
    return SkeletonLayout(name, names, parents, names.index(root), names.index(spine_top))


# Arms and legs, the same joints and bones in Kinect v1 and v2 (indices 4-19 of both).
_KINECT_LIMBS = [
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
]


def _kinect_layout(
    name: str, upper: list[tuple[str, str]], extra: tuple[tuple[str, str], ...] = ()
) -> SkeletonLayout:
    """A Kinect layout: spine base and mid (joints 0-1), the two ``upper`` joints (2-3), the limbs (4-19),
    then ``extra``; rooted at the spine base, with the spine up to the shoulder centre."""
    joints = [("spine_base", "spine_base"), ("spine_mid", "spine_base"), *upper, *_KINECT_LIMBS, *extra]
    return _layout(name, joints, root="spine_base", spine_top="spine_shoulder")


# Kinect v2, in NTU's joint order (1-based in the dataset's documentation: 1 spine base, 21 spine shoulder,
# 5 left shoulder, 9 right shoulder). Hand tips and thumbs hang from the hand (ST-GCN's edge list hangs
# the tip from the thumb, which is not anatomical).
KINECT_V2_LAYOUT = _kinect_layout(
    "kinect-v2 (NTU RGB+D)",
    upper=[("neck", "spine_shoulder"), ("head", "neck")],
    extra=(
        ("spine_shoulder", "spine_mid"),
        ("left_hand_tip", "left_hand"),
        ("left_thumb", "left_hand"),
        ("right_hand_tip", "right_hand"),
        ("right_thumb", "right_hand"),
    ),
)

# Kinect v1 (NW-UCLA) in SDK order: hip centre, spine, shoulder centre, head, then arms and legs as in
# Kinect v2 (1-based: 1 hip centre, 3 shoulder centre, 5 left shoulder, 9 right shoulder); no neck.
KINECT_V1_LAYOUT = _kinect_layout(
    "kinect-v1 (NW-UCLA)", upper=[("spine_shoulder", "spine_mid"), ("head", "spine_shoulder")]
)

# CAD-120 (OpenNI / NiTE), in the order of the skeleton files (HEAD ... RIGHT_KNEE carry an orientation,
# the four hands and feet only a position); the tree is OpenNI's: limbs from the neck and the torso.
CAD120_LAYOUT = _layout(
    "openni (CAD-120)",
    [
        ("head", "neck"),
        ("neck", "torso"),
        ("torso", "torso"),
        ("left_shoulder", "neck"),
        ("left_elbow", "left_shoulder"),
        ("right_shoulder", "neck"),
        ("right_elbow", "right_shoulder"),
        ("left_hip", "torso"),
        ("left_knee", "left_hip"),
        ("right_hip", "torso"),
        ("right_knee", "right_hip"),
        ("left_hand", "left_elbow"),
        ("right_hand", "right_elbow"),
        ("left_foot", "left_knee"),
        ("right_foot", "right_knee"),
    ],
    root="torso",
    spine_top="neck",
)

# The layouts of skeleton clips (the skeleton data modules and the VST), told apart by their joint count.
CLIP_LAYOUTS: tuple[SkeletonLayout, ...] = (KINECT_V2_LAYOUT, KINECT_V1_LAYOUT)
_CLIP_LAYOUT_OF = {layout.num_joints: layout for layout in CLIP_LAYOUTS}


def layout_for_num_joints(num_joints: int) -> SkeletonLayout:
    """The layout of skeleton clips with ``num_joints`` joints (one of :data:`CLIP_LAYOUTS`).

    Raises:
        ValueError: no clip layout has that many joints (the message lists the known ones).
    """
    if num_joints not in _CLIP_LAYOUT_OF:
        known = ", ".join(f"{v} ({layout.name})" for v, layout in sorted(_CLIP_LAYOUT_OF.items()))
        raise ValueError(f"no skeleton layout with {num_joints} joints; known layouts: {known}")
    return _CLIP_LAYOUT_OF[num_joints]
