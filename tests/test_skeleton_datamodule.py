"""NTUSkeletonDataModule: benchmark splits, batches, sampling, store reuse, bad files, NW-UCLA and pyskl."""

from __future__ import annotations

import os
import shutil
import warnings

import numpy as np
import pytest
import torch
from lightning.pytorch import Trainer

from datamodules.body_selection import load_ntu_clip
from datamodules.formats.errors import SkeletonFormatError
from datamodules.formats.ntu_skeleton import NTUBodyInfo, NTUSkeletonFile, write_ntu_skeleton
from datamodules.formats.nwucla import write_nwucla
from datamodules.formats.pyskl import PysklAnnotations, write_pyskl
from datamodules.formats.skeleton_benchmarks import get_skeleton_benchmark
from datamodules.formats.skeleton_clip import SkeletonClip
from datamodules.skeleton_datamodule import NTUSkeletonDataModule
from datamodules.skeleton_transforms import drop_empty_frames, fit_bodies, normalize_view
from datamodules.store_datamodule import per_device_batch_size
from datamodules.synthetic.ntu import (
    NTU_MISSING_LIST,
    SyntheticNTUConfig,
    plan_synthetic_ntu,
    write_synthetic_ntu,
)
from datamodules.synthetic.nwucla import SyntheticNWUCLAConfig, write_synthetic_nwucla
from lvlm_var.skeleton_layout import KINECT_V2_LAYOUT

T = 8
# (name, frames, bodies): xsub training subjects are 1 and 2 here, test subjects 3 and 6;
# A061 exists only in NTU-120; one clip has a single frame, one has two people.
NTU_SAMPLES = [
    ("S001C001P001R001A001", 30, 1),
    ("S001C002P001R001A002", 12, 1),
    ("S001C003P002R002A003", 1, 1),
    ("S002C001P002R001A001", 25, 2),
    ("S002C002P003R001A002", 40, 1),
    ("S002C003P003R002A003", 9, 1),
    ("S003C001P006R001A001", 17, 2),
    ("S003C002P006R001A002", 5, 1),
    ("S004C001P001R001A061", 20, 1),
    ("S004C002P003R001A061", 11, 1),
]


def _joints(frames: int, bodies: int, seed: int, num_joints: int = 25) -> np.ndarray:
    rng = np.random.default_rng(seed)
    joints = rng.normal(scale=0.3, size=(frames, bodies, num_joints, 3)) + [0.0, 0.0, 3.0]
    joints += np.linspace(0, 1, frames)[:, None, None, None] * rng.normal(size=3)  # some motion
    return joints.astype(np.float32)


def _write_ntu(path, joints: np.ndarray) -> None:
    frames, bodies = joints.shape[:2]
    infos = [NTUBodyInfo(72057594037931100 + b, 0, 1, 1, 1, 1, 0, 0.1, 0.2, 2) for b in range(bodies)]
    values = np.zeros((frames * bodies, 25, 12))
    values[:, :, :3] = joints.reshape(frames * bodies, 25, 3)
    values[:, :, 11] = 2
    write_ntu_skeleton(path, NTUSkeletonFile(np.full(frames, bodies), infos * frames, values))


@pytest.fixture(scope="session")
def ntu_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("ntu")
    (root / "nturgb+d_skeletons").mkdir()
    for seed, (name, frames, bodies) in enumerate(NTU_SAMPLES):
        _write_ntu(root / "nturgb+d_skeletons" / f"{name}.skeleton", _joints(frames, bodies, seed))
    return root


@pytest.fixture
def ntu_dir(ntu_root, tmp_path):
    """A private copy, so a test may corrupt files or build stores without touching the others."""
    return shutil.copytree(ntu_root, tmp_path / "ntu")


def _module(data_dir, **kwargs):
    settings = {"clip_length": T, "batch_size": 2, **kwargs}
    module = NTUSkeletonDataModule(data_dir, **settings)
    module.prepare_data()
    module.setup("fit")
    return module


def _names(dataset):
    return sorted(str(dataset.store.metadata["name"][i]) for i in dataset.indices)


def _position(dataset, name):
    """The dataset index of the clip called ``name``."""
    return [str(dataset.store.metadata["name"][i]) for i in dataset.indices].index(name)


