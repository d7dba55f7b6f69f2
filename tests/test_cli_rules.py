"""The rules of `lvlm-var` on top of Lightning's CLI: one-line configuration errors, no spurious warnings,
paths that follow data_dir and default_root_dir, fixed checkpoints found by `test`, options over a
checkpoint, and an `inspect` that does not import Lightning."""

from __future__ import annotations

import json
import logging
import re
import resource
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from lvlm_var.cli import main, run_lightning_cli
from lvlm_var.config_errors import ConfigurationError

LAIAR = str(Path(__file__).resolve().parents[1] / "experiments" / "synthetic_laiar.yaml")
VST = str(Path(__file__).resolve().parents[1] / "experiments" / "synthetic_vst.yaml")


def _laiar(root: Path, *extra: str) -> list[str]:
    return ["--config", LAIAR, "--data.init_args.data_dir", str(root), *extra]


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (
            ["--model.init_args.loss.keep_ratio", "1.5"],
            r"model.init_args.loss.keep_ratio = 1.5: "
            r"LaIARLossConfig.keep_ratio must be in \(0, 1\] or None, got 1.5",
        ),
        (
            ["--model.init_args.loss.keep_ratio", "abc"],
            r"model.init_args.loss.keep_ratio = 'abc': expected float or None",
        ),
        (
            ["--model.init_args.loss.keep_ratoi", "0.3"],
            r"model.init_args.loss.keep_ratoi: lvlm_var.dtformer.LaIARModule has no such option; "
            r"did you mean model.init_args.loss.keep_ratio",
        ),
        (
            ["--model.class_path", "lvlm_var.dtformer.LaiarModule"],
            r"model.class_path: 'lvlm_var.dtformer.LaiarModule' cannot be imported .*; "
            r"did you mean lvlm_var.dtformer.LaIARModule",
        ),
        (
            ["--data.class_path", "datamodules.ActionGenomeDatamodule"],
            r"data.class_path: .*; did you mean datamodules.ActionGenomeDataModule",
        ),
        (
            ["--trainer.max_epochz", "3"],
            r"trainer.max_epochz: no such option; did you mean --trainer.max_epochs",
        ),
    ],
)
def test_configuration_errors_are_one_line_naming_key_value_and_fix(
    synthetic_root: Path, option: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["fit", *_laiar(synthetic_root, *option)]) == 2
    error = capsys.readouterr().err
    assert re.search(f"lvlm-var fit: configuration error: {message}", error), error
    assert "Traceback (most recent call last)" not in error
    assert error.strip().endswith("configuration error: " + error.split("configuration error: ")[1].strip())
    assert error.split("configuration error: ")[1].strip().endswith("\n(--debug shows the traceback)")
    assert error.split("configuration error: ")[1].count("\n") == 2


def test_debug_shows_the_traceback(synthetic_root: Path) -> None:
    with pytest.raises(ConfigurationError, match="keep_ratio = 1.5") as raised:
        main(["fit", "--debug", *_laiar(synthetic_root, "--model.init_args.loss.keep_ratio", "1.5")])
    assert isinstance(raised.value.__cause__, ValueError)


def test_no_lightning_warning_about_args_and_sys_argv(synthetic_root: Path) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run_lightning_cli(_laiar(synthetic_root), run=False)
    assert not [w for w in caught if "args parameter is intended" in str(w.message)]


def test_bitsandbytes_missing_kernels_warning_is_dropped_alone(caplog: pytest.LogCaptureFixture) -> None:
    from lvlm_var.lightning_cli import _KERNELS_FILTER, _KERNELS_MESSAGE

    logger = logging.getLogger("bitsandbytes.backends.cpu.ops")
    logger.addFilter(_KERNELS_FILTER)
    with caplog.at_level(logging.WARNING, logger=logger.name):
        logger.warning(f"{_KERNELS_MESSAGE}. Please make sure you already `pip install kernels`")
        logger.warning("another bitsandbytes warning")
    assert [r.getMessage() for r in caplog.records] == ["another bitsandbytes warning"]


def test_experiment_yaml_wires_data_into_the_model(synthetic_root: Path) -> None:
    cli = run_lightning_cli(_laiar(synthetic_root), run=False)
    config, data = cli.model.config, cli.datamodule
    assert config.num_classes == data.num_classes and config.class_names == list(data.class_names)
    assert config.encoder.feature_dim == data.feature_dim
    assert config.object_class_names == list(data.object_classes)
    assert config.relation_names == list(data.relationship_classes)
    assert config.encoder.num_object_classes == len(data.object_classes)
    # interpolated from the data section of the YAML
    assert (config.dtformer.num_frames, config.dtformer.max_pairs) == (data.frames_per_video, data.max_pairs)
    assert config.dtformer.dim == config.encoder.embed_dim == 64


def test_derived_paths_follow_data_dir(synthetic_root: Path, tmp_path: Path) -> None:
    moved = tmp_path / "elsewhere"
    for name in ("ntu", "action_genome", "charades"):
        shutil.copytree(synthetic_root / name, moved / name)
    cli = run_lightning_cli(["--config", VST, "--data.init_args.data_dir", str(moved / "ntu")], run=False)
    assert (
        cli.datamodule.missing_skeletons_file == moved / "ntu" / "NTU_RGBD_samples_with_missing_skeletons.txt"
    )
    cli = run_lightning_cli(_laiar(moved), run=False)
    assert (
        cli.datamodule.ag_dir == moved / "action_genome" and cli.datamodule.charades_dir == moved / "charades"
    )


