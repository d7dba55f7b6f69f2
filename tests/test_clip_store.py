"""The memory-mapped clip store: round trip, reuse test, atomic replacement, pickling."""

from __future__ import annotations

import os
import pickle

import numpy as np
import pytest

from datamodules.clip_store import ClipStore, ClipStoreWriter, fingerprint_sources, store_is_current


def _sample(length: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(length, 2, 25, 3)).astype(np.float32)


def _write_store(directory, sources, config, lengths=(5, 0, 3)):
    with ClipStoreWriter(directory, config=config, sources=sources) as writer:
        for i, length in enumerate(lengths):
            writer.append(
                {"name": f"clip{i}", "label": i, "onehot": np.eye(3, dtype=np.uint8)[i]},
                {"frames": {"joints": _sample(length, i), "frame_index": np.arange(length)}},
            )
        writer.commit(skipped=[{"source": "bad.skeleton", "error": "broken"}], extra={"classes": ["a", "b"]})


@pytest.fixture
def sources(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    for name in ("a.skeleton", "b.skeleton"):
        (raw / name).write_text(name)
    return raw


def test_round_trip_keeps_every_sample_and_maps_the_arrays(tmp_path, sources):
    fingerprints = fingerprint_sources(sorted(sources.iterdir()), sources)
    _write_store(tmp_path / "store", fingerprints, {"kind": "test"})
    store = ClipStore(tmp_path / "store")
    assert len(store) == 3
    assert list(store.num_rows("frames")) == [5, 0, 3]
    for i, length in enumerate((5, 0, 3)):
        rows = store.rows("frames", i)
        np.testing.assert_array_equal(rows["joints"], _sample(length, i))
        np.testing.assert_array_equal(rows["frame_index"], np.arange(length))
        assert rows["joints"].dtype == np.float32 and rows["joints"].shape == (length, 2, 25, 3)
    assert isinstance(np.load(tmp_path / "store" / "frames.joints.npy", mmap_mode="r"), np.memmap)
    assert list(store.metadata["name"]) == ["clip0", "clip1", "clip2"]
    np.testing.assert_array_equal(store.metadata["onehot"], np.eye(3, dtype=np.uint8))
    assert store.skipped == [{"source": "bad.skeleton", "error": "broken"}]
    assert store.manifest["extra"] == {"classes": ["a", "b"]}
    assert set(fingerprints) == {"a.skeleton", "b.skeleton"}


def test_store_is_current_until_a_source_or_the_config_changes(tmp_path, sources):
    files = sorted(sources.iterdir())
    _write_store(tmp_path / "store", fingerprint_sources(files, sources), {"kind": "test", "T": 1})
    assert store_is_current(tmp_path / "store", fingerprint_sources(files, sources), {"kind": "test", "T": 1})
    assert not store_is_current(
        tmp_path / "store", fingerprint_sources(files, sources), {"kind": "test", "T": 2}
    )
    (sources / "a.skeleton").write_text("changed content")
    assert not store_is_current(
        tmp_path / "store", fingerprint_sources(files, sources), {"kind": "test", "T": 1}
    )
    assert not store_is_current(tmp_path / "absent", {}, {})


def test_a_failed_build_leaves_the_previous_store_and_no_temporary_files(tmp_path, sources):
    _write_store(tmp_path / "store", {}, {"version": "old"})
    with pytest.raises(RuntimeError, match="reader crashed"):
        with ClipStoreWriter(tmp_path / "store", config={"version": "new"}, sources={}) as writer:
            writer.append({"name": "x"}, {"frames": {"joints": _sample(2, 0)}})
            raise RuntimeError("reader crashed")
    assert ClipStore(tmp_path / "store").manifest["config"] == {"version": "old"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["raw", "store"]


def test_commit_replaces_an_existing_store_whole(tmp_path):
    _write_store(tmp_path / "store", {}, {"version": "old"}, lengths=(4, 4, 4))
    _write_store(tmp_path / "store", {}, {"version": "new"}, lengths=(1, 2, 3))
    store = ClipStore(tmp_path / "store")
    assert store.manifest["config"] == {"version": "new"}
    assert list(store.num_rows("frames")) == [1, 2, 3]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store"]


def test_abandoned_temporary_directories_of_dead_builds_are_removed(tmp_path):
    import socket

    dead = tmp_path / f".store.tmp-{socket.gethostname()}-999999999-deadbeef"
    dead.mkdir()
    _write_store(tmp_path / "store", {}, {})
    assert not dead.exists()


def test_pickling_sends_no_array_data(tmp_path):
    _write_store(tmp_path / "store", {}, {}, lengths=(2000, 2000, 2000))
    store = ClipStore(tmp_path / "store")
    store.rows("frames", 0)
    payload = pickle.dumps(store)
    assert len(payload) < 10_000
    np.testing.assert_array_equal(pickle.loads(payload).rows("frames", 2)["joints"], _sample(2000, 2))


def test_rows_with_another_shape_or_missing_fields_are_refused(tmp_path):
    with ClipStoreWriter(tmp_path / "store", config={}, sources={}) as writer:
        writer.append({"name": "a"}, {"frames": {"joints": _sample(2, 0)}})
        with pytest.raises(ValueError, match=r"field 'frames.joints' got rows of shape \(2, 20, 3\)"):
            writer.append({"name": "b"}, {"frames": {"joints": np.zeros((3, 2, 20, 3), np.float32)}})
        with pytest.raises(ValueError, match="metadata keys"):
            writer.append({"label": 1}, {"frames": {"joints": _sample(2, 0)}})
    assert not (tmp_path / "store").exists()


def test_opening_a_missing_store_names_the_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match="no committed clip store at .*nowhere"):
        ClipStore(tmp_path / "nowhere")


def test_an_empty_store_is_not_committed(tmp_path):
    with ClipStoreWriter(tmp_path / "store", config={}, sources={}) as writer:
        with pytest.raises(ValueError, match="no sample was written"):
            writer.commit()
    assert not os.path.exists(tmp_path / "store")


def test_a_concurrent_identical_build_keeps_the_store_already_in_place(tmp_path):
    _write_store(tmp_path / "store", {"a": [1, 2]}, {"kind": "test"}, lengths=(4, 4, 4))
    first = ClipStore(tmp_path / "store").manifest
    _write_store(tmp_path / "store", {"a": [1, 2]}, {"kind": "test"}, lengths=(1, 1, 1))
    assert list(ClipStore(tmp_path / "store").num_rows("frames")) == [4, 4, 4]
    assert ClipStore(tmp_path / "store").manifest == first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store"]
