"""The ``lvlm-var`` command: LightningCLI subcommands plus data tools.

``fit | validate | test | predict`` run Lightning on an experiment YAML (omegaconf parser mode, so
YAMLs may interpolate ``${...}``; see :mod:`lvlm_var.lightning_cli` for our rules); ``generate-synthetic``
writes the embedded data sets in their real file formats; ``inspect PATH`` prints what a data file holds,
or the clear reason it is bad; ``prepare-data --config EXP.yaml`` builds the experiment's data store
once, for every node to read; ``report RUN_DIR`` writes the run's HTML report. ``--quiet`` turns the
progress bars off, ``--debug`` shows the traceback of a configuration error.

The CLI is the one place where data, models and callbacks meet, so it imports ``datamodules`` and
``callbacks`` lazily, inside the commands: importing ``lvlm_var`` alone never pulls them in.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from lvlm_var.config_errors import ConfigurationError
from lvlm_var.lightning_cli import run_lightning_cli

__all__ = ["main", "run_lightning_cli"]

_LIGHTNING_SUBCOMMANDS = ("fit", "validate", "test", "predict")

_OVERVIEW = """\
usage: lvlm-var <command> [options]

Interpretable human action recognition: LVLM-VAR (semantic action tokens + 4-bit QLoRA LLaVA) and
LaIAR (DT-Former over human-object relation tokens), on PyTorch Lightning.

Lightning commands (see `lvlm-var <command> --help` for every option):
  fit                 train an experiment:     lvlm-var fit --config experiments/synthetic_laiar.yaml
  validate            validate a checkpoint:   lvlm-var validate --config EXP.yaml --ckpt_path CKPT
  test                test a checkpoint:       lvlm-var test --config EXP.yaml --ckpt_path CKPT
  predict             predict + explanations:  lvlm-var predict --config EXP.yaml --ckpt_path CKPT
  Any option overrides the YAML, e.g. --trainer.devices 8 --data.init_args.batch_size 16;
  --print_config shows the resolved configuration. Without --ckpt_path, validate / test / predict use
  the experiment's last checkpoint (its YAML's ModelCheckpoint folder, relative to default_root_dir).

Data commands:
  generate-synthetic  write the embedded synthetic data sets in the real file formats
                      (NTU .skeleton, NW-UCLA JSON, Action Genome pickles, Charades csv, box features)
  inspect PATH        print what a data file holds, or the reason it is bad
  extract-features    Action Genome RGB frames -> person/object/union RoI features (box-feature .npz)
  prepare-data        build an experiment's data store once (parallel parse), e.g. for a cluster:
                      lvlm-var prepare-data --config EXP.yaml --data.init_args.store litdata
                        --data.init_args.store_uri s3://bucket/ntu120

Run commands:
  report RUN_DIR      write RUN_DIR/report.html: metrics, per-class scores, token retention and one
                      card per explained clip, in one self-contained HTML file

Options of every command: --quiet (no progress bars), --debug (tracebacks of configuration errors).

Run `lvlm-var <command> --help` for a command's options.
"""


def _generate_synthetic(argv: list[str]) -> int:
    from datamodules.synthetic import generate_all

    parser = argparse.ArgumentParser(
        prog="lvlm-var generate-synthetic",
        description="Write the embedded synthetic data sets in their real file formats.",
    )
    parser.add_argument("--out", type=Path, default=Path("data/synthetic"), help="output directory")
    parser.add_argument("--seed", type=int, default=0, help="random seed (generation is deterministic)")
    options = parser.parse_args(argv)
    summary = generate_all(options.out, seed=options.seed)
    for name, value in summary.items():
        print(f"{name}: {value}")
    return 0


def _inspect(argv: list[str]) -> int:
    from datamodules.formats.errors import DataFormatError
    from datamodules.inspect_file import describe_file

    parser = argparse.ArgumentParser(
        prog="lvlm-var inspect",
        description="Print what a data file holds (.skeleton, NW-UCLA .json, pyskl / Action Genome .pkl, "
        "Charades .csv / classes .txt, box-feature .npz), or the clear reason it is bad.",
    )
    parser.add_argument("path", type=Path)
    options = parser.parse_args(argv)
    try:
        print(describe_file(options.path))
    except (DataFormatError, FileNotFoundError, IsADirectoryError) as error:
        print(f"{type(error).__name__}: {error}", file=sys.stderr)
        return 1
    return 0


def _report(argv: list[str]) -> int:
    from callbacks.report import ReportInputError, write_report

    parser = argparse.ArgumentParser(
        prog="lvlm-var report",
        description="Write one self-contained HTML report of a run folder (a trainer.default_root_dir): "
        "metrics over epochs, a confusion matrix or per-class AP, token retention, a card per clip.",
    )
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--out", type=Path, default=None, help="the HTML file (default RUN_DIR/report.html)")
    parser.add_argument(
        "--max_cards", type=int, default=200, help="at most this many clip cards, wrong ones first"
    )
    options = parser.parse_args(argv)
    try:
        path = write_report(options.run_dir, options.out, options.max_cards)
    except (ReportInputError, FileNotFoundError) as error:
        print(f"lvlm-var report: {error}", file=sys.stderr)
        return 1
    print(f"report: {path}")
    return 0


def _run_lightning(command: str, argv: list[str], quiet: bool, debug: bool) -> int:
    from lvlm_var.distributed import end_distributed

    if quiet:
        argv = [*argv, "--trainer.enable_progress_bar", "false"]
    try:
        run_lightning_cli(argv)
    except ConfigurationError as error:
        if debug:
            raise
        print(
            f"lvlm-var {command}: configuration error: {error}\n(--debug shows the traceback)",
            file=sys.stderr,
        )
        return 2
    finally:
        end_distributed()
    return 0


def _prepare_data(argv: list[str]) -> int:
    if argv and argv[0] in ("-h", "--help"):
        print(
            "usage: lvlm-var prepare-data --config EXP.yaml [--data.init_args.KEY VALUE ...]\n\n"
            "Build the data store of an experiment (what `fit` would build in prepare_data) and exit."
        )
        return 0
    cli = run_lightning_cli(argv, run=False)
    cli.datamodule.prepare_data()
    print(f"data store ready: {cli.datamodule.store_location}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``lvlm-var`` console script (and ``python -m lvlm_var``)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    quiet, debug = "--quiet" in argv, "--debug" in argv
    argv = [arg for arg in argv if arg not in ("--quiet", "--debug")]
    if quiet:
        from datamodules.progress import QUIET_ENV  # the switch the data steps' progress bars read

        os.environ[QUIET_ENV] = "1"
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(_OVERVIEW)
        return 0
    command, rest = argv[0], argv[1:]
    if command == "generate-synthetic":
        return _generate_synthetic(rest)
    if command == "inspect":
        return _inspect(rest)
    if command == "report":
        return _report(rest)
    if command == "prepare-data":
        return _prepare_data(rest)
    if command == "extract-features":
        from datamodules.box_feature_extraction import main as extract_features_main

        return extract_features_main(rest)
    if command in _LIGHTNING_SUBCOMMANDS:
        return _run_lightning(command, argv, quiet, debug)
    print(f"lvlm-var: unknown command '{command}'\n\n{_OVERVIEW}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
