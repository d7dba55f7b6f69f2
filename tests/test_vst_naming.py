"""Semantic names of VST codes: measured on the input clips, calibrated to the data, true about them."""

from __future__ import annotations

import math

import torch
from vst_synthetic_motions import standing_pose, synthetic_clips

from lvlm_var.skeleton_layout import KINECT_V1_LAYOUT
from lvlm_var.skeleton_layout import KINECT_V2_LAYOUT as NTU_LAYOUT
from lvlm_var.vst import (
    ActionNarrative,
    CodeName,
    CodeStatistics,
    SpeedThresholds,
    VSTConfig,
    VSTTokenizer,
    merge_token_runs,
    name_accuracy,
    name_codes,
    step_kinematics,
)
from lvlm_var.vst.kinematics import segment_motion
from lvlm_var.vst.naming import UNSEEN
from lvlm_var.vst.narrative import token_runs

THRESHOLDS = SpeedThresholds(still=0.1, slow=0.5, fast=2.0)
FPS = 30.0


def _still_clip(frames: int = 16, layout=NTU_LAYOUT) -> torch.Tensor:
    """``(T, V, 3)`` the standing pose held still (in the layout's joints)."""
    pose = standing_pose()[[NTU_LAYOUT.index(name) for name in layout.joint_names]]
    return pose.repeat(frames, 1, 1)


def _move(clip: torch.Tensor, joints: list[str], per_frame: tuple[float, float, float], layout=NTU_LAYOUT):
    """Move ``joints`` of ``clip`` by ``per_frame`` every frame (a constant velocity)."""
    steps = torch.arange(len(clip), dtype=clip.dtype)[:, None] * torch.tensor(per_frame)
    for joint in joints:
        clip[:, layout.index(joint)] += steps
    return clip


def _as_batch(*clips: torch.Tensor) -> torch.Tensor:
    """``(T, V, 3)`` clips -> ``(B, 3, T, V, 2)`` with the second body absent."""
    skeleton = torch.zeros(len(clips), 3, clips[0].shape[0], clips[0].shape[1], 2)
    for row, clip in enumerate(clips):
        skeleton[row, :, :, :, 0] = clip.permute(2, 0, 1)
    return skeleton


RIGHT_HAND = ["right_wrist", "right_hand", "right_hand_tip", "right_thumb"]


def _name(clip: torch.Tensor, layout=NTU_LAYOUT) -> CodeName:
    """The name of a code assigned every step of ``clip`` (16 frames, 4 steps), at fixed thresholds."""
    config = VSTConfig.tiny(num_joints=layout.num_joints)
    statistics = CodeStatistics(config)
    statistics.accumulate(_as_batch(clip), torch.zeros(1, config.num_steps, dtype=torch.long))
    return name_codes(statistics, torch.randn(config.codebook_size, config.token_dim), THRESHOLDS)[0]


def test_the_fastest_part_its_direction_and_speed_are_named() -> None:
    # Torso length 0.45 m; 0.03 m per frame at 30 fps is 2 torso lengths per second.
    rising = _name(_move(_still_clip(), RIGHT_HAND, (0.0, 0.04, 0.0)))
    assert rising == CodeName("right hand rises fast", "right hand", ("right arm",), "up")
    slow = _name(
        _move(_still_clip(), [f"left_{j}" for j in ("wrist", "hand", "hand_tip", "thumb")], (-0.005, 0, 0))
    )
    assert slow.text == "left hand moves left slowly"
    kick = _name(_move(_still_clip(), ["right_knee", "right_ankle", "right_foot"], (0.0, 0.004, -0.012)))
    assert kick.text == "right leg moves forward" and kick.groups == ("right leg",)
    assert _name(_still_clip()).text == "stands still"


