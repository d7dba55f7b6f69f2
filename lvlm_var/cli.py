"""The ``lvlm-var`` command: LightningCLI subcommands plus data tools.

``fit | validate | test | predict`` run Lightning on an experiment YAML (omegaconf parser mode, so
YAMLs may interpolate ``${...}``); ``generate-synthetic`` writes the embedded data sets in their real
file formats; ``inspect PATH`` prints what a data file holds, or the clear reason it is bad.

The CLI is the one place where data, models and callbacks meet, so it imports ``datamodules`` and
``callbacks`` lazily, inside the commands: importing ``lvlm_var`` alone never pulls them in.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

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
  --print_config shows the resolved configuration.

Data commands:
  generate-synthetic  write the embedded synthetic data sets in the real file formats
                      (NTU .skeleton, NW-UCLA JSON, Action Genome pickles, Charades csv, box features)
  inspect PATH        print what a data file holds, or the reason it is bad
  extract-features    Action Genome RGB frames -> person/object/union RoI features (box-feature .npz)

Run `lvlm-var <command> --help` for a command's options.
"""


# DataModule property -> model init argument, filled in when both exist (a model without the argument
# is left alone), so YAMLs never repeat what the data files already say.
_DATA_TO_MODEL_LINKS = (
    ("num_classes", "num_classes"),
    ("class_names", "class_names"),
    ("feature_dim", "feature_dim"),
    ("object_classes", "object_class_names"),
    ("relationship_classes", "relation_names"),
)


def _init_arguments(class_path: str) -> set[str] | None:
    """The keyword arguments ``class_path``'s ``__init__`` accepts (``None``: it takes ``**kwargs``)."""
    import importlib
    import inspect

    module_name, _, class_name = class_path.rpartition(".")
    parameters = inspect.signature(getattr(importlib.import_module(module_name), class_name)).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return None
    return set(parameters)


def _lightning_cli_class():
    import torch
    from lightning.pytorch.cli import LightningCLI

    class LvlmVarCLI(LightningCLI):
        """LightningCLI that links what the DataModule knows (classes, feature size) into the model."""

        def add_arguments_to_parser(self, parser) -> None:
            for source, target in _DATA_TO_MODEL_LINKS:
                parser.link_arguments(f"data.{source}", f"model.init_args.{target}", apply_on="instantiate")

        def _parse_ckpt_path(self) -> None:
            # Lightning stores every applied link in a checkpoint's hyperparameters, also those the
            # model has no argument for (a VST has no num_classes); feeding them back would fail.
            ckpt_path = self.config.get("subcommand") and self.config[self.config.subcommand].get("ckpt_path")
            if not ckpt_path or not Path(ckpt_path).is_file():
                return
            hparams = torch.load(ckpt_path, weights_only=True, map_location="cpu").get("hyper_parameters", {})
            hparams.pop("_instantiator", None)
            if "_class_path" not in hparams:
                return super()._parse_ckpt_path()
            class_path = hparams.pop("_class_path")
            accepted = _init_arguments(class_path)
            kwargs = {k: v for k, v in hparams.items() if accepted is None or k in accepted}
            model = {"class_path": class_path, "dict_kwargs": kwargs}
            self.config = self.parser.parse_object({self.config.subcommand: {"model": model}}, self.config)

    return LvlmVarCLI


def run_lightning_cli(args: list[str] | None = None, run: bool = True):
    """Run Lightning's CLI with our parser settings; models and data modules are chosen by class path.

    Args:
        args: command-line arguments (``sys.argv[1:]`` when ``None``).
        run: whether to run the subcommand (``False`` only builds the objects).

    Returns:
        The ``LightningCLI`` instance.
    """
    from lightning.pytorch import LightningDataModule, LightningModule

    return _lightning_cli_class()(
        LightningModule,
        LightningDataModule,
        subclass_mode_model=True,
        subclass_mode_data=True,
        parser_kwargs={"parser_mode": "omegaconf"},
        save_config_kwargs={"overwrite": True},
        args=args,
        run=run,
    )


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


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``lvlm-var`` console script (and ``python -m lvlm_var``)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(_OVERVIEW)
        return 0
    command, rest = argv[0], argv[1:]
    if command == "generate-synthetic":
        return _generate_synthetic(rest)
    if command == "inspect":
        return _inspect(rest)
    if command == "extract-features":
        from datamodules.box_feature_extraction import main as extract_features_main

        return extract_features_main(rest)
    if command in _LIGHTNING_SUBCOMMANDS:
        from lvlm_var.distributed import end_distributed

        run_lightning_cli(argv)
        end_distributed()
        return 0
    print(f"lvlm-var: unknown command '{command}'\n\n{_OVERVIEW}", file=sys.stderr)
    return 2
