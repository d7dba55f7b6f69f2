"""The LVLM-VAR experiment YAMLs: what each real-data one sets, the synthetic ones wired to their data
(tests/test_experiments.py parses every YAML and runs each synthetic one)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from experiments.lvlm_pipeline import names_moving_part, part_phrases, seed_summary
from lvlm_var.cli import run_lightning_cli

EXPERIMENTS = Path(__file__).resolve().parents[1] / "experiments"
# Real-data experiments: an NTU benchmark is an override file on top of the ntu60_xsub base of its stage.
_NTU_BASE = {"vst": EXPERIMENTS / "ntu60_xsub_vst.yaml", "lvlm": EXPERIMENTS / "ntu60_xsub_lvlm.yaml"}
_REAL = [
    ("ntu60_xsub", "ntu60-xsub", 60),
    ("ntu60_xview", "ntu60-xview", 60),
    ("ntu120_xsub", "ntu120-xsub", 120),
    ("ntu120_xset", "ntu120-xset", 120),
    ("nwucla_xview", "nwucla-xview", 10),
]


def _config_files(name: str, stage: str) -> list[str]:
    own = EXPERIMENTS / f"{name}_{stage}.yaml"
    base = _NTU_BASE[stage]
    files = [own] if name.startswith("nwucla") or own == base else [base, own]
    return [argument for path in files for argument in ("--config", str(path))]


@pytest.mark.parametrize("stage", ["vst", "lvlm"])
@pytest.mark.parametrize(("name", "benchmark", "num_classes"), _REAL)
def test_real_data_experiment_parses(
    name: str, benchmark: str, num_classes: int, stage: str, printed_config: Callable[[Sequence[str]], dict]
) -> None:
    """Parsing only: the data sets and the LLaVA weights are not here (the parse is shared with
    tests/test_experiments.py's, which reads the same files)."""
    config = printed_config(_config_files(name, stage))
    data = config["data"]["init_args"]
    assert data["benchmark"] == benchmark
    callbacks = config["trainer"]["callbacks"]
    checkpoint = next(c for c in callbacks if c["class_path"].endswith("ModelCheckpoint"))
    assert checkpoint["init_args"]["dirpath"] == "checkpoints"  # under trainer.default_root_dir
    model = config["model"]["init_args"]
    if stage == "vst":
        assert model["config"]["num_classes"] == num_classes
    else:
        assert model["vst_checkpoint"] == f"runs/{name}_vst/checkpoints/vst.ckpt"
        assert model["config"]["quantization"] == "nf4"
        assert model["config"]["model_id"].startswith("llava-hf/llava-1.5-")
        assert model["config"]["lr"] == pytest.approx(2e-4)
    if name.startswith("ntu"):
        assert config["trainer"]["devices"] == 8
        assert str(config["trainer"]["strategy"]).startswith("ddp")
        assert config["trainer"]["precision"] == "bf16-mixed"


def _synthetic_arguments(synthetic_root: Path) -> list[str]:
    ntu = synthetic_root / "ntu"
    return [
        "--data.init_args.data_dir",
        str(ntu),
        "--data.init_args.missing_skeletons_file",
        str(ntu / "NTU_RGBD_samples_with_missing_skeletons.txt"),
    ]


@pytest.mark.parametrize("stage", ["vst", "lvlm"])
def test_synthetic_experiment_builds_with_the_data_linked(
    stage: str, synthetic_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    config = EXPERIMENTS / f"synthetic_{stage}.yaml"
    cli = run_lightning_cli(["--config", str(config), *_synthetic_arguments(synthetic_root)], run=False)
    assert cli.datamodule.benchmark.name == "ntu60-xsub"
    if stage == "vst":
        assert cli.model.config.num_classes == cli.datamodule.num_classes
        assert cli.model.config.num_frames == cli.datamodule.clip_length
    else:
        assert cli.model.class_names == list(cli.datamodule.class_names)
        assert cli.model.config.model_id == "tiny-llava"
        assert cli.model.hparams.vst_checkpoint == "runs/synthetic_vst/checkpoints/vst.ckpt"


def test_body_part_phrases_match_the_code_names() -> None:
    assert part_phrases("right_arm") == ("right hand", "right arm", "both hands", "both arms")
    assert part_phrases("left_leg") == ("left foot", "left leg", "both feet", "both legs")
    assert names_moving_part("<act_3> Right hand rises fast", ("right_arm",))
    assert names_moving_part("both legs move forward, knees bent", ("right_leg",))
    assert not names_moving_part("stands still, bending", ("right_arm", "head"))
    assert not names_moving_part("left hand rises", ("right_arm",))
    with pytest.raises(ValueError, match="unknown body part 'tail'; valid parts: head, torso"):
        part_phrases("tail")


def test_seed_summary_gives_both_stages_mean_and_spread() -> None:
    pairs = ((1.0, 1.0), (0.96, 1.0), (0.98, 0.99))
    runs = [{"test_accuracy": llm, "vst": {"test_accuracy": vst}} for llm, vst in pairs]
    summary = seed_summary(runs)
    assert summary["llm"] == pytest.approx({"mean": 0.98, "min": 0.96, "max": 1.0, "spread": 0.04})
    assert summary["vst_token_head"]["spread"] == pytest.approx(0.01)