@pytest.mark.parametrize("benchmark", ["ntu60-xsub", "ntu60-xview", "ntu120-xsub", "ntu120-xset"])
def test_splits_follow_the_benchmark_protocol(ntu_dir, benchmark):
    module = _module(ntu_dir, benchmark=benchmark)
    spec = get_skeleton_benchmark(benchmark)
    expected = {"train": [], "test": []}
    for name, _, _ in NTU_SAMPLES:
        if spec.contains(name):
            expected[spec.split_of(name)].append(name)
    assert _names(module.datasets["train"]) == sorted(expected["train"])
    assert _names(module.datasets["test"]) == sorted(expected["test"])
    assert _names(module.datasets["val"]) == sorted(expected["test"])
    assert module.num_classes == spec.num_classes == len(module.class_names)


def test_xsub_split_sizes_and_a_held_out_validation_set(ntu_dir):
    module = _module(ntu_dir, benchmark="ntu60-xsub")
    assert [len(module.datasets[s]) for s in ("train", "val", "test")] == [4, 4, 4]
    held_out = _module(ntu_dir, benchmark="ntu120-xsub", val_fraction=0.25)
    train, val = _names(held_out.datasets["train"]), _names(held_out.datasets["val"])
    assert len(val) == 1 and len(train) == 4 and not set(train) & set(val)


def test_batches_follow_the_skeleton_contract(ntu_dir):
    module = _module(ntu_dir, batch_size=4)
    batch = next(iter(module.train_dataloader()))
    assert batch["skeleton"].shape == (4, 3, T, 25, 2) and batch["skeleton"].dtype == torch.float32
    assert batch["label"].shape == (4,) and batch["label"].dtype == torch.int64
    assert len(batch["name"]) == 4 and all(isinstance(n, str) for n in batch["name"])
    assert torch.isfinite(batch["skeleton"]).all()


def test_evaluation_item_is_the_normalised_clip_sampled_uniformly(ntu_dir):
    module = _module(ntu_dir)
    dataset = module.datasets["test"]
    item = dataset[0]
    path = ntu_dir / "nturgb+d_skeletons" / f"{item['name']}.skeleton"
    stored = fit_bodies(drop_empty_frames(load_ntu_clip(path).joints), 2)
    normalised = normalize_view(stored, KINECT_V2_LAYOUT)
    indices = np.minimum(np.floor((np.arange(T) + 0.5) * len(stored) / T).astype(int), len(stored) - 1)
    np.testing.assert_allclose(item["skeleton"].numpy(), normalised[indices].transpose(3, 0, 2, 1), atol=1e-6)
    assert torch.equal(dataset[0]["skeleton"], item["skeleton"]), "evaluation sampling is deterministic"


def test_training_sampling_is_random_and_a_one_frame_clip_fills_the_clip(ntu_dir):
    module = _module(ntu_dir, augment=False)
    train = module.datasets["train"]
    long_clip, one_frame = _position(train, "S001C001P001R001A001"), _position(train, "S001C003P002R002A003")
    torch.manual_seed(0)
    draws = {train[long_clip]["skeleton"].numpy().tobytes() for _ in range(10)}
    assert len(draws) > 1
    single = train[one_frame]["skeleton"]
    assert single.shape == (3, T, 25, 2) and torch.equal(single, single[:, :1].expand_as(single))


def test_augmentation_changes_training_clips_only(ntu_dir):
    plain = _module(ntu_dir, augment=False, clip_length=1)
    augmented = _module(ntu_dir, augment=True, rotation_degrees=30.0, clip_length=1)
    index = _position(plain.datasets["train"], "S001C003P002R002A003")  # one frame: sampling cannot differ
    assert not torch.allclose(
        plain.datasets["train"][index]["skeleton"], augmented.datasets["train"][index]["skeleton"]
    )
    assert torch.equal(plain.datasets["test"][0]["skeleton"], augmented.datasets["test"][0]["skeleton"])


