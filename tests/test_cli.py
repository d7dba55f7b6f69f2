"""The `lvlm-var` command: help, data commands and Lightning's config checking."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from lvlm_var.cli import main


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    text = capsys.readouterr().out
    for command in ("fit", "validate", "test", "predict", "generate-synthetic", "inspect", "report"):
        assert f"  {command}" in text


def test_unknown_command_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train"]) == 2
    assert "unknown command 'train'" in capsys.readouterr().err


def test_python_dash_m_runs_the_cli() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "lvlm_var", "--help"], capture_output=True, text=True, check=True
    )
    assert "generate-synthetic" in result.stdout


def test_generate_synthetic_writes_every_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["generate-synthetic", "--out", str(tmp_path), "--seed", "3"]) == 0
    assert "NTU RGB+D skeletons" in capsys.readouterr().out
    assert any((tmp_path / "ntu" / "nturgb+d_skeletons").glob("*.skeleton"))
    assert any((tmp_path / "nwucla" / "all_sqe").glob("*.json"))
    assert (tmp_path / "action_genome" / "annotations" / "person_bbox.pkl").is_file()
    assert (tmp_path / "charades" / "Charades_v1_train.csv").is_file()
    assert (tmp_path / ".complete").is_file()


@pytest.mark.parametrize(
    ("relative", "expected"),
    [
        ("ntu/nturgb+d_skeletons/S001C001P001R001A006.skeleton", "NTU RGB+D skeleton"),
        ("nwucla/all_sqe/a01_s01_e00_v01.json", "NW-UCLA sequence a01_s01_e00_v01"),
        ("action_genome/annotations/object_bbox_and_relationship.pkl", "Action Genome annotations"),
        ("charades/Charades_v1_test.csv", "Charades csv"),
        ("charades/Charades_v1_classes.txt", "Charades class list"),
    ],
)
def test_inspect_describes_each_format(
    synthetic_root: Path, relative: str, expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["inspect", str(synthetic_root / relative)]) == 0
    assert expected in capsys.readouterr().out


def test_inspect_box_features(synthetic_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    feature_file = next((synthetic_root / "action_genome" / "features").glob("*.npz"))
    assert main(["inspect", str(feature_file)]) == 0
    assert "box features of video" in capsys.readouterr().out


def test_inspect_reports_the_reason_a_file_is_bad(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "S001C001P001R001A001.skeleton"
    bad.write_text("1\r\n1\r\n")
    assert main(["inspect", str(bad)]) == 1
    assert "SkeletonFormatError: S001C001P001R001A001.skeleton line 3" in capsys.readouterr().err


def test_inspect_unknown_kind_and_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    other = tmp_path / "notes.md"
    other.write_text("hello")
    assert main(["inspect", str(other)]) == 1
    assert "unknown kind of data file" in capsys.readouterr().err
    assert main(["inspect", str(tmp_path / "nope.skeleton")]) == 1
    assert "FileNotFoundError" in capsys.readouterr().err
