"""Every experiment YAML parses through the CLI, and every synthetic one runs a ``fast_dev_run``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
import yaml

from lvlm_var.cli import run_lightning_cli

EXPERIMENTS = Path(__file__).resolve().parents[1] / "experiments"
YAMLS = sorted(EXPERIMENTS.glob("*.yaml"))


def _is_override(path: Path) -> bool:
    """An override file has no model class of its own: it goes after its base."""
    return "class_path" not in (yaml.safe_load(path.read_text()).get("model") or {})


# Override files change only data and output paths: their base's fast_dev_run covers the model.
def _in_session_data(path: Path) -> bool:
    """Its data is in the session's synthetic set (``data/synthetic``; the Charades-scale preset,
    ``data/synthetic_charades``, is generated apart and tested by its generator's tests)."""
    data_dir = Path(yaml.safe_load(path.read_text())["data"]["init_args"]["data_dir"])
    return data_dir.is_relative_to("data/synthetic")


SYNTHETIC = [
    path for path in YAMLS
    if path.stem.startswith("synthetic_") and not _is_override(path) and _in_session_data(path)
]


def _config_arguments(path: Path) -> list[str]:
    """``--config`` arguments: an override file goes after its base. A synthetic one's base is the
    experiment named by the longest start of its name and its stage (``synthetic_charades_ambiguous_laiar``
    -> ``synthetic_charades_laiar``, ``synthetic_ag_noisy_laiar`` -> ``synthetic_laiar``); a real-data
    one's is NTU-60 X-Sub's."""
    if not _is_override(path):
        return ["--config", str(path)]
    *words, stage = path.stem.split("_")
    if words[0] == "synthetic":
        starts = ("_".join(words[:n]) for n in range(len(words) - 1, 0, -1))
        bases = (EXPERIMENTS / f"{start}_{stage}.yaml" for start in starts)
        base = next(b for b in bases if b.is_file() and not _is_override(b))
    else:
        base = EXPERIMENTS / f"ntu60_xsub_{stage}.yaml"
    return ["--config", str(base), "--config", str(path)]


@pytest.mark.parametrize("path", YAMLS, ids=[p.stem for p in YAMLS])
def test_experiment_parses(path: Path, printed_config: Callable[[Sequence[str]], dict]) -> None:
    """Parsing only, so real-data YAMLs parse although their data sets and weights are not here."""
    config = printed_config(_config_arguments(path))
    assert config["model"]["class_path"].startswith("lvlm_var.")
    assert config["data"]["class_path"].startswith("datamodules.")


def _fast_dev_run_arguments(path: Path, synthetic_root: Path) -> list[str]:
    """``--config path``, its data read from the session's synthetic set, ``--trainer.fast_dev_run true``."""
    data = yaml.safe_load(path.read_text())["data"]
    root = synthetic_root / Path(data["init_args"]["data_dir"]).relative_to("data/synthetic")
    arguments = ["--config", str(path), "--data.init_args.data_dir", str(root)]
    arguments += ["--trainer.fast_dev_run", "true"]
    if "missing_skeletons_file" in data["init_args"]:
        missing = root / "NTU_RGBD_samples_with_missing_skeletons.txt"
        arguments += ["--data.init_args.missing_skeletons_file", str(missing)]
    return arguments


@pytest.fixture(scope="module")
def vst_checkpoint(synthetic_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The weights after ``synthetic_vst.yaml``'s fast_dev_run fit (which saves no checkpoint itself)."""
    folder = tmp_path_factory.mktemp("synthetic_vst")
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.chdir(folder)
        arguments = _fast_dev_run_arguments(EXPERIMENTS / "synthetic_vst.yaml", synthetic_root)
        cli = run_lightning_cli(["fit", *arguments])
    assert cli.trainer.callback_metrics["train/loss"] > 0
    cli.trainer.save_checkpoint(folder / "vst.ckpt")
    return folder / "vst.ckpt"


@pytest.mark.parametrize("path", SYNTHETIC, ids=[p.stem for p in SYNTHETIC])
def test_synthetic_experiment_fast_dev_runs(
    path: Path, synthetic_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    """fit, then test, one batch through the CLI on the session's synthetic data (the VST's fit is the
    ``vst_checkpoint`` fixture, which stage 2, ``synthetic_lvlm``, reads)."""
    monkeypatch.chdir(tmp_path)
    config = yaml.safe_load(path.read_text())
    arguments = _fast_dev_run_arguments(path, synthetic_root)
    if path.stem == "synthetic_vst":
        arguments += ["--ckpt_path", str(request.getfixturevalue("vst_checkpoint"))]
    else:
        if "vst_checkpoint" in config["model"]["init_args"]:
            arguments += ["--model.init_args.vst_checkpoint", str(request.getfixturevalue("vst_checkpoint")),
                          "--model.init_args.config.tiny_llava_cache", str(tmp_path / "tiny-llava")]
        fit = run_lightning_cli(["fit", *arguments])
        assert fit.trainer.callback_metrics["train/loss"] > 0
    test = run_lightning_cli(["test", *arguments])
    assert any(key.startswith("test/") for key in test.trainer.callback_metrics)
    writers = [c for c in test.trainer.callbacks if type(c).__name__ == "ExplanationWriter"]
    for writer in writers:  # one record per test clip of the single fast_dev_run batch
        records = Path(writer.output_path).read_text().splitlines()
        assert len(records) == test.datamodule.batch_size


def test_ambiguous_charades_override_changes_only_data_outputs_and_sim_weight(
    printed_config: Callable[[Sequence[str]], dict],
) -> None:
    override = EXPERIMENTS / "synthetic_charades_ambiguous_laiar.yaml"
    base = printed_config(["--config", str(EXPERIMENTS / "synthetic_charades_laiar.yaml")])
    ambiguous = printed_config(_config_arguments(override))
    assert ambiguous["model"]["init_args"]["loss"].pop("sim_weight") == 3.0
    assert base["model"]["init_args"]["loss"].pop("sim_weight") == 0.1
    assert ambiguous["model"] == base["model"]
    assert ambiguous["data"]["init_args"]["data_dir"] == "data/synthetic_charades_ambiguous"
    assert ambiguous["trainer"]["default_root_dir"] == "runs/synthetic_charades_ambiguous_laiar"