def test_hand_positions_and_to_and_fro() -> None:
    raised = _still_clip()
    raised[:, [NTU_LAYOUT.index(j) for j in RIGHT_HAND]] += torch.tensor([0.0, 0.9, 0.0])
    assert _name(raised).text == "stands still, right hand above head"
    waving = raised.clone()
    phase = torch.cos(torch.arange(len(waving)) * 2 * math.pi / 8)[:, None] * 0.1
    for joint in RIGHT_HAND:
        waving[:, NTU_LAYOUT.index(joint), 0] += phase[:, 0]
    name = _name(waving)  # steps of half a period: the hand goes left, then right
    assert name.text == "right hand moves side to side fast, right hand above head"
    assert name.direction == "side to side"
    together = _still_clip()
    for side in ("left", "right"):
        for joint in ("wrist", "hand", "hand_tip", "thumb"):
            together[:, NTU_LAYOUT.index(f"{side}_{joint}")] = torch.tensor([0.0, 0.3, -0.3])
    assert _name(together).text == "stands still, hands together, both hands at chest"


def test_kinect_v1_layout_is_named_with_the_same_parts() -> None:
    clip = _move(_still_clip(layout=KINECT_V1_LAYOUT), ["head"], (0.0, -0.003, 0.0), KINECT_V1_LAYOUT)
    assert _name(clip, KINECT_V1_LAYOUT).text == "head lowers slowly"


def _statistics(skeleton: torch.Tensor, config: VSTConfig, codes: torch.Tensor) -> CodeStatistics:
    statistics = CodeStatistics(config)
    statistics.accumulate(skeleton, codes)
    return statistics


def test_calibration_reads_metres_millimetres_and_frame_rates_alike() -> None:
    config = VSTConfig.tiny()
    clips = synthetic_clips(16, frames=config.num_frames, seed=3)["skeleton"]
    codes = torch.arange(16 * config.num_steps).reshape(16, config.num_steps) % config.codebook_size
    metres = _statistics(clips, config, codes)
    millimetres = _statistics(clips * 1000.0, config, codes)
    assert torch.allclose(
        torch.tensor(metres.thresholds()), torch.tensor(millimetres.thresholds()), rtol=0.06
    )  # within one histogram bin
    codebook = torch.randn(config.codebook_size, config.token_dim)
    assert name_codes(metres, codebook) == name_codes(millimetres, codebook)
    # The same clips said to be filmed at 60 fps move twice as fast; the calibrated names do not change.
    fast = _statistics(clips, VSTConfig.preset("tiny", frame_rate=60.0), codes)
    assert fast.thresholds().slow > 1.8 * metres.thresholds().slow
    assert [n.text for n in name_codes(fast, codebook)] == [n.text for n in name_codes(metres, codebook)]


def test_kinect_v1_bodies_are_calibrated_and_named() -> None:
    config = VSTConfig.tiny(num_joints=20, num_bodies=1)
    ntu = synthetic_clips(8, frames=config.num_frames, seed=4)["skeleton"][..., :1]
    kinect_v1 = ntu[:, :, :, [NTU_LAYOUT.index(name) for name in KINECT_V1_LAYOUT.joint_names]]
    codes = torch.randint(
        0, config.codebook_size, (8, config.num_steps), generator=torch.Generator().manual_seed(0)
    )
    names = name_codes(
        _statistics(kinect_v1, config, codes), torch.randn(config.codebook_size, config.token_dim)
    )
    assert len(names) == config.codebook_size and all(name.text for name in names)


def test_unseen_codes_take_their_nearest_seen_codes_name() -> None:
    config = VSTConfig.tiny()
    clips = synthetic_clips(4, frames=config.num_frames, seed=5)["skeleton"]
    codes = torch.zeros(4, config.num_steps, dtype=torch.long)
    codes[:, 2:] = 1
    codebook = torch.randn(config.codebook_size, config.token_dim)
    codebook[5] = codebook[1] + 1e-3  # code 5 is never assigned and lies next to code 1
    names = name_codes(_statistics(clips, config, codes), codebook)
    assert names[5] == names[1]
    assert name_codes(CodeStatistics(config), codebook)[0].text == "not seen in training"