def test_every_experiment_keeps_a_fixed_checkpoint_and_follows_default_root_dir() -> None:
    import yaml

    for path in sorted(Path(LAIAR).parent.glob("*.yaml")):
        config = yaml.safe_load(path.read_text())
        trainer = config["trainer"]
        if "callbacks" not in trainer:  # an override file that keeps its base's callbacks
            assert "class_path" not in (config.get("model") or {}), path.name
            continue
        assert trainer.get("enable_progress_bar", True), path.name
        checkpoints = [c for c in trainer["callbacks"] if c["class_path"].endswith("ModelCheckpoint")]
        assert len(checkpoints) == 1 and checkpoints[0]["init_args"]["dirpath"] == "checkpoints", path.name
        init_args = checkpoints[0]["init_args"]
        assert init_args.get("save_last") or init_args.get("save_on_train_epoch_end"), path.name
        for callback in trainer["callbacks"]:
            output = (callback.get("init_args") or {}).get("output_path")
            assert output is None or not Path(output).is_absolute() and "/" not in output, path.name


def test_fit_of_one_epoch_writes_the_checkpoint_that_test_finds(
    synthetic_root: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """synthetic_vst.yaml validates every 5 epochs; a 1-epoch fit still writes its checkpoint, and `test`
    without --ckpt_path uses it. A VST has no num_classes argument: the data link must not come back
    from its checkpoint."""
    data = [
        "--data.init_args.data_dir",
        str(synthetic_root / "ntu"),
        "--trainer.enable_progress_bar",
        "false",
    ]
    monkeypatch.chdir(tmp_path)
    assert (
        main(
            ["fit", "--config", VST, *data, "--trainer.max_epochs", "1", "--trainer.limit_train_batches", "2"]
        )
        == 0
    )
    checkpoint = Path("runs") / "synthetic_vst" / "checkpoints" / "vst.ckpt"
    assert (tmp_path / checkpoint).is_file()
    with caplog.at_level(logging.INFO):
        cli = run_lightning_cli(["test", "--config", VST, *data, "--trainer.limit_test_batches", "1"])
    assert "test/acc" in cli.trainer.callback_metrics
    assert f"no --ckpt_path given, using the last checkpoint {checkpoint}" in caplog.text
    capsys.readouterr()
    other = tmp_path / "other_run"
    assert main(["test", "--config", VST, *data, "--trainer.default_root_dir", str(other)]) == 2
    assert re.search(
        r"ckpt_path: not given, and the experiment's checkpoint is not there \(.*other_run/checkpoints/"
        r"last.ckpt, .*other_run/checkpoints/vst.ckpt\)",
        capsys.readouterr().err,
    )


def test_evaluation_options_apply_over_the_checkpoint_and_weight_options_are_refused(
    synthetic_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 9 item 8: `test --ckpt_path X --model.init_args.explain.top_k 13` used to be ignored."""
    run = ["--trainer.default_root_dir", str(tmp_path), "--trainer.enable_progress_bar", "false"]
    run_lightning_cli(
        [
            "fit",
            *_laiar(
                synthetic_root,
                *run,
                "--trainer.max_epochs",
                "1",
                "--trainer.limit_train_batches",
                "1",
                "--trainer.limit_val_batches",
                "1",
            ),
        ]
    )
    checkpoint = tmp_path / "checkpoints" / "laiar.ckpt"
    test = [
        "test",
        *_laiar(synthetic_root, *run, "--trainer.limit_test_batches", "1", "--ckpt_path", str(checkpoint)),
    ]
    with caplog.at_level(logging.INFO):
        run_lightning_cli([*test, "--model.init_args.explain.top_k", "13"])
    assert "applied over the checkpoint's hyperparameters: explain.top_k = 13 (checkpoint: 5)" in caplog.text
    capsys.readouterr()
    records = [json.loads(line) for line in (tmp_path / "explanations.jsonl").read_text().splitlines()]
    assert records and all(len(r["predictions"]) == 13 for r in records)
    assert main([*test, "--model.init_args.model.dtformer.depth", "3"]) == 2
    assert (
        "the checkpoint's weights fix model.dtformer.depth (checkpoint: 2, given: 3); "
        "these options change the model's parameters"
    ) in capsys.readouterr().err


def test_inspect_imports_no_lightning_and_is_fast(synthetic_root: Path) -> None:
    path = next((synthetic_root / "ntu").rglob("*.skeleton"))
    code = (
        "import sys; from lvlm_var.cli import main; code = main(['inspect', sys.argv[1]]); "
        "print('lightning' in sys.modules); sys.exit(code)"
    )
    # CPU seconds of the child, not wall time: on a shared machine (or beside pytest-xdist's other workers)
    # the wall clock measures the neighbours; importing lightning alone costs more than the bound.
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    seconds = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    assert result.stdout.splitlines()[-1] == "False" and "NTU RGB+D skeleton" in result.stdout
    assert seconds < 2.0, f"lvlm-var inspect took {seconds:.1f} CPU-s"


def test_progress_bars_only_on_a_rank_zero_terminal_without_quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    from datamodules.progress import QUIET_ENV, progress_bar

    monkeypatch.setenv(QUIET_ENV, "0")  # restored after the test: `main(["--quiet"])` below sets it
    for name in ("RANK", "LOCAL_RANK", "SLURM_PROCID", "JSM_NAMESPACE_RANK"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False)
    assert progress_bar(3, "x").disable
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    with progress_bar(3, "x") as bar:
        assert not bar.disable
    monkeypatch.setenv("RANK", "1")
    assert progress_bar(3, "x").disable
    monkeypatch.delenv("RANK")
    assert main(["--quiet", "--help"]) == 0 and progress_bar(3, "x").disable
