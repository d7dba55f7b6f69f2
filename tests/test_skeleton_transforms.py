"""Skeleton view normalisation, augmentation and segment-based frame sampling."""

from __future__ import annotations

import numpy as np
import pytest

from datamodules.frame_sampling import random_frame_indices, uniform_frame_indices
from datamodules.skeleton_transforms import (
    SkeletonAugmentation,
    canonical_view_rotation,
    drop_empty_frames,
    fit_bodies,
    normalize_view,
)
from lvlm_var.skeleton_layout import KINECT_V1_LAYOUT, KINECT_V2_LAYOUT


def _upright_body(layout, num_joints):
    """A body in the canonical pose: spine along +y, shoulders along +x, all other joints off-axis."""
    body = np.random.default_rng(0).normal(scale=0.1, size=(num_joints, 3))
    body[layout.root] = [0.0, 0.0, 0.0]
    body[layout.spine_top] = [0.0, 0.5, 0.0]
    body[layout.left_shoulder] = [-0.2, 0.45, 0.0]
    body[layout.right_shoulder] = [0.2, 0.45, 0.0]
    return body


def _rotation_about(axis, angle):
    axis = np.asarray(axis, dtype=np.float64) / np.linalg.norm(axis)
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + np.sin(angle) * k + (1 - np.cos(angle)) * k @ k


@pytest.mark.parametrize(
    "layout", [KINECT_V2_LAYOUT, KINECT_V1_LAYOUT], ids=lambda layout: str(layout.num_joints)
)
def test_normalize_view_undoes_a_known_rotation_and_translation(layout):
    canonical = _upright_body(layout, layout.num_joints)
    turn = _rotation_about([0.3, 1.0, -0.4], 1.1)
    offset = np.array([1.5, -0.3, 3.2])
    frames = np.stack([canonical, canonical + [0.1, 0.0, 0.0]])  # the person steps along +x
    clip = np.zeros((2, 2, layout.num_joints, 3), dtype=np.float32)
    clip[:, 0] = frames @ turn.T + offset
    clip[1, 1] = (canonical + [0.0, 0.0, 1.0]) @ turn.T + offset  # a second person, in frame 1 only

    normalised = normalize_view(clip, layout)

    np.testing.assert_allclose(normalised[:, 0], frames, atol=1e-5)
    np.testing.assert_allclose(normalised[1, 1], canonical + [0.0, 0.0, 1.0], atol=1e-5)
    assert np.all(normalised[0, 1] == 0), "an absent body must stay exactly zero"
    assert normalised.dtype == np.float32


def test_canonical_rotation_is_proper_and_aligns_spine_and_shoulders():
    layout = KINECT_V2_LAYOUT
    body = np.random.default_rng(3).normal(size=(25, 3))
    rotation = canonical_view_rotation(body[None, None], layout)
    np.testing.assert_allclose(rotation @ rotation.T, np.eye(3), atol=1e-9)
    assert np.linalg.det(rotation) == pytest.approx(1.0)
    spine = rotation @ (body[layout.spine_top] - body[layout.root])
    shoulders = rotation @ (body[layout.right_shoulder] - body[layout.left_shoulder])
    assert spine[0] == pytest.approx(0, abs=1e-9) and spine[2] == pytest.approx(0, abs=1e-9) and spine[1] > 0
    assert shoulders[2] == pytest.approx(0, abs=1e-9) and shoulders[0] > 0


def test_degenerate_poses_give_the_identity():
    assert np.array_equal(canonical_view_rotation(np.zeros((1, 2, 25, 3)), KINECT_V2_LAYOUT), np.eye(3))
    collapsed = np.ones((1, 1, 25, 3))
    assert np.array_equal(canonical_view_rotation(collapsed, KINECT_V2_LAYOUT), np.eye(3))


def test_drop_empty_frames_and_fit_bodies():
    clip = np.zeros((4, 1, 20, 3), dtype=np.float32)
    clip[1, 0, 3] = 1.0
    clip[3, 0, 0] = 2.0
    kept = drop_empty_frames(clip)
    assert kept.shape == (2, 1, 20, 3) and kept[0, 0, 3, 0] == 1.0
    padded = fit_bodies(kept, 2)
    assert padded.shape == (2, 2, 20, 3) and np.all(padded[:, 1] == 0)
    assert fit_bodies(np.ones((2, 3, 20, 3)), 2).shape == (2, 2, 20, 3)


def test_augmentation_keeps_absent_bodies_zero_and_bounds_the_change():
    rng = np.random.default_rng(0)
    clip = np.zeros((3, 2, 25, 3), dtype=np.float32)
    clip[:, 0] = rng.normal(size=(3, 25, 3))
    augmented = SkeletonAugmentation(max_rotation_degrees=10.0, min_scale=0.9, max_scale=1.1)(clip, rng)
    assert np.all(augmented[:, 1] == 0)
    ratio = np.linalg.norm(augmented[:, 0], axis=-1) / np.linalg.norm(clip[:, 0], axis=-1)
    assert (
        np.allclose(ratio, ratio.flat[0], atol=1e-5) and 0.9 <= ratio.flat[0] <= 1.1
    )  # rotation keeps norms
    assert not np.allclose(augmented, clip)
    identity = SkeletonAugmentation(max_rotation_degrees=0.0, min_scale=1.0, max_scale=1.0)(clip, rng)
    np.testing.assert_allclose(identity, clip, atol=1e-6)
    with pytest.raises(ValueError, match="need 0 < min_scale <= max_scale"):
        SkeletonAugmentation(min_scale=1.2, max_scale=1.1)


def test_uniform_sampling_takes_segment_middles_and_is_deterministic():
    np.testing.assert_array_equal(uniform_frame_indices(10, 5), [1, 3, 5, 7, 9])
    np.testing.assert_array_equal(uniform_frame_indices(100, 4), [12, 37, 62, 87])
    np.testing.assert_array_equal(uniform_frame_indices(1, 4), [0, 0, 0, 0])
    np.testing.assert_array_equal(uniform_frame_indices(3, 6), [0, 0, 1, 1, 2, 2])


def test_random_sampling_draws_one_frame_per_segment_and_covers_each_segment():
    rng = np.random.default_rng(0)
    draws = np.stack([random_frame_indices(100, 4, rng) for _ in range(400)])
    segment = np.arange(4) * 25
    assert np.all((draws >= segment) & (draws < segment + 25))
    assert all(len(np.unique(draws[:, s])) == 25 for s in range(4)), "every frame of a segment can be drawn"
    short = np.stack([random_frame_indices(2, 5, rng) for _ in range(50)])
    assert np.all(np.diff(short, axis=1) >= 0) and set(np.unique(short)) == {0, 1}
    np.testing.assert_array_equal(random_frame_indices(1, 3, rng), [0, 0, 0])
    with pytest.raises(ValueError, match="from a sequence of 0 frames"):
        random_frame_indices(0, 3, rng)