def test_name_accuracy_on_a_clip_whose_moving_part_is_known() -> None:
    # Steps 0-1: the right hand rises; steps 2-3: the left foot moves forward (4 frames per step).
    clip = _still_clip(16)
    t = torch.arange(16.0)
    for joint in RIGHT_HAND:
        clip[:, NTU_LAYOUT.index(joint), 1] += 0.02 * t.clamp(max=8)
    for joint in ("left_ankle", "left_foot"):
        clip[:, NTU_LAYOUT.index(joint), 2] -= 0.02 * (t - 8).clamp(min=0)
    steps = step_kinematics(_as_batch(clip), NTU_LAYOUT, frames_per_step=4, frame_rate=FPS)
    names = [
        CodeName("right hand rises", "right hand", ("right arm",), "up"),
        CodeName("left foot moves forward", "left foot", ("left leg",), "forward"),
        CodeName("right hand lowers", "right hand", ("right arm",), "down"),
        CodeName("head rises", "head", ("head",), "up"),
        CodeName("stands still"),
    ]

    def accuracy(codes: list[int]):
        narrative = merge_token_runs(codes, [n.text for n in names], 4 / FPS)
        return name_accuracy([narrative], names, steps, THRESHOLDS)

    assert accuracy([0, 0, 1, 1]) == (2, 2, 2)  # part and direction right in both segments
    assert accuracy([2, 2, 1, 1]) == (2, 1, 2)  # right part, wrong direction in the first
    assert accuracy([3, 3, 4, 4]) == (0, 0, 2)  # wrong part; "still" while the foot moves
    assert name_accuracy([ActionNarrative(())], names, steps, THRESHOLDS) == (0, 0, 0)


def test_a_tokenizer_shown_its_clips_names_its_codes_and_keeps_the_calibration() -> None:
    # Any training loop that embeds the tokenizer gets the names: observe each step, calibrate each epoch.
    torch.manual_seed(0)
    config = VSTConfig.tiny()
    tokenizer = VSTTokenizer(config)
    rising = _move(_still_clip(config.num_frames), RIGHT_HAND, (0.0, 0.04, 0.0))
    skeleton = _as_batch(rising, rising.clone())
    assert set(tokenizer.code_names) == {UNSEEN}
    codes = tokenizer(skeleton).codes  # training mode: k-means initialises the codebook
    tokenizer.observe(skeleton, codes)
    names = tokenizer.calibrate()
    assert all(names[c].startswith("right hand rises") for c in codes.flatten().tolist())
    copy = VSTTokenizer(config)
    copy.load_state_dict(tokenizer.state_dict())
    assert copy.code_calibration.seen and copy.code_name_records == tokenizer.code_name_records
    assert copy.refresh_code_names() == names  # recomputed from the loaded calibration, not just stored
    tokenizer.reset_statistics()
    assert tokenizer.calibrate() == names  # an epoch that observed nothing keeps the calibration


LEFT_HAND = [joint.replace("right", "left") for joint in RIGHT_HAND]


def _name_of_segments(*clips: torch.Tensor) -> tuple[CodeName, torch.Tensor]:
    """The name of a code assigned every step of every clip (one narrative segment each), and the batch."""
    config = VSTConfig.tiny()
    skeleton = _as_batch(*clips)
    statistics = _statistics(skeleton, config, torch.zeros(len(clips), config.num_steps, dtype=torch.long))
    codebook = torch.randn(config.codebook_size, config.token_dim)
    return name_codes(statistics, codebook, THRESHOLDS)[0], skeleton


def _accuracy_of(name: CodeName, skeleton: torch.Tensor) -> tuple[int, int, int]:
    """Name accuracy of ``name`` over the one-segment narratives of the clips of ``skeleton``."""
    steps = step_kinematics(skeleton, NTU_LAYOUT, frames_per_step=4, frame_rate=FPS)
    narratives = [merge_token_runs([0] * 4, [name.text], 4 / FPS) for _ in range(len(skeleton))]
    return tuple(name_accuracy(narratives, [name], steps, THRESHOLDS))


