"""ActionGenomeDataModule on synthetic Action Genome / Charades: splits, batches, join, store, bad files."""

from __future__ import annotations

import shutil
import warnings

import numpy as np
import pytest
import torch

from datamodules.formats.action_genome import read_action_genome
from datamodules.formats.box_features import read_box_features
from datamodules.formats.charades import read_charades_classes, read_charades_csv
from datamodules.formats.errors import BoxFeatureFormatError
from datamodules.scene_graph_datamodule import ActionGenomeDataModule
from datamodules.synthetic.scene_graphs import write_synthetic_scene_graphs

NUM_VIDEOS = 20
FEATURE_DIM = 8
T, K = 6, 4


@pytest.fixture(scope="session")
def synthetic_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("scene_graphs")
    write_synthetic_scene_graphs(root, seed=0, num_videos=NUM_VIDEOS, feature_dim=FEATURE_DIM)
    return root


@pytest.fixture
def data_dir(synthetic_root, tmp_path):
    """A private copy, so a test may corrupt files or build stores without touching the others."""
    return shutil.copytree(synthetic_root, tmp_path / "data")


def _module(data_dir, **kwargs):
    settings = {"frames_per_video": T, "max_pairs": K, "batch_size": 4, **kwargs}
    module = ActionGenomeDataModule(data_dir, **settings)
    module.prepare_data()
    module.setup("fit")
    return module


def _csv_ids(data_dir, split):
    return {video.id for video in read_charades_csv(data_dir / "charades" / f"Charades_v1_{split}.csv")}


def test_splits_follow_the_charades_csvs(data_dir):
    module = _module(data_dir)
    names = {
        split: {module.datasets[split][i]["video_id"] for i in range(len(module.datasets[split]))}
        for split in ("train", "val", "test")
    }
    assert names["train"] == _csv_ids(data_dir, "train") and names["test"] == _csv_ids(data_dir, "test")
    assert names["val"] == names["test"], "val_fraction=0 validates on the test split"
    assert len(names["train"]) + len(names["test"]) == NUM_VIDEOS

    held_out = _module(data_dir, val_fraction=0.25)
    train, val = (held_out.datasets[s].indices for s in ("train", "val"))
    assert len(val) == round(0.25 * len(names["train"])) and not set(train) & set(val)
    assert len(train) + len(val) == len(names["train"])
    again = _module(data_dir, val_fraction=0.25)
    np.testing.assert_array_equal(again.datasets["val"].indices, val)


def test_batches_follow_the_scene_graph_contract(data_dir):
    module = _module(data_dir)
    batch = next(iter(module.train_dataloader()))
    for key in ("subject_feature", "object_feature", "union_feature"):
        assert batch[key].shape == (4, T, K, FEATURE_DIM) and batch[key].dtype == torch.float32
    assert batch["boxes"].shape == (4, T, K, 8) and batch["boxes"].dtype == torch.float32
    assert batch["object_class"].shape == (4, T, K) and batch["object_class"].dtype == torch.int64
    assert batch["relations"].shape == (4, T, K, 26) and batch["mask"].dtype == torch.bool
    assert batch["frame_index"].shape == (4, T) and batch["labels"].shape == (4, module.num_classes)
    assert len(batch["video_id"]) == 4 and all(isinstance(v, str) for v in batch["video_id"])
    mask = batch["mask"]
    assert mask.any()
    assert torch.all(batch["union_feature"][~mask] == 0) and torch.all(batch["relations"][~mask] == 0)
    assert torch.all((batch["boxes"][mask] >= 0) & (batch["boxes"][mask] <= 1))
    assert torch.all(batch["relations"][mask].sum(-1) == 3), (
        "synthetic pairs carry attention+spatial+contacting"
    )
    assert torch.all(batch["labels"].sum(-1) >= 1)
    assert torch.all(batch["frame_index"].diff(dim=1) >= 0)


def test_a_video_is_joined_from_annotations_features_and_labels(data_dir):
    module = _module(data_dir, max_pairs=16)
    dataset = module.datasets["test"]
    sample = dataset[0]
    video_id = sample["video_id"]
    annotations = read_action_genome(data_dir / "action_genome" / "annotations")
    features = read_box_features(data_dir / "action_genome" / "features" / f"{video_id}.npz")
    classes = read_charades_classes(data_dir / "charades" / "Charades_v1_classes.txt")
    row = next(
        v
        for v in read_charades_csv(data_dir / "charades" / "Charades_v1_test.csv", classes)
        if v.id == video_id
    )
    expected_labels = np.zeros(len(classes), np.float32)
    expected_labels[[a.index for a in row.actions]] = 1
    np.testing.assert_array_equal(sample["labels"].numpy(), expected_labels)

    frames = {f.frame_index: f for f in annotations.videos[video_id]}
    keys = list(features.frames)
    for t, frame_number in enumerate(sample["frame_index"].tolist()):
        frame = frames[frame_number]
        row_t = keys.index(frame.key)
        visible = [o for o in frame.objects if o.visible]
        assert int(sample["mask"][t].sum()) == len(visible)
        width, height = frame.frame_size
        for k, obj in enumerate(visible):
            slot = list(features.object_class[row_t]).index(obj.class_index)
            assert int(sample["object_class"][t, k]) == obj.class_index
            np.testing.assert_allclose(
                sample["object_feature"][t, k].numpy(), features.object_feature[row_t, slot]
            )
            np.testing.assert_allclose(
                sample["union_feature"][t, k].numpy(), features.union_feature[row_t, slot]
            )
            np.testing.assert_allclose(
                sample["subject_feature"][t, k].numpy(), features.person_feature[row_t]
            )
            scale = np.array([width, height] * 4, np.float32)
            np.testing.assert_allclose(
                sample["boxes"][t, k].numpy() * scale,
                np.array(frame.person_box + obj.box_xyxy, np.float32),
                rtol=1e-5,
            )
            assert sorted(np.flatnonzero(sample["relations"][t, k].numpy())) == list(obj.relation_indices)