def test_store_is_reused_then_rebuilt_when_a_source_changes(ntu_dir):
    module = _module(ntu_dir)
    manifest = module.store_dir / "manifest.json"
    built = manifest.stat().st_mtime_ns
    for benchmark in ("ntu60-xview", "ntu120-xset"):
        NTUSkeletonDataModule(ntu_dir, benchmark=benchmark).prepare_data()
    assert manifest.stat().st_mtime_ns == built, "same sources: the store is reused, whatever the benchmark"

    path = ntu_dir / "nturgb+d_skeletons" / "S002C002P003R001A002.skeleton"
    _write_ntu(path, _joints(3, 1, seed=99))
    os.utime(path, ns=(built + 10**9, built + 10**9))
    rebuilt = _module(ntu_dir)
    assert manifest.stat().st_mtime_ns != built
    index = list(rebuilt.store.metadata["name"]).index("S002C002P003R001A002")
    assert rebuilt.store.num_rows("frames")[index] == 3


def test_missing_skeleton_list_leaves_samples_out(ntu_dir):
    listed = ntu_dir / "NTU_RGBD_samples_with_missing_skeletons.txt"
    listed.write_text("The following samples have missing skeletons:\n\nS001C002P001R001A002\n")
    module = _module(ntu_dir, missing_skeletons_file=listed)
    assert "S001C002P001R001A002" not in list(module.store.metadata["name"])
    assert len(module.store) == len(NTU_SAMPLES) - 1


