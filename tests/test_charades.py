"""Charades csv and class list: round trip, the released layout, and malformed rows named by line."""

from __future__ import annotations

from pathlib import Path

import pytest

from datamodules.formats.charades import (
    CHARADES_COLUMNS,
    CharadesAction,
    CharadesClass,
    CharadesVideo,
    read_charades_classes,
    read_charades_csv,
    write_charades_classes,
    write_charades_csv,
)
from datamodules.formats.errors import CharadesFormatError

HEADER = ",".join(CHARADES_COLUMNS)
# Two rows in the released style: quoted text with commas, ';'-joined objects and actions, an empty
# action list, empty ratings.
RELEASED = (
    f"{HEADER}\n"
    '46GP8,HR43,Kitchen,6,7,Yes,"A person cooking on a stove, then looking out a window.",'
    'food;stove;window,"A person cooks food on a stove before looking out of a window.",'
    "c092 11.90 21.20;c147 0.00 12.60,24.83\n"
    'N11GT,0KZ7,Stairs,,,No,"One person opens a closet door.",closet/cabinet;door,"",,18.33\n'
)


def test_reads_the_released_layout(tmp_path: Path) -> None:
    path = tmp_path / "Charades_v1_train.csv"
    path.write_text(RELEASED)
    first, second = read_charades_csv(path)
    assert first.id == "46GP8" and first.subject == "HR43" and first.scene == "Kitchen"
    assert first.actions == [CharadesAction("c092", 92, 11.9, 21.2), CharadesAction("c147", 147, 0.0, 12.6)]
    assert first.length == 24.83 and first.quality == 6 and first.relevance == 7
    assert first.script == "A person cooking on a stove, then looking out a window."
    assert first.objects == ["food", "stove", "window"]
    assert second.actions == [] and second.quality is None and second.verified == "No"


def test_csv_round_trip_is_identical(tmp_path: Path) -> None:
    source = tmp_path / "source.csv"
    source.write_text(RELEASED)
    videos = read_charades_csv(source)
    copy = tmp_path / "copy.csv"
    write_charades_csv(copy, videos)
    assert read_charades_csv(copy) == videos
    assert '"A person cooking on a stove, then looking out a window."' in copy.read_text()


def test_indices_follow_a_given_class_list(tmp_path: Path) -> None:
    path = tmp_path / "Charades_v1_test.csv"
    path.write_text(RELEASED)
    classes = [CharadesClass(0, "c147", "Someone is cooking something"), CharadesClass(1, "c092", "Watching")]
    assert [a.index for a in read_charades_csv(path, classes)[0].actions] == [1, 0]


def test_class_list_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "Charades_v1_classes.txt"
    path.write_text(
        "c000 Holding some clothes\nc092 Watching/Looking outside of a window\n"
        "c106 Drinking from a cup/glass/bottle\n"
    )
    classes = read_charades_classes(path)
    assert classes[1] == CharadesClass(1, "c092", "Watching/Looking outside of a window")
    copy = tmp_path / "copy.txt"
    write_charades_classes(copy, classes)
    assert copy.read_text() == path.read_text()
    assert read_charades_classes(copy) == classes


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (
            "AAAAA,HR43,Kitchen,6,7,Yes,s,o,d,c092 11.90,24.83",
            r"line 2: action 1 'c092 11.90': expected 'cNNN start end'",
        ),
        (
            "AAAAA,HR43,Kitchen,6,7,Yes,s,o,d,c092 1.0 2.0;x12 1 2,24.83",
            r"line 2: action 2 'x12 1 2': expected 'cNNN start end'",
        ),
        (
            "AAAAA,HR43,Kitchen,6,7,Yes,s,o,d,c092 abc 2.0,24.83",
            r"line 2: expected start of action 1 a number of seconds >= 0, got 'abc'",
        ),
        (
            "AAAAA,HR43,Kitchen,6,7,Yes,s,o,d,c092 1.0 nan,24.83",
            r"line 2: expected end of action 1 a number of seconds >= 0, got 'nan'",
        ),
        (
            "AAAAA,HR43,Kitchen,6,7,Yes,s,o,d,,long",
            r"line 2: expected length a number of seconds >= 0, got 'long'",
        ),
        (
            "AAAAA,HR43,Kitchen,six,7,Yes,s,o,d,,1.0",
            r"line 2: expected quality an integer or empty, got 'six'",
        ),
        ("AAAAA,HR43,Kitchen,6,7", r"line 2: expected 11 fields, got 5"),
        (
            "c042,HR43,Kitchen,6,7,Yes,s,o,d,c042 5 2,24.83",
            r"line 2: action 1 'c042 5 2': ends before it starts",
        ),
        (
            "AAAAA,HR43,Kitchen,6,7,Yes,s,o,d,c042 30.5 31,24.83",
            r"line 2: action 1 'c042 30.5 31': starts after the video's end \(24.83 s\)",
        ),
        (
            "AAAAA,HR43,Kitchen,6,7,Yes,s,o,d,c042 -1 3,24.83",
            r"expected start of action 1 a number of seconds >= 0",
        ),
        (
            "AAAAA,HR43,Kitchen,6,7,Yes,s,o,d,c042 1 1e400,24.83",
            r"expected end of action 1 a number of seconds",
        ),
        (
            "AAAAA,HR43,Kitchen," + "9" * 5000 + ",7,Yes,s,o,d,,1",
            r"line 2: expected quality an integer or empty",
        ),
        (
            "AAAAA,HR43,Kitchen,6,7,Yes,s,o,d,c1\x0042 1 2,24.83",
            r"line 2: action 1 'c1\\x0042 1 2': expected 'cNNN start end'",
        ),
        (
            'AAAAA,HR43,Kitchen,6,7,Yes,"' + "x" * 200_000 + '",o,d,,1',
            r"line 2: not a readable csv row: .*field larger",
        ),
    ],
)
def test_malformed_rows_name_the_line(tmp_path: Path, row: str, message: str) -> None:
    path = tmp_path / "Charades_v1_train.csv"
    path.write_text(f"{HEADER}\n{row}\n")
    with pytest.raises(CharadesFormatError, match=message):
        read_charades_csv(path)


