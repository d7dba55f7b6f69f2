"""Action Genome annotations: round trip, the released files' quirks, and every malformed input."""

from __future__ import annotations

import math
import pickle
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from datamodules.formats.action_genome import (
    ActionGenomeAnnotations,
    AGFrame,
    AGObject,
    parse_frame_key,
    read_action_genome,
    read_action_genome_classes,
    write_action_genome,
)
from datamodules.formats.class_names import (
    AG_ATTENTION_RELATIONSHIPS,
    AG_CONTACTING_RELATIONSHIPS,
    AG_OBJECT_CLASSES,
    AG_RELATIONSHIP_CLASSES,
    AG_SPATIAL_RELATIONSHIPS,
    normalise_class_name,
)
from datamodules.formats.errors import ActionGenomeFormatError, UnsafePickleError

# The released class files, byte for byte: '/' and '_' stripped, one trailing space, no final newline.
OFFICIAL_OBJECT_CLASSES = (
    "person\nbag\nbed\nblanket\nbook\nbox\nbroom\nchair\nclosetcabinet \nclothes\ncupglassbottle\n"
    "dish\ndoor\n"
    "doorknob\ndoorway\nfloor\nfood\ngroceries\nlaptop\nlight\nmedicine\nmirror\npapernotebook\nphonecamera\n"
    "picture\npillow\nrefrigerator\nsandwich\nshelf\nshoe\nsofacouch\ntable\ntelevision\ntowel\nvacuum\nwindow"
)
OFFICIAL_RELATIONSHIP_CLASSES = (
    "lookingat\nnotlookingat\nunsure\nabove\nbeneath\ninfrontof\nbehind\nonthesideof\nin\ncarrying\ncoveredby\n"
    "drinkingfrom\neating\nhaveitontheback\nholding\nleaningon\nlyingon\nnotcontacting\notherrelationship\n"
    "sittingon\nstandingon\ntouching\ntwisting\nwearing\nwiping\nwritingon"
)


def _rel(*names: str) -> tuple[int, ...]:
    return tuple(sorted(AG_RELATIONSHIP_CLASSES.index(n) for n in names))


def _obj(name: str) -> int:
    return AG_OBJECT_CLASSES.index(name)


def _annotations() -> ActionGenomeAnnotations:
    cup = AGObject(
        _obj("cup/glass/bottle"),
        (10.0, 20.5, 50.0, 60.0),
        _rel("looking_at", "in_front_of", "holding"),
        True,
        "train",
    )
    closet = AGObject(_obj("closet/cabinet"), None, (), False, "train")
    chair = AGObject(
        _obj("chair"),
        (0.0, 100.0, 200.0, 269.5),
        _rel("unsure", "beneath", "behind", "sitting_on", "leaning_on"),
        True,
        "test",
    )
    return ActionGenomeAnnotations(
        list(AG_OBJECT_CLASSES),
        list(AG_RELATIONSHIP_CLASSES),
        {
            "001YG": [
                AGFrame("001YG.mp4/000089.png", 89, (480, 270), (24.5, 71.0, 259.0, 268.25), [cup, closet]),
                AGFrame("001YG.mp4/000264.png", 264, (480, 270), None, [cup]),
            ],
            "50N4E": [AGFrame("50N4E.mp4/000682.png", 682, (480, 360), (1.0, 2.0, 3.0, 4.0), [chair])],
        },
    )


@pytest.fixture()
def written(tmp_path: Path) -> Path:
    write_action_genome(tmp_path, _annotations())
    return tmp_path


def test_round_trip_is_identical(written: Path) -> None:
    read = read_action_genome(written)
    assert read == _annotations()
    assert read.split_of("001YG") == "train" and read.split_of("50N4E") == "test"
    assert read.video_ids("test") == ["50N4E"]
    assert read.videos["001YG"][0].video_id == "001YG"


