"""CAD-120 readers and writers (labels, segments, skeletons, objects, relation file) and the synthetic set."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from datamodules.formats.cad120 import (
    CAD120_SKELETON_VALUES,
    CAD120_SUB_ACTIVITIES,
    CAD120Activity,
    CAD120ObjectTrack,
    CAD120Segment,
    CAD120Skeleton,
    CAD120Video,
    find_cad120_activity_dirs,
    project_to_image,
    read_cad120,
    read_cad120_activity,
    read_cad120_activity_labels,
    read_cad120_labeling,
    read_cad120_objects,
    read_cad120_relations,
    read_cad120_skeleton,
    unproject_from_image,
    write_cad120_activity,
    write_cad120_activity_labels,
    write_cad120_labeling,
    write_cad120_objects,
    write_cad120_relations,
    write_cad120_skeleton,
)
from datamodules.formats.class_names import AG_RELATIONSHIP_CLASSES
from datamodules.formats.errors import CAD120FormatError
from datamodules.synthetic.cad120 import SyntheticCAD120Config, write_synthetic_cad120

VIDEO = "0510175411"


def _skeleton(rng: np.random.Generator, num_frames: int = 5) -> CAD120Skeleton:
    return CAD120Skeleton(
        frames=np.arange(1, num_frames + 1),
        orientation=np.round(rng.normal(size=(num_frames, 11, 3, 3)), 6),
        orientation_confidence=rng.integers(0, 2, (num_frames, 11)).astype(float),
        joints=np.round(rng.normal(0, 500, (num_frames, 15, 3)) + [0, 0, 2500], 4),
        confidence=rng.integers(0, 2, (num_frames, 15)).astype(float),
    )


def _track(rng: np.random.Generator, k: int, num_frames: int = 5) -> CAD120ObjectTrack:
    corner = rng.integers(0, 400, (num_frames, 2))
    boxes = np.concatenate([corner, corner + rng.integers(10, 80, (num_frames, 2))], axis=1).astype(float)
    return CAD120ObjectTrack(
        k, np.arange(1, num_frames + 1), boxes, np.round(rng.normal(size=(num_frames, 6)), 5)
    )


def _video(seed: int = 0, video_id: str = VIDEO) -> CAD120Video:
    rng = np.random.default_rng(seed)
    info = CAD120Activity(video_id, "arranging_objects", 1, ("bowl", "cup"))
    segments = [
        CAD120Segment(video_id, 1, 2, "reaching", ("reachable", "stationary")),
        CAD120Segment(video_id, 3, 5, "moving", ("movable", "stationary")),
    ]
    return CAD120Video(info, segments, _skeleton(rng), [_track(rng, 1), _track(rng, 2)])


def _activity_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "Subject1_annotations" / "arranging_objects"
    write_cad120_activity(folder, [_video(0), _video(1, "0510175412")])
    return folder


# --- round trips ---------------------------------------------------------------------------------------


def test_skeleton_round_trip_keeps_every_value(tmp_path: Path) -> None:
    skeleton = _skeleton(np.random.default_rng(0))
    path = write_cad120_skeleton(tmp_path / f"{VIDEO}.txt", skeleton)
    lines = path.read_text().splitlines()
    assert lines[-1] == "END" and lines[0].endswith(",")
    assert len(lines[0].rstrip(",").split(",")) == CAD120_SKELETON_VALUES == 171
    back = read_cad120_skeleton(path)
    assert back == skeleton
    assert (
        back.joints.shape == (5, 15, 3)
        and back.confidence.shape == (5, 15)
        and back.frames.tolist() == [1, 2, 3, 4, 5]
    )


def test_objects_round_trip_and_empty_file(tmp_path: Path) -> None:
    track = _track(np.random.default_rng(1), 2)
    assert read_cad120_objects(write_cad120_objects(tmp_path / "a_obj2.txt", track)) == track
    empty = tmp_path / "b_obj1.txt"
    empty.write_text("")
    assert read_cad120_objects(empty).frames.shape == (0,)
    assert np.array_equal(track.boxes_at(np.array([2, 9])), np.stack([track.boxes[1], np.zeros(4)]))


def test_label_files_round_trip_and_accept_bare_object_types(tmp_path: Path) -> None:
    video = _video()
    labels = write_cad120_activity_labels(tmp_path / "activityLabel.txt", [video.info])
    assert labels.read_text() == f"{VIDEO},arranging_objects,Subject1,1:bowl,2:cup,\n"
    assert read_cad120_activity_labels(labels) == [video.info]
    labels.write_text(f"{VIDEO},arranging_objects,Subject1,bowl,cup,\n")
    assert read_cad120_activity_labels(labels) == [video.info]
    labeling = write_cad120_labeling(tmp_path / "labeling.txt", video.segments)
    assert read_cad120_labeling(labeling) == video.segments
    assert [s.label for s in video.segments] == [0, 1]


def test_activity_folder_round_trip_and_folder_discovery(tmp_path: Path) -> None:
    nested = tmp_path / "annotations"
    folder = _activity_dir(nested)
    assert read_cad120_activity(folder) == [_video(0), _video(1, "0510175412")]
    assert find_cad120_activity_dirs(nested) == [folder]
    assert find_cad120_activity_dirs(tmp_path) == [folder]  # one level above the SubjectN folders
    assert find_cad120_activity_dirs(folder.parent) == [folder]
    assert [v.video_id for v in read_cad120(tmp_path)] == [VIDEO, "0510175412"]
    with pytest.raises(FileNotFoundError, match="no CAD-120"):
        read_cad120(tmp_path / "elsewhere")


def test_projection_inverts() -> None:
    xyz = np.array([[120.0, -340.0, 2400.0], [0.0, 0.0, 1000.0]])
    uv = project_to_image(xyz)
    assert np.allclose(uv[1], [319.5, 239.5])
    assert uv[0, 0] > 319.5 and uv[0, 1] > 239.5  # right of and below the centre (y up in the camera frame)
    assert np.allclose(unproject_from_image(uv, xyz[:, 2]), xyz)


def test_relation_file_round_trip(tmp_path: Path) -> None:
    path = write_cad120_relations(
        tmp_path / "relations.csv", {(VIDEO, 3, 1): ["holding", "looking_at"], (VIDEO, 4, 2): []}
    )
    relations = read_cad120_relations(path, AG_RELATIONSHIP_CLASSES)
    index = AG_RELATIONSHIP_CLASSES.index
    assert relations == {
        (VIDEO, 3, 1): tuple(sorted((index("holding"), index("looking_at")))),
        (VIDEO, 4, 2): (),
    }


# --- bad input -----------------------------------------------------------------------------------------


def _skeleton_text(tmp_path: Path) -> list[str]:
    return (
        write_cad120_skeleton(tmp_path / f"{VIDEO}.txt", _skeleton(np.random.default_rng(0)))
        .read_text()
        .splitlines()
    )


def _replace_value(line: str, column: int, value: str) -> str:
    values = line.split(",")
    values[column] = value
    return ",".join(values)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda ls: [ls[0], ls[1].rstrip(",").rsplit(",", 1)[0] + ",", *ls[2:]],
            "line 2: expected 171 values for a skeleton frame, got 170",
        ),
        (
            lambda ls: [ls[0], _replace_value(ls[1], 4, "abc"), *ls[2:]],
            "line 2: non-numeric value 'abc' in column 5",
        ),
        (
            lambda ls: [*ls[:2], _replace_value(ls[2], 7, "nan"), *ls[3:]],
            "line 3: non-finite value nan in column 8",
        ),
        (lambda ls: ls[:-1], "line 5: missing the final END line"),
        (lambda ls: [*ls, ls[0]], "line 7: unexpected content after END"),
        (
            lambda ls: [ls[1], ls[0], *ls[2:]],
            "line 2: frame number 1 must be >= 1 and larger than the previous",
        ),
        (lambda ls: [_replace_value(ls[0], 0, "1.5"), *ls[1:]], "line 1: expected an integer frame number"),
    ],
    ids=["value-count", "non-numeric", "nan", "no-end", "after-end", "frame-order", "fractional-frame"],
)
def test_bad_skeleton_files(tmp_path: Path, edit, message: str) -> None:
    path = tmp_path / f"{VIDEO}.txt"
    path.write_text("\n".join(edit(_skeleton_text(tmp_path))) + "\n")
    with pytest.raises(CAD120FormatError, match=f"{VIDEO}.txt {message}"):
        read_cad120_skeleton(path)


def test_missing_files_name_themselves(tmp_path: Path) -> None:
    with pytest.raises(CAD120FormatError, match=f"{VIDEO}.txt: missing file"):
        read_cad120_skeleton(tmp_path / f"{VIDEO}.txt")
    folder = _activity_dir(tmp_path)
    (folder / f"{VIDEO}_obj2.txt").unlink()
    with pytest.raises(CAD120FormatError, match=f"{VIDEO}_obj2.txt: missing file"):
        read_cad120_activity(folder)
    (folder / "labeling.txt").unlink()
    with pytest.raises(CAD120FormatError, match="labeling.txt: missing file"):
        read_cad120_activity(folder)


@pytest.mark.parametrize(
    ("file", "content", "message"),
    [
        (
            "activityLabel.txt",
            f"{VIDEO},arranging_objects,Subject1,1:bowl,2:spoon,",
            "line 1: unknown object type 'spoon' for object 2",
        ),
        ("activityLabel.txt", f"{VIDEO},juggling,Subject1,1:bowl,", "line 1: unknown activity 'juggling'"),
        (
            "activityLabel.txt",
            f"{VIDEO},arranging_objects,Subject2,1:bowl,",
            "line 1: expected the subject Subject1, Subject3",
        ),
        (
            "activityLabel.txt",
            f"{VIDEO},arranging_objects,Subject1,2:bowl,",
            "line 1: object 1 is numbered '2'",
        ),
        (
            "activityLabel.txt",
            f"{VIDEO},arranging_objects\n",
            "line 1: expected 'id,activity,SubjectN,objects...'",
        ),
        (
            "labeling.txt",
            f"{VIDEO},1,4,reaching,a\n{VIDEO},5,9,juggling,a",
            "line 2: unknown sub-activity 'juggling'",
        ),
        (
            "labeling.txt",
            f"{VIDEO},7,4,reaching,a",
            "line 1: expected 1 <= start_frame <= end_frame, got 7, 4",
        ),
        (
            "labeling.txt",
            f"{VIDEO},x,4,reaching,a",
            "line 1: expected the start frame \\(an integer\\), got 'x'",
        ),
        ("a_obj1.txt", "1,1,10,10,20", "line 1: expected frame, object id and 4 box corners"),
        (
            "a_obj1.txt",
            "1,1,10,10,20,20,\n2,1,10,10,20,",
            "line 2: expected 6 values for an object frame, got 5",
        ),
        ("a_obj1.txt", "1,1,10,10,20,20,\n2,3,10,10,20,20,", "line 2: expected the integer object id 1"),
        ("relations.csv", "video,frame,object,relations\n", "line 1: expected the header"),
        (
            "relations.csv",
            f"video_id,frame,object_index,relations\n{VIDEO},1,1,hugging",
            "line 2: unknown relationship 'hugging'",
        ),
        (
            "relations.csv",
            f"video_id,frame,object_index,relations\n{VIDEO},1,0,holding",
            "line 2: frame and object_index are 1-based",
        ),
        (
            "relations.csv",
            f"video_id,frame,object_index,relations\n{VIDEO},1,1,holding\n{VIDEO},1,1,touching",
            "line 3: video 0510175411 frame 1 object 1 already given on line 2",
        ),
    ],
)
def test_bad_text_files(tmp_path: Path, file: str, content: str, message: str) -> None:
    path = tmp_path / file
    path.write_text(content + "\n")
    reader = {
        "activityLabel.txt": read_cad120_activity_labels,
        "labeling.txt": read_cad120_labeling,
        "a_obj1.txt": read_cad120_objects,
        "relations.csv": lambda p: read_cad120_relations(p, AG_RELATIONSHIP_CLASSES),
    }[file]
    with pytest.raises(CAD120FormatError, match=f"{file} {message}"):
        reader(path)


def test_segments_and_objects_must_fit_the_video(tmp_path: Path) -> None:
    folder = _activity_dir(tmp_path)
    labeling = folder / "labeling.txt"
    labeling.write_text(labeling.read_text().replace(f"{VIDEO},3,5,moving", f"{VIDEO},3,9,moving"))
    with pytest.raises(
        CAD120FormatError, match=f"labeling.txt video {VIDEO}, segment 3-9: frames outside the video"
    ):
        read_cad120_activity(folder)
    labeling.write_text(f"{VIDEO},1,2,reaching,reachable\n9999,1,2,reaching,reachable\n")
    with pytest.raises(CAD120FormatError, match="video '9999' is not listed in activityLabel.txt"):
        read_cad120_activity(folder)
    labeling.write_text(f"{VIDEO},1,2,reaching,reachable\n")
    with pytest.raises(CAD120FormatError, match="expected 2 affordances \\(one per object\\), got 1"):
        read_cad120_activity(folder)
    labeling.write_text("")
    objects = folder / f"{VIDEO}_obj1.txt"
    objects.write_text(objects.read_text() + "6,1,1,1,5,5,0,0,0,0,0,0,\n")
    with pytest.raises(
        CAD120FormatError, match=f"{VIDEO}_obj1.txt frame 6: outside the skeleton's frames 1-5"
    ):
        read_cad120_activity(folder)


# --- the synthetic set ---------------------------------------------------------------------------------


def _digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.txt")):
        digest.update(path.relative_to(root).as_posix().encode() + path.read_bytes())
    return digest.hexdigest()


def test_synthetic_set_is_deterministic_and_readable(tmp_path: Path) -> None:
    config = SyntheticCAD120Config(
        activities=("making_cereal", "taking_medicine", "cleaning_objects", "having_meal")
    )
    counts = write_synthetic_cad120(tmp_path / "a", seed=3, config=config)
    write_synthetic_cad120(tmp_path / "b", seed=3, config=config)
    write_synthetic_cad120(tmp_path / "c", seed=4, config=config)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b") != _digest(tmp_path / "c")
    videos = read_cad120(tmp_path / "a")
    assert counts["videos"] == len(videos) == 4 * 4
    assert counts["segments"] == sum(len(v.segments) for v in videos)
    assert {v.info.subject for v in videos} == {1, 3, 4, 5}
    assert {s.sub_activity for v in videos for s in v.segments} == set(CAD120_SUB_ACTIVITIES)
    for video in videos:  # segments tile the video
        bounds = [(s.start_frame, s.end_frame) for s in video.segments]
        assert bounds[0][0] == 1 and bounds[-1][1] == video.skeleton.num_frames
        assert all(end + 1 == start for (_, end), (start, _) in zip(bounds, bounds[1:], strict=False))


def test_synthetic_config_is_checked() -> None:
    with pytest.raises(ValueError, match="activities must be a non-empty subset"):
        SyntheticCAD120Config(activities=("juggling",))
    with pytest.raises(ValueError, match="segment_frames"):
        SyntheticCAD120Config(segment_frames=(2, 1))
