"""`lvlm-var inspect` on every kind of CAD-120 file, and on a broken one."""

from __future__ import annotations

from pathlib import Path

import pytest

from datamodules.formats.cad120 import read_cad120, write_cad120_relations
from datamodules.formats.errors import CAD120FormatError
from datamodules.inspect_file import describe_file
from datamodules.synthetic.cad120 import SyntheticCAD120Config, write_synthetic_cad120
from lvlm_var.cli import main


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cad120")
    write_synthetic_cad120(root, seed=0, config=SyntheticCAD120Config(activities=("making_cereal",)))
    return root / "Subject1_annotations" / "making_cereal"


def test_inspect_describes_every_cad120_file(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    video = read_cad120(folder.parent)[0]
    relations = write_cad120_relations(
        folder.parent.parent / "relations.csv", {(video.video_id, 2, 1): ["holding", "in_front_of"]}
    )
    expected = {
        folder: f"CAD-120 activity folder making_cereal: 1 videos, {len(video.segments)} segments, "
        f"{video.skeleton.num_frames} skeleton frames",
        folder / "activityLabel.txt": "CAD-120 activityLabel.txt: 1 videos, activities: making_cereal 1",
        folder / "labeling.txt": f"CAD-120 labeling.txt: {len(video.segments)} segments of 1 videos",
        folder / f"{video.video_id}.txt": f"CAD-120 skeleton {video.video_id}.txt: "
        f"{video.skeleton.num_frames} frames",
        folder / f"{video.video_id}_obj1.txt": f"CAD-120 object track {video.video_id}_obj1.txt: video "
        f"{video.video_id}, object 1",
        relations: "CAD-120 relation file relations.csv: 1 tokens of 1 videos",
    }
    for path, start in expected.items():
        assert describe_file(path).startswith(start), describe_file(path)
        assert main(["inspect", str(path)]) == 0
        assert start in capsys.readouterr().out
    assert "subjects: Subject1 1" in describe_file(folder / "activityLabel.txt")
    assert "('holding', 1)" in describe_file(relations)


def test_inspect_names_the_problem_of_a_broken_cad120_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    labels = tmp_path / "activityLabel.txt"
    labels.write_text("../../../outside/stolen,making_cereal,Subject1,1:bowl,\n")
    with pytest.raises(CAD120FormatError, match="line 1: video id '../../../outside/stolen' cannot name"):
        describe_file(labels)
    skeleton = tmp_path / "0510175411.txt"
    skeleton.write_text("1,2,3\n")
    assert main(["inspect", str(skeleton)]) == 1
    assert "CAD120FormatError: 0510175411.txt line 1: missing the final END line" in capsys.readouterr().err