def test_writer_produces_the_released_class_files_and_layout(written: Path) -> None:
    assert (written / "object_classes.txt").read_text() == OFFICIAL_OBJECT_CLASSES
    assert (written / "relationship_classes.txt").read_text() == OFFICIAL_RELATIONSHIP_CLASSES
    with (written / "person_bbox.pkl").open("rb") as handle:
        persons = pickle.load(handle)
    with (written / "object_bbox_and_relationship.pkl").open("rb") as handle:
        objects = pickle.load(handle)
    person = persons["001YG.mp4/000089.png"]
    assert person["bbox"].dtype == np.float32 and person["bbox"].shape == (1, 4)
    assert person["bbox_size"] == (480, 270) and person["bbox_mode"] == "xyxy"
    assert person["keypoints"].shape == (1, 17, 3) and person["keypoints_logits"].shape == (1, 17)
    assert persons["001YG.mp4/000264.png"]["bbox"].shape == (0, 4)
    cup, closet = objects["001YG.mp4/000089.png"]
    assert cup["class"] == "cup/glass/bottle" and cup["bbox"] == (10.0, 20.5, 40.0, 39.5)  # xywh
    assert cup["attention_relationship"] == ["looking_at"] and cup["contacting_relationship"] == ["holding"]
    assert cup["metadata"] == {"tag": "001YG.mp4/cup_glass_bottle/000089", "set": "train"}
    assert closet["bbox"] is None and closet["spatial_relationship"] is None and closet["visible"] is False
    assert (written / "frame_list.txt").read_text().splitlines() == sorted(persons)


def test_reads_a_file_as_released(tmp_path: Path) -> None:
    (tmp_path / "object_classes.txt").write_text(OFFICIAL_OBJECT_CLASSES)
    (tmp_path / "relationship_classes.txt").write_text(OFFICIAL_RELATIONSHIP_CLASSES)
    key = "001YG.mp4/000089.png"
    persons = {
        key: {
            "bbox": np.array([[24.3, 71.4, 259.2, 268.2], [1.0, 1.0, 5.0, 5.0]], np.float32),
            "bbox_score": np.array([0.5, 0.99], np.float32),
            "bbox_size": (480, 270),
            "bbox_mode": "xyxy",
            "keypoints": np.zeros((2, 17, 3), np.float32),
            "keypoints_logits": np.zeros((2, 17), np.float32),
        }
    }
    objects = {
        key: [
            {
                "class": "table",
                "bbox": (222.1, 143.8, 257.7, 101.1),
                "attention_relationship": ["unsure"],
                "spatial_relationship": ["in_front_of"],
                "contacting_relationship": ["not_contacting"],
                "metadata": {"tag": "001YG.mp4/table/000089", "set": "train"},
                "visible": True,
            },
            {
                "class": "sofa/couch",
                "bbox": np.array([56.0, 179.0, 192.0, 90.0]),
                "attention_relationship": ["not_looking_at"],
                "spatial_relationship": ["beneath", "behind"],
                "contacting_relationship": ["sitting_on", "leaning_on"],
                "metadata": {"tag": "001YG.mp4/sofa_couch/000089", "set": "train"},
                "visible": True,
            },
            {
                "class": "closet/cabinet",
                "bbox": None,
                "attention_relationship": None,
                "spatial_relationship": None,
                "contacting_relationship": None,
                "metadata": {"tag": "001YG.mp4/closet_cabinet/000089", "set": "train"},
                "visible": False,
            },
        ]
    }
    _dump(tmp_path / "person_bbox.pkl", persons)
    _dump(tmp_path / "object_bbox_and_relationship.pkl", objects)
    read = read_action_genome(tmp_path)
    assert read.object_classes == list(AG_OBJECT_CLASSES)
    assert read.relationship_classes == list(AG_RELATIONSHIP_CLASSES)
    (frame,) = read.videos["001YG"]
    assert frame.frame_index == 89 and frame.frame_size == (480, 270)
    assert frame.person_box == (1.0, 1.0, 5.0, 5.0)  # the higher-scoring detection
    table, sofa, closet = frame.objects
    assert table.class_index == 31 and table.box_xyxy == pytest.approx((222.1, 143.8, 479.8, 244.9))
    assert table.relation_indices == _rel("unsure", "in_front_of", "not_contacting")
    assert sofa.class_index == 30 and sofa.box_xyxy == (56.0, 179.0, 248.0, 269.0)
    assert sofa.relation_indices == _rel("not_looking_at", "beneath", "behind", "sitting_on", "leaning_on")
    assert closet == AGObject(8, None, (), False, "train")


def test_class_files_tolerate_a_final_newline(written: Path) -> None:
    (written / "object_classes.txt").write_text(OFFICIAL_OBJECT_CLASSES + "\n")
    assert read_action_genome(written).object_classes == list(AG_OBJECT_CLASSES)


