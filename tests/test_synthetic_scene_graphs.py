"""The synthetic scene-graph generator: real layouts read by the real readers, truth that matches them."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from datamodules.formats.action_genome import read_action_genome
from datamodules.formats.box_features import box_feature_path, read_box_features
from datamodules.formats.charades import read_charades_classes, read_charades_csv
from datamodules.formats.class_names import (
    AG_CONTACTING_RELATIONSHIPS,
    AG_OBJECT_CLASSES,
    AG_RELATIONSHIP_CLASSES,
)
from datamodules.synthetic.scene_graphs import (
    SYNTHETIC_ACTIONS,
    SyntheticSceneGraphConfig,
    read_synthetic_truth,
    write_synthetic_scene_graphs,
)

NUM_VIDEOS = 24


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_synthetic_scene_graphs(
        tmp_path_factory.mktemp("synthetic"), seed=3, num_videos=NUM_VIDEOS, feature_dim=8
    )


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        write_synthetic_scene_graphs(tmp_path / name, seed=seed, num_videos=6, feature_dim=4)
    first, second, other = (_files(tmp_path / n) for n in "abc")
    assert len(first) == 6 + 5 + 1 + 3  # feature files, annotation files, truth, charades files
    assert first == second
    assert first.keys() != other.keys() or first != other


def test_layout_is_the_real_one(generated: dict[str, Path]) -> None:
    root = generated["annotations"].parents[1]
    assert generated["annotations"] == root / "action_genome" / "annotations"
    assert generated["charades_train"] == root / "charades" / "Charades_v1_train.csv"
    for name in (
        "object_classes.txt",
        "relationship_classes.txt",
        "person_bbox.pkl",
        "object_bbox_and_relationship.pkl",
        "frame_list.txt",
    ):
        assert (generated["annotations"] / name).is_file()
    assert (generated["annotations"] / "object_classes.txt").read_text().split("\n")[8] == "closetcabinet "


def test_readers_agree_with_each_other(generated: dict[str, Path]) -> None:
    annotations = read_action_genome(generated["annotations"])
    classes = read_charades_classes(generated["charades_classes"])
    assert [c.code for c in classes] == sorted(a.code for a in SYNTHETIC_ACTIONS)
    train = read_charades_csv(generated["charades_train"], classes)
    test = read_charades_csv(generated["charades_test"], classes)
    assert train and test and len(train) + len(test) == NUM_VIDEOS == len(annotations.videos)
    assert {v.id for v in train} == set(annotations.video_ids("train"))
    assert {v.id for v in test} == set(annotations.video_ids("test"))
    for video_id, frames in annotations.videos.items():
        features = read_box_features(box_feature_path(generated["features"], video_id))
        assert features.frames == [f.key for f in frames]
        assert features.feature_dim == 8
        for t, frame in enumerate(frames):
            visible = [o.class_index for o in frame.objects if o.visible]
            row = features.object_class[t]
            assert row[: len(visible)].tolist() == visible and (row[len(visible) :] == -1).all()
            assert not features.union_feature[t, len(visible) :].any()


def test_videos_look_like_action_genome(generated: dict[str, Path]) -> None:
    annotations = read_action_genome(generated["annotations"])
    config = SyntheticSceneGraphConfig()
    for video_id, frames in annotations.videos.items():
        assert re.fullmatch(r"[0-9A-Z]{5}", video_id)
        assert config.frames_per_video[0] <= len(frames) <= config.frames_per_video[1]
        numbers = [f.frame_index for f in frames]
        assert all(re.fullmatch(rf"{video_id}\.mp4/\d{{6}}\.png", f.key) for f in frames)
        assert all(b - a >= 4 for a, b in zip(numbers, numbers[1:], strict=False))  # sampled, not contiguous
        classes = [o.class_index for o in frames[0].objects]
        assert config.objects_per_frame[0] <= len(classes) <= config.objects_per_frame[1]
        assert len(set(classes)) == len(classes) and AG_OBJECT_CLASSES.index("person") not in classes
        for frame in frames:
            assert [o.class_index for o in frame.objects] == classes
            width, height = frame.frame_size
            for box in [frame.person_box] + [o.box_xyxy for o in frame.objects if o.visible]:
                x1, y1, x2, y2 = box
                assert 0 <= x1 < x2 <= width and 0 <= y1 < y2 <= height
            for obj in frame.objects:
                categories = [AG_RELATIONSHIP_CLASSES[i] for i in obj.relation_indices]
                assert len(categories) == (3 if obj.visible else 0)


def _contacting(obj) -> str:
    (name,) = [
        AG_RELATIONSHIP_CLASSES[i]
        for i in obj.relation_indices
        if AG_RELATIONSHIP_CLASSES[i] in AG_CONTACTING_RELATIONSHIPS
    ]
    return name


def test_truth_matches_the_annotations_and_labels(generated: dict[str, Path]) -> None:
    annotations = read_action_genome(generated["annotations"])
    truth = read_synthetic_truth(generated["truth"])
    classes = read_charades_classes(generated["charades_classes"])
    videos = read_charades_csv(generated["charades_train"], classes) + read_charades_csv(
        generated["charades_test"], classes
    )
    assert truth.keys() == annotations.videos.keys()
    definitions = {a.code: a for a in SYNTHETIC_ACTIONS}
    for video in videos:
        frames = annotations.videos[video.id]
        transitions = truth[video.id]
        config = SyntheticSceneGraphConfig()
        assert config.actions_per_video[0] <= len(transitions) <= config.actions_per_video[1]
        assert [a.class_id for a in video.actions] == [t.action for t in transitions]
        for action, transition in zip(video.actions, transitions, strict=True):
            definition = definitions[transition.action]
            assert transition.object in definition.objects
            assert (transition.relation_before, transition.relation_after) == (
                definition.relation_before,
                definition.relation_after,
            )
            assert frames[transition.change_step].key == transition.change_frame
            assert 0 < transition.change_step < len(frames)
            cls = AG_OBJECT_CLASSES.index(transition.object)
            states = [_contacting(next(o for o in f.objects if o.class_index == cls)) for f in frames]
            step = transition.change_step
            assert states == [transition.relation_before] * step + [transition.relation_after] * (
                len(frames) - step
            )
            assert action.start < action.end <= video.length


def test_noisy_set_keeps_the_defining_transition_under_annotation_noise(tmp_path: Path) -> None:
    config = SyntheticSceneGraphConfig.ag_noisy()
    assert config.noisy and not SyntheticSceneGraphConfig().noisy
    paths = write_synthetic_scene_graphs(tmp_path, seed=3, num_videos=40, feature_dim=8, config=config)
    annotations = read_action_genome(paths["annotations"])
    truth = read_synthetic_truth(paths["truth"])
    defining = {(o, a.relation_before, a.relation_after) for a in SYNTHETIC_ACTIONS for o in a.objects}
    missed = spatial_changes = distractor_changes = overlapping = 0
    for video_id, transitions in truth.items():
        frames = annotations.videos[video_id]
        steps = [t.change_step for t in transitions]
        overlapping += len(steps) > 1 and max(steps) - min(steps) <= config.overlap_steps
        action_objects = {AG_OBJECT_CLASSES.index(t.object): t for t in transitions}
        for cls in {o.class_index for f in frames for o in f.objects}:
            track = [next(o for o in f.objects if o.class_index == cls) for f in frames]
            states = [_contacting(o) if o.visible else None for o in track]
            spatial = {o.relation_indices[1] for o in track if o.visible}
            spatial_changes += len(spatial) > 1
            transition = action_objects.get(cls)
            if transition is None:
                seen = [s for s in states if s is not None]
                changes = {(a, b) for a, b in zip(seen, seen[1:], strict=False) if a != b}
                assert all((AG_OBJECT_CLASSES[cls], a, b) not in defining for a, b in changes)
                distractor_changes += bool(changes)
                continue
            step, width = transition.change_step, config.contact_boundary_frames
            missed += states.count(None)
            assert states[step - 1] is not None and states[step] is not None  # the change stays observable
            for t, state in enumerate(states):
                if state is not None and not step - width <= t < step + width:
                    assert state == (transition.relation_before if t < step else transition.relation_after)
    assert min(missed, spatial_changes, distractor_changes, overlapping) > 0


def test_presence_does_not_give_the_action_away() -> None:
    by_object: dict[str, set[tuple[str, str]]] = {}
    for action in SYNTHETIC_ACTIONS:
        for obj in action.objects:
            by_object.setdefault(obj, set()).add((action.relation_before, action.relation_after))
    for obj, transitions in by_object.items():
        assert len(transitions) >= 2, f"{obj} is used by one transition only"
    reversed_pairs = [t for ts in by_object.values() for t in ts if t[::-1] in ts]
    assert len(reversed_pairs) >= 8


def test_features_carry_the_relation_only_through_noise(generated: dict[str, Path]) -> None:
    annotations = read_action_genome(generated["annotations"])
    video_id = annotations.video_ids()[0]
    features = read_box_features(box_feature_path(generated["features"], video_id))
    slot = features.object_class[:, 0]
    first = features.object_feature[slot == slot[0], 0]
    assert first.shape[0] >= 2 and not np.allclose(first[0], first[1])  # noisy: never the same vector twice


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"frames_per_video": (9, 8)},
            r"frames_per_video must be an inclusive range \(5 <= min <= max\), got \(9, 8\)",
        ),
        ({"objects_per_frame": (0, 3)}, r"objects_per_frame must be an inclusive range"),
        (
            {"objects_per_frame": (1, 3), "actions_per_video": (2, 3)},
            r"actions_per_video min 2 exceeds objects_per_frame min 1",
        ),
        ({"test_fraction": 1.0}, r"test_fraction must be in \(0, 1\), got 1.0"),
        ({"feature_noise": -1.0}, r"feature_noise and nuisance_scale must be >= 0, got -1.0, 0.25"),
    ],
)
def test_config_is_checked(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SyntheticSceneGraphConfig(**kwargs)


def test_writer_arguments_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"num_videos must be >= 2 \(a train and a test video\), got 1"):
        write_synthetic_scene_graphs(tmp_path, num_videos=1)
    with pytest.raises(ValueError, match=r"feature_dim must be >= 1, got 0"):
        write_synthetic_scene_graphs(tmp_path, feature_dim=0)


def test_rerun_replaces_stale_feature_files(tmp_path: Path) -> None:
    first = write_synthetic_scene_graphs(tmp_path, seed=1, num_videos=4, feature_dim=4)
    write_synthetic_scene_graphs(tmp_path, seed=2, num_videos=4, feature_dim=4)
    annotations = read_action_genome(first["annotations"])
    assert sorted(p.stem for p in first["features"].glob("*.npz")) == annotations.video_ids()


def test_reading_the_relation_changes_recovers_exactly_the_labels(generated: dict[str, Path]) -> None:
    """What the language branch can do: the labels follow from the names alone, distractors never change."""
    annotations = read_action_genome(generated["annotations"])
    classes = read_charades_classes(generated["charades_classes"])
    videos = read_charades_csv(generated["charades_train"], classes) + read_charades_csv(
        generated["charades_test"], classes
    )
    for video in videos:
        frames = annotations.videos[video.id]
        changes = set()
        for k, first in enumerate(frames[0].objects):
            states = [_contacting(frame.objects[k]) for frame in frames if frame.objects[k].visible]
            for before, after in zip(states, states[1:], strict=False):
                if before != after:
                    changes.add((AG_OBJECT_CLASSES[first.class_index], before, after))
        recognised = {
            a.code
            for a in SYNTHETIC_ACTIONS
            if any((o, a.relation_before, a.relation_after) in changes for o in a.objects)
        }
        assert recognised == {a.class_id for a in video.actions}