def test_evaluation_sampling_is_uniform_and_training_sampling_random(data_dir):
    module = _module(data_dir, frames_per_video=3)
    test_set, train_set = module.datasets["test"], module.datasets["train"]
    assert torch.equal(test_set[0]["frame_index"], test_set[0]["frame_index"])
    torch.manual_seed(0)
    draws = {tuple(train_set[0]["frame_index"].tolist()) for _ in range(20)}
    assert len(draws) > 1


def test_pairs_beyond_max_pairs_are_dropped_and_names_are_exposed(data_dir):
    module = _module(data_dir, max_pairs=1)
    batch = next(iter(module.val_dataloader()))
    assert batch["mask"].shape[-1] == 1
    num_classes = len(read_charades_classes(data_dir / "charades" / "Charades_v1_classes.txt"))
    assert module.num_classes == num_classes == len(module.class_names)
    assert module.object_classes[0] == "person" and len(module.relationship_classes) == 26
    unprepared = ActionGenomeDataModule(data_dir)
    assert unprepared.num_classes == num_classes and len(unprepared.relationship_classes) == 26
    assert unprepared.feature_dim == module.feature_dim == FEATURE_DIM


def test_store_is_reused_then_rebuilt_when_a_source_changes(data_dir):
    module = _module(data_dir)
    manifest = module.store_dir / "manifest.json"
    built = manifest.stat().st_mtime_ns
    ActionGenomeDataModule(data_dir, frames_per_video=T, max_pairs=K).prepare_data()
    assert manifest.stat().st_mtime_ns == built, "an unchanged source must reuse the store"
    csv = data_dir / "charades" / "Charades_v1_train.csv"
    lines = csv.read_text().splitlines(keepends=True)
    csv.write_text("".join(lines[:-1]))  # one training video fewer
    rebuilt = _module(data_dir)
    assert manifest.stat().st_mtime_ns != built
    assert len(rebuilt.datasets["train"]) == len(module.datasets["train"]) - 1


def test_a_broken_feature_file_raises_or_is_skipped(data_dir):
    broken = sorted((data_dir / "action_genome" / "features").glob("*.npz"))[3]
    broken.write_bytes(b"not a zip file")
    with pytest.raises(BoxFeatureFormatError, match=rf"{broken.name}: not a readable .npz"):
        ActionGenomeDataModule(data_dir, batch_size=4).prepare_data()
    assert not (data_dir / ".cache" / "action-genome").exists(), "a failed build leaves no store"

    with pytest.warns(UserWarning, match=rf"skipped 1 of {NUM_VIDEOS} .*{broken.name}: not a readable"):
        module = _module(data_dir, on_bad_sample="skip")
    assert sum(len(module.datasets[s]) for s in ("train", "test")) == NUM_VIDEOS - 1
    assert [r["source"] for r in module.store.skipped] == [f"action_genome/features/{broken.name}"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        module.setup("test")  # reported once per DataModule, not on every setup


def test_invalid_arguments_name_the_choices(data_dir):
    with pytest.raises(ValueError, match="on_bad_sample must be one of 'raise', 'skip'; got 'ignore'"):
        ActionGenomeDataModule(data_dir, on_bad_sample="ignore")
    with pytest.raises(ValueError, match="max_pairs must be >= 1"):
        ActionGenomeDataModule(data_dir, max_pairs=0)
    with pytest.raises(FileNotFoundError, match="call prepare_data"):
        ActionGenomeDataModule(data_dir).setup("fit")


def test_describe_reports_counts_shapes_and_vocabularies(data_dir):
    summary = ActionGenomeDataModule(data_dir, frames_per_video=T, max_pairs=K, batch_size=2).describe()
    assert summary["samples"]["train"] + summary["samples"]["test"] == NUM_VIDEOS
    assert summary["batch"]["union_feature"] == [2, T, K, FEATURE_DIM]
    assert summary["num_classes"] == len(summary["class_names"]) > 1 and summary["skipped"] == []
    assert len(summary["relationship_classes"]) == 26
