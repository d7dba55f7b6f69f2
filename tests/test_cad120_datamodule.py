"""CAD120DataModule: folds, batches, derived relations, the relation file, bad files, a LaIAR fit."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from lightning import Trainer, seed_everything

from datamodules.cad120_datamodule import CAD120DataModule
from datamodules.cad120_tokens import FEATURE_DIM, cad120_tokens, derive_relations
from datamodules.formats.cad120 import (
    CAD120_OBJECT_CLASSES,
    CAD120_SUB_ACTIVITIES,
    CAD120Activity,
    CAD120ObjectTrack,
    CAD120Segment,
    CAD120Skeleton,
    CAD120Video,
    read_cad120,
    unproject_from_image,
    write_cad120_relations,
)
from datamodules.formats.class_names import AG_RELATIONSHIP_CLASSES
from datamodules.formats.errors import CAD120FormatError
from datamodules.synthetic.cad120 import SyntheticCAD120Config, write_synthetic_cad120
from lvlm_var.batches import SceneGraphBatch

T, K = 4, 3
REL = {name: i for i, name in enumerate(AG_RELATIONSHIP_CLASSES)}
ACTIVITIES = ("making_cereal", "having_meal", "taking_medicine")


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cad120")
    write_synthetic_cad120(root, seed=0, config=SyntheticCAD120Config(activities=ACTIVITIES))
    return root


@pytest.fixture
def data_dir(generated: Path, tmp_path: Path) -> Path:
    """A private copy, so a test may corrupt files or build stores without touching the others."""
    return Path(shutil.copytree(generated, tmp_path / "data"))


def _module(data_dir: Path, **kwargs: object) -> CAD120DataModule:
    module = CAD120DataModule(data_dir, **{"frames_per_clip": T, "max_pairs": K, "batch_size": 4, **kwargs})
    module.prepare_data()
    module.setup("fit")
    return module


def _subjects(module: CAD120DataModule, split: str) -> set[int]:
    return set(module.store.metadata["subject"][module.datasets[split].indices].tolist())


def test_folds_leave_one_subject_out(data_dir: Path) -> None:
    total = sum(len(v.segments) for v in read_cad120(data_dir))
    for fold, subject in enumerate((1, 3, 4, 5)):
        module = _module(data_dir, fold=fold)
        assert _subjects(module, "test") == {subject} and subject not in _subjects(module, "train")
        assert len(module.datasets["train"]) + len(module.datasets["test"]) == total
        assert np.array_equal(module.datasets["val"].indices, module.datasets["test"].indices)
    held_out = _module(data_dir, fold=2, val_fraction=0.25)
    train, val = held_out.datasets["train"].indices, held_out.datasets["val"].indices
    assert not set(train) & set(val) and _subjects(held_out, "val") <= {1, 3, 5}


def test_batches_follow_the_scene_graph_contract(data_dir: Path) -> None:
    module = _module(data_dir)
    assert (module.num_classes, module.class_names) == (10, list(CAD120_SUB_ACTIVITIES))
    assert module.feature_dim == FEATURE_DIM == 40
    assert module.object_classes == list(CAD120_OBJECT_CLASSES) and len(module.relationship_classes) == 26
    batch = next(iter(module.train_dataloader()))
    assert set(batch) == set(SceneGraphBatch.__annotations__)
    for key in ("subject_feature", "object_feature", "union_feature"):
        assert batch[key].shape == (4, T, K, FEATURE_DIM) and batch[key].dtype == torch.float32
    assert batch["boxes"].shape == (4, T, K, 8) and batch["relations"].shape == (4, T, K, 26)
    assert batch["object_class"].dtype == torch.long and batch["object_class"].max() < len(
        CAD120_OBJECT_CLASSES
    )
    assert batch["mask"].dtype == torch.bool and batch["mask"].any(dim=-1).all()
    assert batch["frame_index"].shape == (4, T) and batch["frame_index"].dtype == torch.long
    assert batch["labels"].shape == (4,) and batch["labels"].dtype == torch.long
    assert len(batch["video_id"]) == 4
    # every real token has exactly one contacting relation; padding is all zeros
    contacting = batch["relations"][..., [REL["holding"], REL["touching"], REL["not_contacting"]]].sum(-1)
    assert torch.equal(contacting, batch["mask"].float())
    description = module.describe()
    assert description["test_subject"] == "Subject1" and description["feature_dim"] == 40


def _hand_built_video() -> CAD120Video:
    """Two frames; the right hand is inside the object's box in frame 1 and 100 px left of it in frame 2."""
    joints = np.zeros((2, 15, 3))
    joints[..., 2] = 2500.0
    joints[:, :11, 0] = np.linspace(-200, 200, 11)  # a body in the image centre
    hand_uv = np.array([[420.0, 300.0], [300.0, 300.0]])
    joints[:, 12] = unproject_from_image(hand_uv, 2000.0)
    joints[:, 11] = unproject_from_image(np.array([100.0, 300.0]), 2000.0)  # left hand far away
    skeleton = CAD120Skeleton(
        frames=[1, 2],
        orientation=np.broadcast_to(np.eye(3), (2, 11, 3, 3)),
        orientation_confidence=np.ones((2, 11)),
        joints=joints,
        confidence=np.ones((2, 15)),
    )
    track = CAD120ObjectTrack(1, [1, 2], [[400, 280, 440, 320], [400, 280, 440, 320]])
    info = CAD120Activity("v1", "having_meal", 1, ("cup",))
    return CAD120Video(info, [CAD120Segment("v1", 1, 2, "drinking", ("drinkable",))], skeleton, [track])