def test_a_broken_file_raises_or_is_skipped(ntu_dir):
    broken = ntu_dir / "nturgb+d_skeletons" / "S001C002P001R001A002.skeleton"
    lines = broken.read_text().splitlines()
    broken.write_text("\n".join(lines[:30]) + "\n")  # truncated in the middle of a body
    empty = ntu_dir / "nturgb+d_skeletons" / "S003C002P006R001A002.skeleton"
    empty.write_text("0\n")  # a file that declares no frame
    with pytest.raises(SkeletonFormatError, match=r"S001C002P001R001A002.skeleton line \d+: file ends early"):
        NTUSkeletonDataModule(ntu_dir).prepare_data()
    assert not (ntu_dir / ".cache").exists() or not any((ntu_dir / ".cache").iterdir())

    with pytest.warns(UserWarning, match=r"skipped 2 of 10 NTU RGB\+D .skeleton files .*file ends early"):
        module = _module(ntu_dir, on_bad_sample="skip")
    assert len(module.store) == len(NTU_SAMPLES) - 2
    assert [r["source"] for r in module.store.skipped] == [
        "nturgb+d_skeletons/S001C002P001R001A002.skeleton",
        "nturgb+d_skeletons/S003C002P006R001A002.skeleton",
    ]
    assert "no frame has a tracked body" in module.store.skipped[1]["error"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        module.setup("test")
    with pytest.raises(SkeletonFormatError, match="file ends early"):
        NTUSkeletonDataModule(ntu_dir, on_bad_sample="raise").prepare_data()
    with pytest.warns(UserWarning, match="skipped 2 of 10"):
        assert len(_module(ntu_dir, on_bad_sample="skip").store) == len(NTU_SAMPLES) - 2, (
            "the skip store survives"
        )


def test_nwucla_has_20_joints_and_splits_by_view(tmp_path):
    root = tmp_path / "nwucla" / "all_sqe"
    root.mkdir(parents=True)
    names = ["a01_s01_e00_v01", "a02_s02_e01_v02", "a12_s03_e00_v03", "a05_s04_e02_v03", "a08_s01_e00_v01"]
    for seed, name in enumerate(names):
        write_nwucla(root / f"{name}.json", SkeletonClip(name, _joints(6 + seed, 1, seed, 20), 0, 1, 1))
    (tmp_path / "nwucla" / "notes.json").write_text("{}")  # not a sequence: ignored
    module = _module(tmp_path / "nwucla", benchmark="nwucla-xview", batch_size=2)
    assert module.source == "nwucla"
    assert _names(module.datasets["test"]) == ["a05_s04_e02_v03", "a12_s03_e00_v03"]
    batch = next(iter(module.test_dataloader()))
    assert batch["skeleton"].shape == (2, 3, T, 20, 2) and torch.all(batch["skeleton"][..., 1] == 0)
    assert batch["label"].tolist() == [4, 9]
    assert module.num_classes == 10 and module.class_names[0] == "pick up with one hand"
    assert (
        module.num_joints == 20 and NTUSkeletonDataModule(tmp_path, benchmark="ntu60-xsub").num_joints == 25
    )


def test_a_pyskl_pickle_is_a_source(tmp_path, ntu_root):
    clips = [load_ntu_clip(p) for p in sorted((ntu_root / "nturgb+d_skeletons").glob("*.skeleton"))]
    pickle_path = write_pyskl(tmp_path / "ntu60_3danno.pkl", PysklAnnotations(split={}, clips=clips))
    module = _module(pickle_path, benchmark="ntu60-xsub")
    assert module.source == "pyskl" and module.store_dir.parent == tmp_path / ".cache"
    assert [len(module.datasets[s]) for s in ("train", "test")] == [4, 4]
    assert next(iter(module.train_dataloader()))["skeleton"].shape == (2, 3, T, 25, 2)


def test_global_batch_size_must_divide_by_the_world_size(ntu_dir):
    assert per_device_batch_size(12, 4) == 3
    with pytest.raises(
        ValueError, match=r"batch_size=10 is the global batch size .* world size 4 .* e.g. 8 or 12"
    ):
        per_device_batch_size(10, 4)
    module = NTUSkeletonDataModule(ntu_dir, batch_size=3)
    module.prepare_data()
    module.trainer = Trainer(accelerator="cpu", devices=2, strategy="ddp", logger=False)
    with pytest.raises(ValueError, match="world size 2"):
        module.setup("fit")


def test_invalid_arguments_name_the_valid_choices(ntu_dir):
    with pytest.raises(ValueError, match="unknown skeleton benchmark 'ntu60-xsetup'; valid: .*ntu60-xsub"):
        NTUSkeletonDataModule(ntu_dir, benchmark="ntu60-xsetup")
    with pytest.raises(ValueError, match="on_bad_sample must be one of 'raise', 'skip'; got 'warn'"):
        NTUSkeletonDataModule(ntu_dir, on_bad_sample="warn")
    with pytest.raises(ValueError, match="unknown skeleton source 'csv'; valid: auto, ntu, nwucla, pyskl"):
        NTUSkeletonDataModule(ntu_dir, source="csv")
    with pytest.raises(ValueError, match="source 'nwucla' holds nwucla samples but the benchmark needs ntu"):
        NTUSkeletonDataModule(ntu_dir, source="nwucla")
    with pytest.raises(FileNotFoundError, match="no NTU RGB\\+D .skeleton files found under"):
        NTUSkeletonDataModule(ntu_dir / "nturgb+d_skeletons" / "nothing").prepare_data()


def test_describe_reports_counts_shapes_and_classes(ntu_dir):
    summary = NTUSkeletonDataModule(ntu_dir, benchmark="ntu120-xsub", clip_length=T, batch_size=2).describe()
    assert summary["samples"] == {"train": 5, "val": 5, "test": 5}
    assert summary["batch"]["skeleton"] == [2, 3, T, 25, 2] and summary["batch"]["name"] == "list[str]"
    assert summary["num_classes"] == 120 and summary["class_names"][60] == "put on headphone"
    assert summary["benchmark"] == "ntu120-xsub" and summary["skipped"] == []


# --- end to end on the synthetic NTU RGB+D set (real writers, missing-skeleton list, three cameras) ---

SYNTHETIC_NTU = SyntheticNTUConfig(actions=(6, 7, 10), performers=(1, 2, 3, 6), min_frames=20, max_frames=30)


@pytest.fixture(scope="session")
def synthetic_ntu_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("synthetic_ntu")
    write_synthetic_ntu(root, seed=0, config=SYNTHETIC_NTU)
    return root


def test_synthetic_ntu_with_its_missing_list_splits_by_subject(synthetic_root_copy):
    module = _module(synthetic_root_copy)  # missing_skeletons_file "auto" finds the official list
    _, missing = plan_synthetic_ntu(SYNTHETIC_NTU, seed=0)
    assert len(module.store) == 36 - len(missing) and not missing & set(module.store.metadata["name"])
    per_split = {split: len(module.datasets[split]) for split in ("train", "test")}
    assert per_split["train"] + per_split["test"] == 36 - len(missing)
    assert all(int(name[9:12]) in (1, 2) for name in _names(module.datasets["train"]))


def test_synthetic_ntu_without_the_missing_list_meets_empty_files(synthetic_root_copy):
    _, missing = plan_synthetic_ntu(SYNTHETIC_NTU, seed=0)
    first = sorted(missing)[0]
    with pytest.raises(
        SkeletonFormatError, match=rf"{first}.skeleton: no frame has a tracked body .* missing_skeletons_file"
    ):
        NTUSkeletonDataModule(synthetic_root_copy, missing_skeletons_file=None).prepare_data()
    with pytest.warns(UserWarning, match=rf"skipped {len(missing)} of 36"):
        module = _module(synthetic_root_copy, on_bad_sample="skip", missing_skeletons_file=None)
    assert sorted(r["source"].split("/")[-1] for r in module.store.skipped) == sorted(
        f"{m}.skeleton" for m in missing
    )


def test_view_normalisation_brings_the_three_cameras_of_a_performance_together(synthetic_root_copy):
    module = _module(synthetic_root_copy, missing_skeletons_file=synthetic_root_copy / NTU_MISSING_LIST)
    store, names = module.store, list(module.store.metadata["name"])
    performances = {}
    for index, name in enumerate(names):
        performances.setdefault(name[:4] + name[8:], []).append(index)
    compared = 0
    for indices in performances.values():
        if len(indices) < 2:
            continue
        first_frames = [np.array(store.rows("frames", i)["joints"][:1]) for i in indices]
        centred = [frame[0, 0] - frame[0, 0, 0] for frame in first_frames]
        normalised = [normalize_view(frame, KINECT_V2_LAYOUT)[0, 0] for frame in first_frames]
        assert max(np.abs(c - centred[0]).max() for c in centred) > 0.15, "cameras 45 degrees apart"
        assert max(np.abs(n - normalised[0]).max() for n in normalised) < 0.05, "same pose once normalised"
        compared += 1
    assert compared >= 10


def test_synthetic_nwucla_end_to_end(tmp_path):
    write_synthetic_nwucla(tmp_path, seed=0, config=SyntheticNWUCLAConfig(actions=(1, 2), subjects=(1, 2)))
    module = _module(tmp_path, benchmark="nwucla-xview", batch_size=4)
    assert [len(module.datasets[s]) for s in ("train", "test")] == [8, 4]
    batch = next(iter(module.train_dataloader()))
    assert batch["skeleton"].shape == (4, 3, T, 20, 2) and set(batch["label"].tolist()) <= {0, 1}


@pytest.fixture
def synthetic_root_copy(synthetic_ntu_root, tmp_path):
    return shutil.copytree(synthetic_ntu_root, tmp_path / "synthetic")


def test_samples_outside_an_ntu60_benchmark_are_reported(ntu_dir):
    with pytest.warns(
        UserWarning,
        match=r"left out 2 of 10 stored samples that are not in ntu60-xsub "
        r"\(actions 1-60\), e.g. S004C001P001R001A061, S004C002P003R001A061",
    ):
        module = _module(ntu_dir, benchmark="ntu60-xsub")
    assert sum(len(module.datasets[s]) for s in ("train", "test")) == len(NTU_SAMPLES) - 2
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message="left out")  # (most of NTU-120's classes have no sample)
        _module(ntu_dir, benchmark="ntu120-xsub")