def test_normalise_class_name() -> None:
    assert normalise_class_name("closetcabinet ") == normalise_class_name("closet/cabinet") == "closetcabinet"
    assert normalise_class_name("On_The_Side_Of") == "onthesideof"


def test_parse_frame_key() -> None:
    assert parse_frame_key("ABC12.mp4/000123.png") == ("ABC12", 123)
    with pytest.raises(
        ValueError, match=r"expected a frame key 'VIDEO.mp4/FRAME.png', got 'ABC12/000123.png'"
    ):
        parse_frame_key("ABC12/000123.png")


KEY = "001YG.mp4/000089.png"


def _set_object(field: str, value: object) -> Callable[[dict, dict], None]:
    def mutate(persons: dict, objects: dict) -> None:
        objects[KEY][0][field] = value

    return mutate


def _set_person(field: str, value: object) -> Callable[[dict, dict], None]:
    def mutate(persons: dict, objects: dict) -> None:
        persons[KEY][field] = value

    return mutate


def _rename_key(persons: dict, objects: dict) -> None:
    for table in (persons, objects):
        table["001YG/000089.png"] = table.pop(KEY)


def _drop_object_key(persons: dict, objects: dict) -> None:
    del objects[KEY]


def _mix_splits(persons: dict, objects: dict) -> None:
    objects["001YG.mp4/000264.png"][0]["metadata"] = {"tag": "x", "set": "test"}


BAD_PICKLES = [
    (
        _set_object("class", "spaceship"),
        r"object_bbox_and_relationship.pkl key '001YG.mp4/000089.png', object 0: "
        r"unknown object class 'spaceship'",
    ),
    (
        _set_object("contacting_relationship", ["juggling"]),
        r"object 0: unknown relationship 'juggling' in 'contacting_relationship'",
    ),
    (
        _set_object("spatial_relationship", "above"),
        r"expected 'spatial_relationship' a list of names or None, got str",
    ),
    (
        _set_object("bbox", (1.0, 2.0, 3.0)),
        r"object 0: expected 'bbox' \(x, y, w, h\), got \(1.0, 2.0, 3.0\)",
    ),
    (
        _set_object("bbox", (1.0, math.nan, 3.0, 4.0)),
        r"expected finite 'bbox' \(x, y, w, h\) with w, h >= 0, got \(1.0, nan",
    ),
    (_set_object("bbox", (1.0, 2.0, -3.0, 4.0)), r"with w, h >= 0"),
    (_set_object("bbox", None), r"object 0: expected a 'bbox' for a visible object, got None"),
    (_set_object("visible", "yes"), r"expected 'visible' True/False, got 'yes'"),
    (
        _set_object("metadata", {"tag": "x", "set": "val"}),
        r"expected metadata 'set' 'train' or 'test', got 'val'",
    ),
    (
        _set_person("bbox", np.zeros((4,), np.float32)),
        r"person_bbox.pkl key '001YG.mp4/000089.png': "
        r"expected person 'bbox' of shape \(N, 4\), got float32 \(4,\)",
    ),
    (
        _set_person("bbox", np.array([[1, 2, math.nan, 4]], np.float32)),
        r"person_bbox.pkl key '001YG.mp4/000089.png': expected finite person 'bbox', got NaN",
    ),
    (_set_person("bbox_size", (480,)), r"expected bbox_size \(width, height\) > 0, got \(480,\)"),
    (_set_person("bbox_mode", "xywh"), r"expected bbox_mode 'xyxy', got 'xywh'"),
    # hostile values that numpy or a comparison would turn into an untyped error
    (_set_person("bbox_mode", np.array(["xyxy", "xywh"])), r"expected bbox_mode 'xyxy', got array"),
    (
        _set_person("bbox", [[1, 2, 3, 4], [1, 2]]),
        r"expected person 'bbox' of shape \(N, 4\), got a non-numeric",
    ),
    (
        _set_person("bbox", np.array([["a", "b", "c", "d"]])),
        r"expected person 'bbox' .*got a non-numeric value",
    ),
    (_set_person("bbox", np.ones((1, 4), np.complex64)), r"expected person 'bbox' .*got a non-numeric value"),
    (_set_person("bbox", np.ones((1, 4), bool)), r"expected person 'bbox' .*got a non-numeric value"),
    (
        _set_object("bbox", (1.0, 2.0, 10**400, 4.0)),
        r"object 0: expected 'bbox' \(x, y, w, h\), got \(1.0, 2.0, 1000",
    ),
    (_set_object("bbox", ("1", "2", "3", "4")), r"object 0: expected 'bbox' \(x, y, w, h\)"),
    (_set_object("bbox", {"x": 1}), r"object 0: expected 'bbox' \(x, y, w, h\)"),
    (
        _set_object("metadata", {"set": np.array(["train", "test"])}),
        r"expected metadata 'set' 'train' or 'test'",
    ),
    (_set_object("class", ["cup"]), r"unknown object class \['cup'\]"),
    (_rename_key, r"person_bbox.pkl key '001YG/000089.png': expected a frame key 'VIDEO.mp4/FRAME.png'"),
    (
        _drop_object_key,
        r"object_bbox_and_relationship.pkl key '001YG.mp4/000089.png': missing; it is in person_bbox.pkl",
    ),
    (
        _mix_splits,
        r"video '001YG': expected its objects to share one metadata 'set', got \['test', 'train'\]",
    ),
]