def test_line_numbers_count_quoted_newlines(tmp_path: Path) -> None:
    path = tmp_path / "Charades_v1_train.csv"
    path.write_text(
        f'{HEADER}\nAAAAA,HR43,Kitchen,6,7,Yes,"two\nlines",o,d,,1.0\n'
        "BBBBB,HR43,Kitchen,6,7,Yes,s,o,d,c1 1 2,1.0\n"
    )
    with pytest.raises(CharadesFormatError, match=r"Charades_v1_train.csv line 4: action 1 'c1 1 2'"):
        read_charades_csv(path)


def test_unknown_class_code(tmp_path: Path) -> None:
    path = tmp_path / "Charades_v1_train.csv"
    path.write_text(RELEASED)
    with pytest.raises(
        CharadesFormatError,
        match=r"line 2: action 2 'c147 0.00 12.60': unknown class c147, not in the class list",
    ):
        read_charades_csv(path, [CharadesClass(0, "c092", "Watching")])


def test_missing_column(tmp_path: Path) -> None:
    path = tmp_path / "Charades_v1_train.csv"
    path.write_text(HEADER.replace(",actions", "") + "\n")
    with pytest.raises(
        CharadesFormatError, match=r"Charades_v1_train.csv line 1: missing column\(s\) \['actions'\]"
    ):
        read_charades_csv(path)


def test_empty_csv(tmp_path: Path) -> None:
    path = tmp_path / "Charades_v1_train.csv"
    path.write_text("")
    with pytest.raises(CharadesFormatError, match=r"line 1: expected the header id,subject,"):
        read_charades_csv(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            "c000 Holding some clothes\nHolding a book\n",
            r"Charades_v1_classes.txt line 2: expected 'cNNN class name', got 'Holding a book'",
        ),
        ("c000 Holding some clothes\nc000 Again\n", r"line 2: class c000 already given on line 1"),
        ("", r"Charades_v1_classes.txt: expected one 'cNNN class name' a line, got an empty file"),
    ],
)
def test_malformed_class_list(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "Charades_v1_classes.txt"
    path.write_text(content)
    with pytest.raises(CharadesFormatError, match=message):
        read_charades_classes(path)


def test_video_defaults_write_empty_fields(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    write_charades_csv(
        path, [CharadesVideo("ZZZZZ", "HR01", "Garage", [CharadesAction("c001", 1, 0.5, 1.25)], 3.0)]
    )
    assert path.read_text().splitlines()[1] == "ZZZZZ,HR01,Garage,,,,,,,c001 0.50 1.25,3.00"


def test_end_past_the_video_is_clipped_to_its_length(tmp_path: Path) -> None:
    path = tmp_path / "Charades_v1_train.csv"
    path.write_text(f"{HEADER}\nAAAAA,HR43,Kitchen,6,7,Yes,s,o,d,c042 20.0 25.1;c001 0 3,24.83\n")
    actions = read_charades_csv(path)[0].actions
    assert (actions[0].start, actions[0].end) == (20.0, 24.83) and (actions[1].start, actions[1].end) == (
        0,
        3,
    )


@pytest.mark.parametrize("reader", [read_charades_csv, read_charades_classes])
def test_not_utf8_is_a_typed_error(tmp_path: Path, reader) -> None:
    path = tmp_path / "Charades_v1_train.csv"
    path.write_bytes(HEADER.encode() + b"\nAAAAA,\xff\xfe,Kitchen,6,7,Yes,s,o,d,,1\n")
    with pytest.raises(CharadesFormatError, match=r"Charades_v1_train.csv: not UTF-8 text"):
        reader(path)