@pytest.mark.parametrize(
    "content",
    [
        "1000000000000\n0\n",  # a frame count no file can hold
        "1\n1\n" + "7" * 5000 + " 0 1 1 1 1 0 0.1 0.2 2\n25\n" + "1 2 3 4 5 6 7 8 9 10 11 2\n" * 25,
        "1\n1\n1 0 1 1 1 1 0 0.1 0.2 2\n25\n" + "3.5e38 2 3 4 5 6 7 8 9 10 11 2\n" * 25,
        "\xff\xfe garbage \x00\n",
    ],
    ids=["huge-frame-count", "huge-integer", "beyond-float32", "garbage"],
)
def test_skip_survives_hostile_files_and_batches_stay_finite(ntu_dir, content):
    bad = ntu_dir / "nturgb+d_skeletons" / "S001C002P001R001A002.skeleton"
    bad.write_bytes(content.encode("latin1"))
    with pytest.raises(SkeletonFormatError):
        NTUSkeletonDataModule(ntu_dir, benchmark="ntu120-xsub").prepare_data()
    with pytest.warns(UserWarning, match=r"skipped 1 of 10 NTU RGB\+D .skeleton files"):
        module = _module(ntu_dir, benchmark="ntu120-xsub", on_bad_sample="skip")
    for loader in (module.train_dataloader(), module.val_dataloader()):
        for batch in loader:
            assert torch.isfinite(batch["skeleton"]).all()