@pytest.mark.parametrize(("mutate", "message"), BAD_PICKLES)
def test_malformed_pickles_are_named(
    written: Path, mutate: Callable[[dict, dict], None], message: str
) -> None:
    persons = _load(written / "person_bbox.pkl")
    objects = _load(written / "object_bbox_and_relationship.pkl")
    mutate(persons, objects)
    _dump(written / "person_bbox.pkl", persons)
    _dump(written / "object_bbox_and_relationship.pkl", objects)
    with pytest.raises(ActionGenomeFormatError, match=message):
        read_action_genome(written)


def test_pickle_of_the_wrong_type(written: Path) -> None:
    _dump(written / "person_bbox.pkl", [1, 2])
    with pytest.raises(
        ActionGenomeFormatError, match=r"person_bbox.pkl: expected a dict of frame keys, got list"
    ):
        read_action_genome(written)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("person\n\nbag", r"object_classes.txt line 2: expected a class name, got an empty line"),
        ("person\nbag\nBag", r"object_classes.txt line 3: class 'Bag' already given on line 2"),
        ("", r"object_classes.txt: expected one class name a line, got an empty file"),
    ],
)
def test_malformed_class_file(written: Path, content: str, message: str) -> None:
    (written / "object_classes.txt").write_text(content)
    with pytest.raises(ActionGenomeFormatError, match=message):
        read_action_genome(written)


def test_unknown_class_after_a_shorter_class_file(written: Path) -> None:
    (written / "object_classes.txt").write_text("person\nbag")
    with pytest.raises(
        ActionGenomeFormatError,
        match=r"unknown object class 'cup/glass/bottle'; expected one of object_classes.txt",
    ):
        read_action_genome(written)


def test_truncated_pickle_is_a_format_error(written: Path) -> None:
    path = written / "object_bbox_and_relationship.pkl"
    path.write_bytes(path.read_bytes()[:50])
    with pytest.raises(
        ActionGenomeFormatError, match=r"object_bbox_and_relationship.pkl: not a readable pickle"
    ):
        read_action_genome(written)


class _Exploit:
    def __reduce__(self):
        import os

        return (os.system, ("touch pwned",))


