"""Semantic names of VST codes: body-part kinematics to words, deterministic given the weights."""

from __future__ import annotations

import torch
from vst_synthetic_motions import standing_pose

from lvlm_var.skeleton_layout import KINECT_V1_LAYOUT, KINECT_V2_LAYOUT
from lvlm_var.vst import VSTConfig, VSTTokenizer, describe_pose_motion, name_codes

CONFIG = VSTConfig.tiny()


def _velocity(**joint_velocities: tuple[float, float, float]) -> torch.Tensor:
    velocity = torch.zeros(KINECT_V2_LAYOUT.num_joints, 3)
    for joint, value in joint_velocities.items():
        velocity[KINECT_V2_LAYOUT.index(joint)] = torch.tensor(value)
    return velocity


HAND = ("wrist", "hand", "hand_tip", "thumb")


def test_the_fastest_part_its_direction_and_speed_are_named() -> None:
    pose = standing_pose()
    rising = _velocity(**{f"right_{j}": (0.0, 2.0, 0.0) for j in HAND})
    assert describe_pose_motion(pose, rising, KINECT_V2_LAYOUT, CONFIG) == "right hand rises fast"
    slow = _velocity(**{f"left_{j}": (0.0, -0.15, 0.0) for j in HAND})
    assert describe_pose_motion(pose, slow, KINECT_V2_LAYOUT, CONFIG) == "left hand lowers slowly"
    kick = _velocity(right_knee=(0.0, 0.3, -0.6), right_ankle=(0.0, 0.3, -0.8), right_foot=(0.0, 0.3, -0.8))
    assert describe_pose_motion(pose, kick, KINECT_V2_LAYOUT, CONFIG) == "right leg moves forward"


def test_both_sides_secondary_parts_and_whole_body() -> None:
    pose = standing_pose()
    both = _velocity(**{f"{s}_{j}": (0.0, 0.5, 0.0) for s in ("left", "right") for j in HAND})
    assert describe_pose_motion(pose, both, KINECT_V2_LAYOUT, CONFIG) == "both hands rise"
    with_foot = _velocity(
        **{f"right_{j}": (0.0, 0.5, 0.0) for j in HAND},
        left_ankle=(0.0, 0.0, -0.4),
        left_foot=(0.0, 0.0, -0.4),
    )
    assert (
        describe_pose_motion(pose, with_foot, KINECT_V2_LAYOUT, CONFIG)
        == "right hand rises and left foot moves forward"
    )
    everything = torch.full((KINECT_V2_LAYOUT.num_joints, 3), 0.0)
    everything[:, 2] = 0.5
    assert describe_pose_motion(pose, everything, KINECT_V2_LAYOUT, CONFIG) == "whole body moves back"


def test_postures_of_a_still_body() -> None:
    still = torch.zeros(KINECT_V2_LAYOUT.num_joints, 3)
    assert describe_pose_motion(standing_pose(), still, KINECT_V2_LAYOUT, CONFIG) == "stands still"
    sitting = standing_pose()
    upper = [
        i
        for i, name in enumerate(KINECT_V2_LAYOUT.joint_names)
        if not any(p in name for p in ("knee", "ankle", "foot"))
    ]
    sitting[upper, 1] -= 0.42
    for side in ("left", "right"):
        sitting[KINECT_V2_LAYOUT.index(f"{side}_knee"), 2] -= 0.4
        sitting[KINECT_V2_LAYOUT.index(f"{side}_knee"), 1] = sitting[KINECT_V2_LAYOUT.index(f"{side}_hip"), 1]
    assert describe_pose_motion(sitting, still, KINECT_V2_LAYOUT, CONFIG) == "sits still"
    raised = standing_pose()
    for j in HAND:
        raised[KINECT_V2_LAYOUT.index(f"right_{j}"), 1] += 0.9
    assert describe_pose_motion(raised, still, KINECT_V2_LAYOUT, CONFIG) == "stands still, right arm raised"


def test_kinect_v1_layout_is_named_with_the_same_parts() -> None:
    pose = standing_pose()[[KINECT_V2_LAYOUT.index(name) for name in KINECT_V1_LAYOUT.joint_names]]
    velocity = torch.zeros(KINECT_V1_LAYOUT.num_joints, 3)
    velocity[KINECT_V1_LAYOUT.index("head")] = torch.tensor([0.0, -0.15, 0.0])
    assert describe_pose_motion(pose, velocity, KINECT_V1_LAYOUT, CONFIG) == "head lowers slowly"


def test_code_names_are_deterministic_given_the_weights() -> None:
    torch.manual_seed(0)
    module = VSTTokenizer(VSTConfig.tiny(num_joints=20, num_bodies=1))
    module(torch.randn(8, 3, 16, 20, 1))  # k-means initialises the codebook
    first = name_codes(module.quantizer, module.decoder, module.config)
    assert len(first) == module.config.codebook_size and all(first)
    assert name_codes(module.quantizer, module.decoder, module.config) == first
    assert module.refresh_code_names() == first == module.code_names