def test_a_code_whose_segments_agree_on_no_moving_part_barely_moves() -> None:
    # Four segments, each a different part moving slowly (0.3 torso lengths / s, below `slow`): the mean
    # kinematics would pick one of them; no part is the fastest in most segments, and all are slow.
    per_frame = 0.3 * 0.45 / FPS
    clips = [
        _move(_still_clip(), RIGHT_HAND, (0.0, per_frame, 0.0)),
        _move(_still_clip(), LEFT_HAND, (0.0, 0.0, -per_frame)),
        _move(_still_clip(), ["head"], (-per_frame, 0.0, 0.0)),
        _move(_still_clip(), ["right_ankle", "right_foot"], (0.0, 0.0, per_frame)),
    ]
    name, skeleton = _name_of_segments(*clips)
    assert name == CodeName("barely moves")
    assert _accuracy_of(name, skeleton) == (4, 4, 4)


def test_a_code_of_both_hands_going_opposite_ways_names_both() -> None:
    # Clapping: the hands move towards each other, one or the other a little faster in each segment.
    def clap(right: float, left: float) -> torch.Tensor:
        return _move(_move(_still_clip(), RIGHT_HAND, (-right, 0.0, 0.0)), LEFT_HAND, (left, 0.0, 0.0))

    name, skeleton = _name_of_segments(clap(0.02, 0.015), clap(0.015, 0.02))
    assert name.groups == ("left arm", "right arm")
    assert "right hand moves left" in name.text and "left hand moves right" in name.text
    assert _accuracy_of(name, skeleton) == (2, 2, 2)


def test_the_direction_is_that_of_most_segments_not_of_the_mean() -> None:
    # Three segments rise slowly, one moves forward fast: the mean velocity points forward, the segments
    # mostly up.
    rise, push = 0.6 * 0.45 / FPS, 4.0 * 0.45 / FPS
    clips = [_move(_still_clip(), RIGHT_HAND, (0.0, rise, 0.0)) for _ in range(3)]
    clips.append(_move(_still_clip(), RIGHT_HAND, (0.0, 0.0, -push)))
    name, skeleton = _name_of_segments(*clips)
    assert (name.part, name.direction) == ("right hand", "up")
    assert _accuracy_of(name, skeleton) == (4, 3, 4)


def test_a_calibration_saved_before_segment_votes_is_named_from_its_means() -> None:
    config = VSTConfig.tiny()
    rising = _as_batch(_move(_still_clip(), RIGHT_HAND, (0.0, 0.04, 0.0)))
    state = _statistics(rising, config, torch.zeros(1, config.num_steps, dtype=torch.long)).state_dict()
    older = CodeStatistics(config)
    older.load_state_dict({key: value for key, value in state.items() if not key.startswith("segments.")})
    assert older.segments.count.sum() == 0
    names = name_codes(older, torch.randn(config.codebook_size, config.token_dim), THRESHOLDS)
    assert names[0] == CodeName("right hand rises fast", "right hand", ("right arm",), "up")


def test_segment_votes_count_the_runs_after_flicker_absorption() -> None:
    config = VSTConfig.tiny()  # 4 steps, min_run 2
    clip = _as_batch(_move(_still_clip(), RIGHT_HAND, (0.0, 0.04, 0.0)))
    assert token_runs([3, 3, 5, 3], config.min_run) == [(3, 0, 4)]
    statistics = _statistics(clip, config, torch.tensor([[3, 3, 5, 3]]))
    assert statistics.segments.count[3] == 1 and statistics.segments.count[5] == 0
    assert statistics.counts[5] == 1  # the step statistics still see the flicker step's own code
    steps = step_kinematics(clip, NTU_LAYOUT, frames_per_step=4, frame_rate=FPS)
    speed, velocity = segment_motion(steps, 0, 1, 2)
    assert torch.allclose(velocity, steps.velocity[0, 1:3].mean(0)) and speed.shape == (len(velocity),)
    absent = steps._replace(present=torch.zeros_like(steps.present))
    assert segment_motion(absent, 0, 0, 4) is None