def test_malicious_pickle_is_refused(written: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(written)
    _dump(written / "person_bbox.pkl", {KEY: _Exploit()})
    with pytest.raises(UnsafePickleError, match=r"refusing to load global '(posix|os|nt)\.system'"):
        read_action_genome(written)
    assert not (written / "pwned").exists()


def test_writer_rejects_a_non_action_genome_relationship(tmp_path: Path) -> None:
    annotations = _annotations()
    annotations.relationship_classes[0] = "juggling"
    with pytest.raises(ValueError, match=r"unknown Action Genome relationship 'juggling'"):
        write_action_genome(tmp_path, annotations)


def _load(path: Path) -> dict:
    with path.open("rb") as handle:
        return pickle.load(handle)


def _dump(path: Path, value: object) -> None:
    with path.open("wb") as handle:
        pickle.dump(value, handle, protocol=4)


def test_two_people_need_finite_numeric_scores(written: Path) -> None:
    persons = _load(written / "person_bbox.pkl")
    key = next(iter(persons))
    persons[key]["bbox"] = np.array([[1, 2, 3, 4], [5, 6, 7, 8]], np.float32)
    for scores in (np.array(["a", "b"]), np.array([0.5, np.nan], np.float32), [[0.1], [0.2, 0.3]]):
        persons[key]["bbox_score"] = scores
        _dump(written / "person_bbox.pkl", persons)
        with pytest.raises(ActionGenomeFormatError, match=r"expected finite 'bbox_score' of shape \(2,\)"):
            read_action_genome(written)


def test_class_file_that_is_not_utf8(written: Path) -> None:
    (written / "object_classes.txt").write_bytes(b"person\n\xff\xfebag")
    with pytest.raises(ActionGenomeFormatError, match=r"object_classes.txt: not UTF-8 text"):
        read_action_genome(written)


def _class_files(
    folder: Path, objects: str = OFFICIAL_OBJECT_CLASSES, relations: str = OFFICIAL_RELATIONSHIP_CLASSES
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "object_classes.txt").write_text(objects)
    (folder / "relationship_classes.txt").write_text(relations)
    return folder


def test_class_files_read_alone_with_the_official_partition(tmp_path: Path) -> None:
    classes = read_action_genome_classes(_class_files(tmp_path))  # no pickle in the folder
    assert classes.object_classes == AG_OBJECT_CLASSES
    assert classes.object_classes[0] == "person" and "__background__" not in classes.object_classes
    assert classes.relationship_classes == AG_RELATIONSHIP_CLASSES
    # the toolkit's partition: attention [0:3], spatial [3:9], contacting [9:]
    assert classes.attention == (0, 1, 2)
    assert classes.spatial == tuple(range(3, 9))
    assert classes.contacting == tuple(range(9, 26))
    for kind, official in [
        (classes.attention, AG_ATTENTION_RELATIONSHIPS),
        (classes.spatial, AG_SPATIAL_RELATIONSHIPS),
        (classes.contacting, AG_CONTACTING_RELATIONSHIPS),
    ]:
        assert sorted(classes.relationship_classes[i] for i in kind) == sorted(official)


def test_class_files_agree_with_the_full_reader(written: Path) -> None:
    classes = read_action_genome_classes(written)
    annotations = read_action_genome(written)
    assert list(classes.object_classes) == annotations.object_classes
    assert list(classes.relationship_classes) == annotations.relationship_classes


def test_class_files_in_another_order_keep_each_relationship_kind(tmp_path: Path) -> None:
    relations = OFFICIAL_RELATIONSHIP_CLASSES.split("\n")
    classes = read_action_genome_classes(_class_files(tmp_path, relations="\n".join(reversed(relations))))
    assert classes.attention == (23, 24, 25)
    assert classes.relationship_classes[25] == "looking_at"


OBJECTS, RELATIONS = OFFICIAL_OBJECT_CLASSES, OFFICIAL_RELATIONSHIP_CLASSES


@pytest.mark.parametrize(
    ("objects", "relations", "message"),
    [
        (
            OBJECTS,
            "lookingat\njuggling",
            r"relationship_classes.txt line 2: unknown relationship 'juggling'; expected one of Action "
            r"Genome's 26: looking_at, not_looking_at",
        ),
        (OBJECTS, "lookingat\n\nabove", r"relationship_classes.txt line 2: expected a class name"),
        (OBJECTS, "above\nunsure\nabove", r"relationship_classes.txt line 3: class 'above' already given on"),
        ("person\n  \nbag", RELATIONS, r"object_classes.txt line 2: expected a class name"),
        ("", RELATIONS, r"object_classes.txt: expected one class name a line, got an empty file"),
    ],
)
def test_bad_class_files(tmp_path: Path, objects: str, relations: str, message: str) -> None:
    with pytest.raises(ActionGenomeFormatError, match=message):
        read_action_genome_classes(_class_files(tmp_path, objects, relations))


def test_class_files_not_utf8_or_missing(tmp_path: Path) -> None:
    folder = _class_files(tmp_path / "a")
    (folder / "relationship_classes.txt").write_bytes(b"lookingat\n\xff\xfe")
    with pytest.raises(ActionGenomeFormatError, match=r"relationship_classes.txt: not UTF-8 text"):
        read_action_genome_classes(folder)
    (folder / "relationship_classes.txt").unlink()
    with pytest.raises(FileNotFoundError, match=r"relationship_classes.txt"):
        read_action_genome_classes(folder)
