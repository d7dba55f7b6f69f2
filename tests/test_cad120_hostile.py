"""CAD-120 readers attacked with crafted files: every failure is a CAD120FormatError naming file and line.

Truncated lines, non-numeric fields, huge numbers and digit strings, NaN / inf and values beyond float32's
range (finite in float64, inf once stored), wrong column counts, NUL bytes and non-ASCII text.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from datamodules.cad120_datamodule import CAD120DataModule
from datamodules.cad120_tokens import cad120_tokens
from datamodules.formats.cad120 import (
    CAD120_SKELETON_VALUES,
    CAD120Activity,
    CAD120ObjectTrack,
    CAD120Skeleton,
    CAD120Video,
    read_cad120_activity_labels,
    read_cad120_labeling,
    read_cad120_objects,
    read_cad120_relations,
    read_cad120_skeleton,
)
from datamodules.formats.class_names import AG_RELATIONSHIP_CLASSES
from datamodules.formats.errors import CAD120FormatError
from datamodules.synthetic.cad120 import SyntheticCAD120Config, write_synthetic_cad120

VIDEO = "0510175411"
_ROW = ["0.5"] * (CAD120_SKELETON_VALUES - 1)


def _frame(number: str = "1", column: int | None = None, value: str = "") -> str:
    values = [number, *_ROW]
    if column is not None:
        values[column - 1] = value
    return ",".join(values) + ","


FLOAT32_LIMIT = r"expected a finite number within \+-3.403e\+38"
SKELETONS = {
    "truncated-line": (
        [_frame(), _frame("2")[:40], "END"],
        r"line 2: expected 171 values for a skeleton frame, got 11",
    ),
    "truncated-file": ([_frame(), _frame("2")[:40]], "line 2: missing the final END line"),
    "extra-column": ([_frame() + "1,", "END"], "line 1: expected 171 values for a skeleton frame, got 172"),
    "missing-column": (
        [_frame()[: -len("0.5,")], "END"],
        "line 1: expected 171 values for a skeleton frame, got 170",
    ),
    "word": ([_frame(column=9, value="abc"), "END"], "line 1: non-numeric value 'abc' in column 9"),
    "empty-field": ([_frame(column=9, value=""), "END"], "line 1: non-numeric value '' in column 9"),
    "underscore": ([_frame(column=9, value="1_0"), "END"], "line 1: non-numeric value '1_0' in column 9"),
    "hex": ([_frame(column=9, value="0x10"), "END"], "line 1: non-numeric value '0x10' in column 9"),
    "nul": ([_frame(column=9, value="1\x002"), "END"], r"line 1: non-numeric value '1\\x002' in column 9"),
    "nan": (
        [_frame(column=9, value="nan"), "END"],
        f"line 1: non-finite value nan in column 9 .*{FLOAT32_LIMIT}",
    ),
    "inf": ([_frame(column=9, value="-inf"), "END"], "line 1: non-finite value -inf in column 9"),
    "1e400": ([_frame(column=9, value="1e400"), "END"], "line 1: non-finite value inf in column 9"),
    "above-float32": (
        [_frame(column=9, value="3.5e38"), "END"],
        f"line 1: value beyond float32 range 3.5e\\+38 in column 9 .*{FLOAT32_LIMIT}",
    ),
    "1e308": (
        [_frame(column=12, value="-1e308"), "END"],
        "line 1: value beyond float32 range -1e\\+308 in column 12",
    ),
    "5000-digits": ([_frame(column=9, value="9" * 5000), "END"], "line 1: non-finite value inf in column 9"),
    "huge-frame": ([_frame("1e30"), "END"], "line 1: expected an integer frame number of at most 2147483647"),
    "int64-frame": (
        [_frame("9223372036854775808"), "END"],
        "line 1: expected an integer frame number of at most",
    ),
    "nan-frame": ([_frame("nan"), "END"], "line 1: non-finite value nan in column 1"),
    "zero-frame": ([_frame("0"), "END"], "line 1: frame number 0 must be >= 1"),
    "repeated-frame": ([_frame(), _frame(), "END"], "line 2: frame number 1 must be >= 1 and larger"),
    "after-end": ([_frame(), "END", _frame("2")], "line 3: unexpected content after END"),
}


@pytest.mark.parametrize(("lines", "message"), SKELETONS.values(), ids=SKELETONS.keys())
def test_hostile_skeleton_files(tmp_path: Path, lines: list[str], message: str) -> None:
    path = tmp_path / f"{VIDEO}.txt"
    path.write_bytes(("\n".join(lines) + "\n").encode("ascii"))
    with pytest.raises(CAD120FormatError, match=f"{VIDEO}.txt {message}"):
        read_cad120_skeleton(path)


OBJECTS = {
    "five-values": ("1,1,10,10,20,\n", "line 1: expected frame, object id and 4 box corners"),
    "count-changes": (
        "1,1,10,10,20,20,0.1,\n2,1,10,10,20,20,\n",
        "line 2: expected 7 values for an object frame, got 6",
    ),
    "word": ("1,1,10,ten,20,20,\n", "line 1: non-numeric value 'ten' in column 4"),
    "nan-box": ("1,1,nan,10,20,20,\n", "line 1: non-finite value nan in column 3"),
    "huge-box": ("1,1,1e39,10,20,20,\n", "line 1: value beyond float32 range 1e\\+39 in column 3"),
    "huge-transform": ("1,1,10,10,20,20,1e300,\n", "line 1: value beyond float32 range 1e\\+300 in column 7"),
    "huge-id": (
        "1,1e30,10,10,20,20,\n",
        "line 1: expected an integer object id in 0..2147483647, got 1e\\+30",
    ),
    "negative-id": ("1,-1,10,10,20,20,\n", "line 1: expected an integer object id in 0..2147483647, got -1"),
    "id-changes": (
        "1,1,10,10,20,20,\n2,2,10,10,20,20,\n",
        "line 2: expected the integer object id 1 of line 1",
    ),
    "fractional-frame": ("1.5,1,10,10,20,20,\n", "line 1: expected an integer frame number"),
    "frames-go-back": (
        "3,1,10,10,20,20,\n2,1,10,10,20,20,\n",
        "line 2: frame number 2 must be >= 1 and larger",
    ),
}


@pytest.mark.parametrize(("text", "message"), OBJECTS.values(), ids=OBJECTS.keys())
def test_hostile_object_files(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / f"{VIDEO}_obj1.txt"
    path.write_text(text)
    with pytest.raises(CAD120FormatError, match=f"{VIDEO}_obj1.txt {message}"):
        read_cad120_objects(path)


HEADER = "video_id,frame,object_index,relations\n"
TEXT_FILES = {
    "labels-subject-digits": (
        "activityLabel.txt",
        f"{VIDEO},making_cereal,Subject{'1' * 5000},1:bowl,\n",
        "line 1: expected the subject Subject1, Subject3, Subject4, Subject5, got 'Subject111",
    ),
    "labels-object-number-digits": (
        "activityLabel.txt",
        f"{VIDEO},making_cereal,Subject1,{'9' * 5000}:bowl,\n",
        "line 1: object 1 is numbered '999",
    ),
    "labels-nul": ("activityLabel.txt", f"{VIDEO},making\x00cereal,Subject1,\n", "line 1: unknown activity"),
    "labels-non-ascii": (
        "activityLabel.txt",
        f"{VIDEO},making_cereal,Subject1,1:bowl\u00e9,\n",
        "line 1: expected ASCII text, got byte 0xc3 in column 41",
    ),
    "labels-truncated": (
        "activityLabel.txt",
        f"{VIDEO},making_cer",
        "line 1: expected 'id,activity,SubjectN",
    ),
    "labeling-digits": (
        "labeling.txt",
        f"{VIDEO},{'9' * 5000},4,reaching\n",
        "line 1: expected the start frame of at most 2147483647",
    ),
    "labeling-beyond-int32": (
        "labeling.txt",
        f"{VIDEO},1,3000000000,reaching\n",
        "line 1: expected the end frame of at most",
    ),
    "labeling-float": (
        "labeling.txt",
        f"{VIDEO},1.0,4,reaching\n",
        r"line 1: expected the start frame \(an integer\)",
    ),
    "labeling-truncated": ("labeling.txt", f"{VIDEO},1,4", "line 1: expected 'id,start_frame,end_frame"),
    "relations-digits": (
        "relations.csv",
        f"{HEADER}{VIDEO},{'9' * 5000},1,holding\n",
        "line 2: expected the frame number of at most 2147483647",
    ),
    "relations-bom": (
        "relations.csv",
        f"\ufeff{HEADER}",
        "line 1: expected ASCII text, got byte 0xef in column 1",
    ),
    "relations-truncated": ("relations.csv", f"{HEADER}{VIDEO},1", "line 2: expected 4 fields"),
}


@pytest.mark.parametrize(("name", "text", "message"), TEXT_FILES.values(), ids=TEXT_FILES.keys())
def test_hostile_text_files(tmp_path: Path, name: str, text: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    read = {
        "activityLabel.txt": read_cad120_activity_labels,
        "labeling.txt": read_cad120_labeling,
        "relations.csv": lambda p: read_cad120_relations(p, AG_RELATIONSHIP_CLASSES),
    }[name]
    with pytest.raises(CAD120FormatError, match=f"{name} {message}"):
        read(path)


def test_extreme_values_within_float32_give_finite_tokens() -> None:
    """The largest values the readers admit still give finite float32 features and boxes."""
    big = float(np.finfo(np.float32).max)
    frames = np.arange(1, 4)
    joints = np.full((3, 15, 3), big)
    joints[1] *= -1
    joints[2, :, 2] = 0.0  # zero depth: an untracked joint
    skeleton = CAD120Skeleton(frames, np.zeros((3, 11, 3, 3)), np.ones((3, 11)), joints, np.ones((3, 15)))
    boxes = np.array([[-big, -big, big, big], [0, 0, big, big], [10, 10, 20, 20]])
    video = CAD120Video(
        CAD120Activity(VIDEO, "making_cereal", 1, ("bowl",)),
        [],
        skeleton,
        [CAD120ObjectTrack(1, frames, boxes)],
    )
    tokens = cad120_tokens(video)
    tables = tokens.segment_tables(1, 3)
    for group in tables.values():
        for name, values in group.items():
            assert np.isfinite(np.asarray(values, np.float64)).all(), name


def test_skip_leaves_out_a_video_with_a_value_beyond_float32(tmp_path: Path) -> None:
    write_synthetic_cad120(tmp_path, seed=0, config=SyntheticCAD120Config(activities=("making_cereal",)))
    folder = tmp_path / "Subject1_annotations" / "making_cereal"
    video_id = (folder / "activityLabel.txt").read_text().split(",", 1)[0]
    skeleton = folder / f"{video_id}.txt"
    lines = skeleton.read_text().splitlines()
    values = lines[0].split(",")
    values[12] = "3.5e38"
    skeleton.write_text("\n".join([",".join(values), *lines[1:]]) + "\n")
    with pytest.raises(CAD120FormatError, match=f"{video_id}.txt line 1: value beyond float32 range"):
        CAD120DataModule(tmp_path, cache_dir=tmp_path / "raise").prepare_data()
    data = CAD120DataModule(tmp_path, on_bad_sample="skip", batch_size=1, cache_dir=tmp_path / "skip")
    data.prepare_data()
    data.setup("fit")
    assert [record["source"] for record in data.store.skipped] == [
        f"Subject1_annotations/making_cereal/{video_id}.txt"
    ]
    batch = next(iter(data.train_dataloader()))
    floats = [value for value in batch.values() if torch.is_tensor(value) and value.is_floating_point()]
    assert floats and all(torch.isfinite(value).all() for value in floats)