def test_derived_relations_on_hand_built_frames() -> None:
    box = np.array([[100.0, 100.0, 140.0, 140.0]] * 4)
    hands = np.array(
        [[[120, 120], [0, 0]], [[150, 120], [0, 0]], [[300, 300], [0, 0]], [[120, 120], [0, 0]]], dtype=float
    )
    tracked = np.array([[True, True], [True, True], [True, True], [False, True]])
    trunk = np.array([[90.0, 130.0], [90.0, 130.0], [200.0, 260.0], [200.0, 260.0]])
    relations = derive_relations(hands, tracked, trunk, box, touch_margin=20.0)
    names = [{AG_RELATIONSHIP_CLASSES[i] for i in np.flatnonzero(row)} for row in relations]
    assert names == [
        {"holding", "in_front_of"},  # hand inside the box, box centre within the trunk
        {"touching", "in_front_of"},  # 10 px right of the box
        {"not_contacting", "on_the_side_of"},
        {"not_contacting", "on_the_side_of"},  # the hand inside is not tracked
    ]
    tokens = cad120_tokens(_hand_built_video())
    assert tokens.relations[0, 0, REL["holding"]] == 1 and tokens.relations[1, 0, REL["not_contacting"]] == 1
    assert tokens.object_class.tolist() == [CAD120_OBJECT_CLASSES.index("cup/glass/bottle")]
    assert tokens.person_feature.shape == (2, FEATURE_DIM) and tokens.present.all()
    assert (
        tokens.object_feature[0, 0, 38 + 1] == 0.0 and tokens.object_feature[1, 0, 38 + 1] > 0
    )  # right hand


def test_relation_file_overrides_the_derived_relations(data_dir: Path, tmp_path: Path) -> None:
    video = read_cad120(data_dir)[0]
    override = {(video.video_id, 2, 1): ["looking_at", "drinking_from"]}
    tokens = cad120_tokens(video, overrides={(2, 1): (REL["drinking_from"], REL["looking_at"])})
    assert set(np.flatnonzero(tokens.relations[1, 0])) == {REL["drinking_from"], REL["looking_at"]}
    assert set(np.flatnonzero(tokens.relations[0, 0])) != set(np.flatnonzero(tokens.relations[1, 0]))

    path = write_cad120_relations(tmp_path / "relations.csv", override)
    module = _module(data_dir, relation_file=path)
    first = int(np.flatnonzero(module.store.metadata["video_id"] == video.video_id)[0])
    pairs = module.store.rows("pairs", first)
    second_frame = pairs["relations"][pairs["frame"] == 1][0]  # frame 2 of the video, object 1
    assert set(np.flatnonzero(second_frame)) == {REL["drinking_from"], REL["looking_at"]}
    assert module.store.manifest["config"]["relation_file"] == str(path)

    write_cad120_relations(path, {(video.video_id, 10_000, 1): ["holding"]})
    with pytest.raises(
        CAD120FormatError, match=f"relations.csv video {video.video_id} frame 10000 object 1: no such"
    ):
        _module(data_dir, relation_file=path)
    write_cad120_relations(path, {("nope", 1, 1): ["holding"]})
    with pytest.raises(CAD120FormatError, match="video 'nope' is not listed in any activityLabel.txt"):
        _module(data_dir, relation_file=path)


def test_bad_video_raises_or_is_skipped(data_dir: Path) -> None:
    videos = read_cad120(data_dir)
    folder = next(data_dir.glob(f"Subject3_annotations/{videos[0].info.activity}"))
    broken = next(p for p in sorted(folder.glob("*.txt")) if p.stem.isdigit())
    broken.write_text(broken.read_text().replace("END\n", ""))
    with pytest.raises(CAD120FormatError, match="missing the final END line"):
        _module(data_dir)
    with pytest.warns(UserWarning, match="1 of"):
        module = _module(data_dir, on_bad_sample="skip")
    assert module.store.skipped[0]["source"].endswith(broken.name)
    assert broken.stem not in set(module.store.metadata["video_id"].tolist())


def test_arguments_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="fold must be 0-3"):
        CAD120DataModule(tmp_path, fold=4)
    with pytest.raises(ValueError, match="frames_per_clip must be >= 1"):
        CAD120DataModule(tmp_path, frames_per_clip=0)
    with pytest.raises(FileNotFoundError, match="no CAD-120 videos"):
        CAD120DataModule(tmp_path).prepare_data()
    with pytest.raises(FileNotFoundError, match="relation_file"):
        CAD120DataModule(tmp_path, relation_file=tmp_path / "missing.csv").prepare_data()


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_laiar_module_fits_on_cad120_batches(data_dir: Path, tmp_path: Path) -> None:
    from lvlm_var.dtformer import LaIARConfig, LaIARLossConfig, LaIARModule

    seed_everything(0)
    module = _module(data_dir)
    config = LaIARConfig.preset(
        "tiny",
        module.num_classes,
        object_class_names=module.object_classes,
        relation_names=module.relationship_classes,
        class_names=module.class_names,
        feature_dim=module.feature_dim,
        num_frames=T,
        max_pairs=K,
    )
    model = LaIARModule(config, loss=LaIARLossConfig(multi_label=False))
    trainer = Trainer(
        accelerator="cpu",
        fast_dev_run=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=tmp_path,
    )
    trainer.fit(model, datamodule=module)
    results = trainer.test(model, datamodule=module, verbose=False)
    assert {"test/mAR", "test/acc"} <= set(results[0])
