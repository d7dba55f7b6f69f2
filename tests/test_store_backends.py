"""Both store backends hold the same samples; a parallel store build equals a one-process build."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from datamodules.clip_store import ClipStore
from datamodules.litdata_store import LitdataSettings, LitdataStore
from datamodules.scene_graph_datamodule import ActionGenomeDataModule
from datamodules.skeleton_datamodule import NTUSkeletonDataModule
from datamodules.store_datamodule import StoreDataModule
from datamodules.synthetic.ntu import SyntheticNTUConfig, write_synthetic_ntu
from datamodules.synthetic.scene_graphs import write_synthetic_scene_graphs

BROKEN = "S009C001P001R001A006.skeleton"


def _ntu(root: Path) -> Path:
    config = SyntheticNTUConfig(
        actions=(6, 7), performers=(1, 2, 3), cameras=(1, 2), num_missing=0, min_frames=10, max_frames=20
    )
    write_synthetic_ntu(root, seed=0, config=config)
    (root / BROKEN).write_text("3\n1\n")  # a truncated file: skipped under on_bad_sample="skip"
    return root


def _ready(module: StoreDataModule) -> StoreDataModule:
    module.prepare_data()
    module.setup()
    return module


def _assert_same_item(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key, value in a.items():
        if isinstance(value, torch.Tensor):
            torch.testing.assert_close(value, b[key], rtol=0, atol=0)
        else:
            assert value == b[key], key


def _assert_same_store(mmap: ClipStore, streamed: LitdataStore) -> None:
    assert len(streamed) == len(mmap)
    assert streamed.skipped == mmap.skipped
    config = dict(streamed.manifest["config"])
    assert config.pop("litdata") == LitdataSettings().as_config() and len(config.pop("order")) == 16
    assert config.pop("item_format")  # the litdata item layout: a new one rebuilds the store
    assert config == mmap.manifest["config"]
    assert sorted(streamed.order.tolist()) == list(range(len(mmap)))
    assert streamed.metadata.keys() == mmap.metadata.keys()
    for column, values in mmap.metadata.items():
        np.testing.assert_array_equal(streamed.metadata[column], values)
    for index in range(len(mmap)):
        expected, got = mmap.tables(index), streamed.tables(index)
        assert got.keys() == expected.keys()
        for table, fields in expected.items():
            for field, rows in fields.items():
                assert got[table][field].dtype == rows.dtype, (table, field)
                np.testing.assert_array_equal(got[table][field], rows)


def _assert_same_splits(mmap: StoreDataModule, streamed: StoreDataModule, key: str) -> None:
    for split in ("train", "val", "test"):
        assert len(streamed.datasets[split]) == len(mmap.datasets[split])
        expected = {
            item[key]: item for item in (mmap.datasets[split][i] for i in range(len(mmap.datasets[split])))
        }
        got = {item[key]: item for item in streamed.datasets[split]}
        assert got.keys() == expected.keys(), split
        if split != "train":  # training items are randomly sampled and augmented
            for name, item in expected.items():
                _assert_same_item(got[name], item)


def test_litdata_store_holds_the_same_skeleton_clips_labels_splits_and_skip_list(tmp_path):
    data = _ntu(tmp_path / "ntu")
    mmap = _ready(NTUSkeletonDataModule(data, clip_length=8, batch_size=4, on_bad_sample="skip"))
    streamed = _ready(
        NTUSkeletonDataModule(data, clip_length=8, batch_size=4, on_bad_sample="skip", store="litdata")
    )
    assert [record["source"] for record in mmap.store.skipped] == [BROKEN]
    _assert_same_store(mmap.store, streamed.store)
    _assert_same_splits(mmap, streamed, "name")
    batch = next(iter(streamed.train_dataloader()))
    assert batch["skeleton"].shape == (4, 3, 8, 25, 2) and batch["label"].dtype == torch.long

    # a node that sees the finished store (object storage) but not the raw files
    node = NTUSkeletonDataModule(tmp_path / "absent", store="litdata", store_uri=streamed.litdata_location)
    _ready(node)
    assert sorted(node.store.metadata["name"]) == sorted(mmap.store.metadata["name"])


@pytest.mark.slow
def test_litdata_store_holds_the_same_scene_graphs(tmp_path):
    write_synthetic_scene_graphs(tmp_path / "sg", seed=1, num_videos=8, feature_dim=8)
    options = {"frames_per_video": 4, "max_pairs": 3, "batch_size": 2}
    mmap = _ready(ActionGenomeDataModule(tmp_path / "sg", **options))
    streamed = _ready(ActionGenomeDataModule(tmp_path / "sg", store="litdata", **options))
    _assert_same_store(mmap.store, streamed.store)
    _assert_same_splits(mmap, streamed, "video_id")
    assert streamed.feature_dim == mmap.feature_dim == 8


@pytest.mark.slow
def test_litdata_store_is_reused_until_a_source_changes(tmp_path):
    data = _ntu(tmp_path / "ntu")
    module = NTUSkeletonDataModule(data, batch_size=4, on_bad_sample="skip", store="litdata")
    module.prepare_data()
    index = Path(module.litdata_location) / "index.json"
    built = index.stat().st_mtime_ns
    module.prepare_data()
    assert index.stat().st_mtime_ns == built, "an up-to-date store is not rewritten"
    (data / BROKEN).unlink()
    module.prepare_data()
    assert LitdataStore(module.litdata_location).skipped == []


def _store_contents(directory: Path) -> dict[str, object]:
    contents: dict[str, object] = {}
    for path in sorted(directory.iterdir()):
        if path.suffix == ".npz":  # a zip archive records its write time; compare the arrays
            with np.load(path) as archive:
                contents[path.name] = {key: archive[key].tolist() for key in archive.files}
        else:
            contents[path.name] = path.read_bytes()
    return contents


def _build(data: Path, cache: Path, workers: int, store: str) -> NTUSkeletonDataModule:
    module = NTUSkeletonDataModule(
        data, on_bad_sample="skip", cache_dir=cache, build_workers=workers, store=store
    )
    module.prepare_data()
    return module


def test_parallel_store_build_writes_the_same_files_as_a_one_process_build(tmp_path):
    data = _ntu(tmp_path / "ntu")
    serial, parallel = (_build(data, tmp_path / f"cache{w}", w, "mmap") for w in (1, 2))
    assert _store_contents(serial.store_dir) == _store_contents(parallel.store_dir)


@pytest.mark.slow
def test_parallel_litdata_build_holds_the_same_samples_as_a_one_process_build(tmp_path):
    data = _ntu(tmp_path / "ntu")
    serial, parallel = (_build(data, tmp_path / f"cache{w}", w, "litdata") for w in (1, 2))
    # chunk files are named by the worker that wrote them, so compare sample by sample
    _assert_same_store(ClipStore(serial.store_dir), LitdataStore(parallel.litdata_location))
    assert LitdataStore(serial.litdata_location).manifest == LitdataStore(parallel.litdata_location).manifest


def test_store_arguments_are_checked():
    with pytest.raises(ValueError, match="unknown store 'lmdb'; valid: mmap, litdata"):
        NTUSkeletonDataModule(store="lmdb")
    with pytest.raises(ValueError, match="build_workers must be >= 1"):
        NTUSkeletonDataModule(build_workers=0)
    with pytest.raises(ValueError, match="litdata compression must be None or 'zstd'"):
        LitdataSettings(compression="lz4")


def test_a_litdata_item_is_one_buffer_that_decodes_to_the_same_rows():
    from datamodules.litdata_store import _ItemLayout

    layout = _ItemLayout(
        {
            "frames": {
                "joints": {"dtype": "<f4", "row_shape": [2, 3]},
                "index": {"dtype": "<i2", "row_shape": []},
            },
            "pairs": {"relations": {"dtype": "|u1", "row_shape": [4]}},
        }
    )
    joints = np.arange(30, dtype=np.float32).reshape(5, 2, 3)[::-1]  # not contiguous: written contiguous
    tables = {
        "frames": {"joints": joints, "index": np.arange(5, dtype=np.int16)},
        "pairs": {"relations": np.zeros((0, 4), np.uint8)},  # a sample may have no rows in a table
    }
    payload = layout.encode(7, tables)
    assert len(payload) == 8 * 3 + joints.nbytes + 5 * 2
    index, decoded = layout.decode(memoryview(payload))
    assert index == 7 and decoded.keys() == tables.keys()
    for table, fields in tables.items():
        for field, rows in fields.items():
            assert decoded[table][field].dtype == rows.dtype and decoded[table][field].flags.writeable
            np.testing.assert_array_equal(decoded[table][field], rows)
    size = len(payload)
    with pytest.raises(RuntimeError, match=f"a litdata item of {size + 1} bytes holds {size} bytes of rows"):
        layout.decode(payload + b"\0")
