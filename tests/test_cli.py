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
    commands = ("fit", "validate", "test", "predict", "generate-synthetic", "inspect", "report",
                "prepare-data")
    for command in commands:
        assert f"  {command}" in text


def test_unknown_command_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train"]) == 2
    assert "unknown command 'train'" in capsys.readouterr().err


def test_python_dash_m_runs_the_cli() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "lvlm_var", "--help"], capture_output=True, text=True, check=True
    )
    assert "generate-synthetic" in result.stdout


def test_generate_synthetic_writes_every_format(synthetic_generation) -> None:
    """The session's data set is written by this command (conftest.py); a second run would cost ~30 s."""
    root = synthetic_generation.root
    assert synthetic_generation.exit_code == 0
    assert "NTU RGB+D skeletons" in synthetic_generation.stdout
    assert any((root / "ntu" / "nturgb+d_skeletons").glob("*.skeleton"))
    assert any((root / "nwucla" / "all_sqe").glob("*.json"))
    assert (root / "action_genome" / "annotations" / "person_bbox.pkl").is_file()
    assert (root / "charades" / "Charades_v1_train.csv").is_file()
    assert (root / ".complete").is_file()


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


def test_noisy_scene_graph_experiment_overrides_only_data_and_outputs(synthetic_root: Path) -> None:
    from lvlm_var.cli import run_lightning_cli

    experiments = Path(__file__).resolve().parents[1] / "experiments"
    noisy = str(synthetic_root / "synthetic_ag_noisy")
    runs = ((["synthetic_laiar.yaml"], str(synthetic_root)),
            (["synthetic_laiar.yaml", "synthetic_ag_noisy_laiar.yaml"], noisy))
    clis = []
    for names, data in runs:
        configs = [arg for name in names for arg in ("--config", str(experiments / name))]
        clis.append(run_lightning_cli([*configs, "--data.init_args.data_dir", data], run=False))
    base, override = (dict(cli.model.hparams) for cli in clis)
    assert base == override
    callbacks = {type(c).__name__: c for c in clis[1].trainer.callbacks}
    runs_dir = Path("runs/synthetic_ag_noisy_laiar")
    assert callbacks["ExplanationWriter"].output_path == runs_dir / "explanations.jsonl"
    assert callbacks["ExplanationFaithfulness"].output_path == runs_dir / "faithfulness.json"


@pytest.mark.slow  # builds the LaIAR model and a litdata store: ~14 s on 2 shared cores
def test_prepare_data_builds_an_experiments_store_once(
    synthetic_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = Path(__file__).resolve().parents[1] / "experiments" / "synthetic_laiar.yaml"
    store = tmp_path / "shared" / "action-genome"
    argv = ["prepare-data", "--config", str(config), "--data.init_args.data_dir", str(synthetic_root),
            "--data.init_args.cache_dir", str(tmp_path / "cache"), "--data.init_args.store", "litdata",
            "--data.init_args.store_uri", str(store), "--data.init_args.litdata.chunk_bytes", "1MB"]
    assert main(argv) == 0
    assert f"data store ready: {store}" in capsys.readouterr().out
    assert (store / "index.json").is_file() and (store / "manifest.json").is_file()
