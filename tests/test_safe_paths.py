"""Ids that become file names (CAD-120 video ids, Action Genome video ids): the pattern and the root rule.

Every case crafts the hostile file in the test: traversal, absolute, NUL and over-long ids, and symlinks
that point outside the folder they must stay in.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from datamodules.cad120_datamodule import CAD120DataModule
from datamodules.formats.action_genome import (
    OBJECT_BBOX_FILE,
    PERSON_BBOX_FILE,
    parse_frame_key,
    read_action_genome,
)
from datamodules.formats.box_features import box_feature_path
from datamodules.formats.cad120 import read_cad120, read_cad120_activity_labels
from datamodules.formats.errors import ActionGenomeFormatError, BoxFeatureFormatError, CAD120FormatError
from datamodules.formats.safe_paths import SAFE_ID_PATTERN, id_problem
from datamodules.scene_graph_datamodule import ActionGenomeDataModule
from datamodules.synthetic.cad120 import SyntheticCAD120Config, write_synthetic_cad120
from datamodules.synthetic.scene_graphs import write_synthetic_scene_graphs

HOSTILE_IDS = {
    "traversal": "../../../outside/stolen",
    "dot-dot": "..",
    "dot": ".",
    "absolute": "/etc/passwd",
    "backslash": "..\\..\\outside",
    "nul": "0510175411\x00.txt",
    "newline": "0510175411\n",
    "space": "05101 75411",
    "empty": "",
    "dash-first": "-rf",
    "over-long": "1" * 129,
}


@pytest.mark.parametrize("value", ["0510175411", "001YG", "001YG.mp4", "a_b-c.d", "X" * 128])
def test_real_ids_pass(value: str) -> None:
    assert SAFE_ID_PATTERN.fullmatch(value) and id_problem(value) is None


@pytest.mark.parametrize("value", HOSTILE_IDS.values(), ids=HOSTILE_IDS.keys())
def test_hostile_ids_are_refused(value: str) -> None:
    assert id_problem(value) is not None
    assert id_problem(123) is not None  # not even a string


# --- CAD-120 ---------------------------------------------------------------------------------------------


@pytest.fixture()
def cad120_root(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    write_synthetic_cad120(root, seed=0, config=SyntheticCAD120Config(activities=("making_cereal",)))
    return root


def _labels(root: Path) -> Path:
    return root / "Subject1_annotations" / "making_cereal" / "activityLabel.txt"


def _replace_first_id(labels: Path, new_id: str) -> str:
    text = labels.read_text()
    old_id = text.split(",", 1)[0]
    labels.write_text(text.replace(old_id, new_id))
    return old_id


@pytest.mark.parametrize("key", ["traversal", "absolute", "nul", "over-long", "dot-dot", "backslash"])
def test_cad120_id_that_cannot_name_a_file(cad120_root: Path, key: str) -> None:
    labels = _labels(cad120_root)
    outside = cad120_root.parent / "outside"
    outside.mkdir()
    (outside / "stolen.txt").write_text("secret\n")
    _replace_first_id(labels, HOSTILE_IDS[key])
    shown = repr(HOSTILE_IDS[key])[:20]
    with pytest.raises(
        CAD120FormatError, match=r"activityLabel.txt line 1: video id .* cannot name a file"
    ) as info:
        read_cad120_activity_labels(labels)
    assert shown in str(info.value)
    with pytest.raises(CAD120FormatError, match="cannot name a file"):
        CAD120DataModule(cad120_root, on_bad_sample="skip").prepare_data()  # label files always raise


def test_cad120_skeleton_symlink_out_of_the_folder(cad120_root: Path, tmp_path: Path) -> None:
    labels = _labels(cad120_root)
    video_id = labels.read_text().split(",", 1)[0]
    skeleton = labels.parent / f"{video_id}.txt"
    stolen = tmp_path / "stolen.txt"
    stolen.write_bytes(skeleton.read_bytes())  # a valid skeleton, so only the location is wrong
    skeleton.unlink()
    skeleton.symlink_to(stolen)
    with pytest.raises(
        CAD120FormatError,
        match=rf"activityLabel.txt line 1: video id '{video_id}' names {video_id}.txt, which resolves to "
        rf".*stolen.txt, outside",
    ):
        read_cad120(cad120_root)
    with pytest.raises(CAD120FormatError, match="outside"):
        CAD120DataModule(cad120_root, on_bad_sample="skip").prepare_data()


def test_cad120_object_symlink_out_of_the_folder(cad120_root: Path, tmp_path: Path) -> None:
    labels = _labels(cad120_root)
    video_id = labels.read_text().split(",", 1)[0]
    track = labels.parent / f"{video_id}_obj1.txt"
    stolen = tmp_path / "track.txt"
    stolen.write_bytes(track.read_bytes())
    track.unlink()
    track.symlink_to(stolen)
    with pytest.raises(CAD120FormatError, match=rf"line 1: video id '{video_id}' names {video_id}_obj1.txt"):
        read_cad120_activity_labels(labels)


def test_cad120_symlink_loop_is_a_format_error(cad120_root: Path) -> None:
    labels = _labels(cad120_root)
    video_id = labels.read_text().split(",", 1)[0]
    skeleton = labels.parent / f"{video_id}.txt"
    skeleton.unlink()
    loop = labels.parent / "loop.txt"
    skeleton.symlink_to(loop)
    loop.symlink_to(skeleton)
    with pytest.raises(CAD120FormatError, match=f"line 1: video id '{video_id}' names {video_id}.txt"):
        read_cad120_activity_labels(labels)
    with pytest.raises(CAD120FormatError, match="cannot be resolved"):
        CAD120DataModule(cad120_root).prepare_data()


def test_cad120_symlinks_inside_the_folder_and_a_symlinked_data_root_are_fine(
    cad120_root: Path, tmp_path: Path
) -> None:
    expected = read_cad120(cad120_root)
    labels = _labels(cad120_root)
    video_id = labels.read_text().split(",", 1)[0]
    skeleton = labels.parent / f"{video_id}.txt"
    kept = labels.parent / "kept" / "skeleton.txt"
    kept.parent.mkdir()
    skeleton.rename(kept)
    skeleton.symlink_to(kept)
    link = tmp_path / "linked_root"
    link.symlink_to(cad120_root)
    assert read_cad120(link) == expected


# --- Action Genome video ids -> features/<VIDEO_ID>.npz -----------------------------------------------


@pytest.fixture()
def ag_root(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    write_synthetic_scene_graphs(root, seed=0, num_videos=4, feature_dim=4)
    return root


@pytest.mark.parametrize("video", ["..", "a\x00b", "1" * 129, ".hidden"])
def test_action_genome_video_id_that_cannot_name_a_file(ag_root: Path, video: str) -> None:
    annotations = ag_root / "action_genome" / "annotations"
    for name in (PERSON_BBOX_FILE, OBJECT_BBOX_FILE):
        table = pickle.loads((annotations / name).read_bytes())
        key = next(iter(table))
        table[f"{video}.mp4/{key.split('/')[1]}"] = table.pop(key)
        (annotations / name).write_bytes(pickle.dumps(table, protocol=4))
    with pytest.raises(
        ActionGenomeFormatError, match=rf"{PERSON_BBOX_FILE} key .*: the video id of frame key .* cannot name"
    ):
        read_action_genome(annotations)
    with pytest.raises(ValueError, match="cannot name a file"):
        parse_frame_key(f"{video}.mp4/000001.png")


def test_box_feature_symlink_out_of_the_features_folder(ag_root: Path, tmp_path: Path) -> None:
    features = ag_root / "action_genome" / "features"
    path = sorted(features.glob("*.npz"))[0]
    stolen = tmp_path / "stolen.npz"
    stolen.write_bytes(path.read_bytes())
    path.unlink()
    path.symlink_to(stolen)
    with pytest.raises(BoxFeatureFormatError, match=rf"features video '{path.stem}': video id .* outside"):
        box_feature_path(features, path.stem)
    with pytest.raises(BoxFeatureFormatError, match="outside"):  # always raises, even under skip
        ActionGenomeDataModule(ag_root, on_bad_sample="skip").prepare_data()
    with pytest.raises(BoxFeatureFormatError, match="outside"):  # the feature size is not read from it
        _ = ActionGenomeDataModule(ag_root).feature_dim
    with pytest.raises(BoxFeatureFormatError, match="cannot name a file"):
        box_feature_path(features, "../stolen")
