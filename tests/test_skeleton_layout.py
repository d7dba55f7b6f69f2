"""Skeleton layouts: trees over the documented joints, chosen by joint count, shared names, light import."""

from __future__ import annotations

import subprocess
import sys

import pytest

from lvlm_var.skeleton_layout import (
    CAD120_LAYOUT,
    CLIP_LAYOUTS,
    KINECT_V1_LAYOUT,
    KINECT_V2_LAYOUT,
    SkeletonLayout,
    layout_for_num_joints,
)

ALL_LAYOUTS = (KINECT_V2_LAYOUT, KINECT_V1_LAYOUT, CAD120_LAYOUT)


def test_clip_layouts_are_chosen_by_joint_count() -> None:
    assert CLIP_LAYOUTS == (KINECT_V2_LAYOUT, KINECT_V1_LAYOUT)
    assert layout_for_num_joints(25) is KINECT_V2_LAYOUT
    assert layout_for_num_joints(20) is KINECT_V1_LAYOUT
    with pytest.raises(ValueError, match=r"no skeleton layout with 17 joints; known layouts: 20 .*25"):
        layout_for_num_joints(17)


@pytest.mark.parametrize("layout", ALL_LAYOUTS, ids=lambda layout: layout.name)
def test_every_layout_is_one_tree_with_the_spine_and_shoulders_the_view_normalisation_uses(layout) -> None:
    assert len(layout.bones) == layout.num_joints - 1
    assert layout.parents[layout.root] == layout.root
    assert layout.parents[layout.left_shoulder] == layout.parents[layout.right_shoulder] == layout.spine_top
    assert layout.index("left_shoulder") < layout.index("right_shoulder")


def test_documented_joint_indices() -> None:
    # NTU's documentation counts from 1: 1 spine base, 21 spine shoulder, 5 / 9 shoulders, 24 right hand tip.
    v2 = KINECT_V2_LAYOUT
    assert (v2.root, v2.spine_top, v2.left_shoulder, v2.right_shoulder) == (0, 20, 4, 8)
    assert v2.index("right_hand_tip") == 23 and v2.parents[23] == v2.index("right_hand")
    # Kinect v1 (NW-UCLA): 1 hip centre, 3 shoulder centre, 5 / 9 shoulders.
    v1 = KINECT_V1_LAYOUT
    assert (v1.root, v1.spine_top, v1.left_shoulder, v1.right_shoulder) == (0, 2, 4, 8)
    # CAD-120's file order: HEAD, NECK, TORSO, ..., LEFT_HAND (11), RIGHT_HAND (12), ...
    assert CAD120_LAYOUT.joint_names[:3] == ("head", "neck", "torso")
    assert (CAD120_LAYOUT.index("left_hand"), CAD120_LAYOUT.index("right_hand")) == (11, 12)
    assert CAD120_LAYOUT.num_joints == 15


def test_kinect_v1_joints_are_kinect_v2_joints_by_name_with_the_same_bones_up_to_the_spine() -> None:
    v1, v2 = KINECT_V1_LAYOUT, KINECT_V2_LAYOUT
    assert set(v1.joint_names) <= set(v2.joint_names)
    for child, parent in v1.bones:
        name, parent_name = v1.joint_names[child], v1.joint_names[parent]
        if name != "head":  # Kinect v2 puts a neck between the shoulder centre and the head
            assert v2.joint_names[v2.parents[v2.index(name)]] == parent_name


def test_end_joints_are_the_leaves() -> None:
    names = [KINECT_V2_LAYOUT.joint_names[j] for j in KINECT_V2_LAYOUT.end_joints]
    assert names == [
        "head", "left_foot", "right_foot", "left_hand_tip", "left_thumb", "right_hand_tip", "right_thumb"
    ]
    cad120 = [CAD120_LAYOUT.joint_names[j] for j in CAD120_LAYOUT.end_joints]
    assert cad120 == ["head", "left_hand", "right_hand", "left_foot", "right_foot"]


def test_unknown_joint_names_and_broken_trees_are_refused() -> None:
    with pytest.raises(KeyError, match=r"layout openni \(CAD-120\) has no joint 'spine_base'"):
        CAD120_LAYOUT.index("spine_base")
    with pytest.raises(ValueError, match="joint 1 does not reach the root"):
        SkeletonLayout("loop", ("a", "b", "c"), (0, 2, 1), root=0, spine_top=1)
    with pytest.raises(ValueError, match="2 parents for 3 joints"):
        SkeletonLayout("short", ("a", "b", "c"), (0, 0), root=0, spine_top=1)
    with pytest.raises(ValueError, match="joint names repeat"):
        SkeletonLayout("twice", ("a", "a"), (0, 0), root=0, spine_top=1)


def test_the_layout_module_imports_neither_torch_nor_numpy() -> None:
    code = "import sys, lvlm_var.skeleton_layout; print(sorted({'torch', 'numpy'} & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
