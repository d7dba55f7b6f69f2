"""``LvlmVarCLI``: Lightning's CLI with the rules of our experiment YAMLs.

* What the DataModule knows (classes, feature size) is linked into the model.
* Relative output paths of callbacks (``output_path``, ``dirpath``) are relative to
  ``trainer.default_root_dir``, so ``--trainer.default_root_dir X`` moves every output of a run.
* Every fit ends with a checkpoint: the YAMLs save at the end of every training epoch, and a
  ``ModelCheckpoint`` with ``save_last`` also gets ``last.ckpt`` when the fit ends.
* ``validate`` / ``test`` / ``predict`` without ``--ckpt_path`` use the experiment's last checkpoint (the
  ``ModelCheckpoint`` of its YAML: ``last.ckpt``, else ``FILENAME.ckpt``), except under ``fast_dev_run``.
* Model options given on the command line next to ``--ckpt_path`` are applied over the checkpoint's
  hyperparameters (evaluation-time options such as ``explain.top_k``); one that changes the weights the
  checkpoint holds is refused with a message naming it.
* Configuration errors are one :class:`~lvlm_var.config_errors.ConfigurationError` naming the key, the value
  and what is allowed.
"""

from __future__ import annotations

import dataclasses
import logging
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lvlm_var.config_errors import ConfigurationError, closest, field_error_message, short_parser_message

__all__ = ["run_lightning_cli", "explicit_model_options"]

# DataModule property -> model init argument (LaIARModule's are fields of its ``model`` config), filled in
# when both exist (a model without the argument is left alone), so YAMLs never repeat what the data files
# already say.
_DATA_TO_MODEL_LINKS = (
    ("class_names", "class_names"),
    ("num_classes", "model.num_classes"),
    ("class_names", "model.class_names"),
    ("feature_dim", "model.encoder.feature_dim"),
    ("object_classes", "model.object_class_names"),
    ("relationship_classes", "model.relation_names"),
)
_EVALUATION_SUBCOMMANDS = ("validate", "test", "predict")
_OUTPUT_ATTRIBUTES = ("output_path", "dirpath")
_KERNELS_MESSAGE = "Failed to load CPU gemm_4bit_forward from kernels-community: No module named 'kernels'"


def _option_names(class_path: str) -> list[str]:
    """Every option of ``class_path``'s ``__init__``, with the fields of dataclass arguments dotted
    (``loss.keep_ratio``), for "did you mean" hints."""
    import dataclasses
    import importlib
    import inspect
    import typing

    module_name, _, class_name = class_path.rpartition(".")
    cls = getattr(importlib.import_module(module_name), class_name)
    hints = typing.get_type_hints(cls.__init__)
    names: list[str] = []

    def add(prefix: str, kind: Any) -> None:
        if dataclasses.is_dataclass(kind):
            field_hints = typing.get_type_hints(kind)
            for field in dataclasses.fields(kind):
                add(f"{prefix}.{field.name}", field_hints.get(field.name))
        else:
            names.append(prefix)

    for name in inspect.signature(cls).parameters:
        add(name, hints.get(name))
    return names


def _init_arguments(class_path: str) -> set[str] | None:
    """The keyword arguments ``class_path``'s ``__init__`` accepts (``None``: it takes ``**kwargs``)."""
    import importlib
    import inspect

    module_name, _, class_name = class_path.rpartition(".")
    parameters = inspect.signature(getattr(importlib.import_module(module_name), class_name)).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return None
    return set(parameters)


def explicit_model_options(args: list[str]) -> list[str]:
    """The model init arguments given on the command line: ``--model.init_args.explain.top_k 157`` (or
    ``--model.explain.top_k=157``) -> ``explain.top_k``; nested ones keep their dots."""
    options = []
    for arg in args:
        if arg.startswith("--model.") and not arg.startswith("--model.class_path"):
            key = arg.removeprefix("--model.").partition("=")[0]
            options.append(key.removeprefix("init_args."))
    return options


def _get_path(value: Any, path: str) -> Any:
    for part in path.split("."):
        value = value[part] if isinstance(value, Mapping) else getattr(value, part)
    return value


def _set_path(value: Any, path: str, new: Any) -> Any:
    """``value`` with ``path`` set to ``new``; dataclasses are replaced, dicts copied."""
    head, _, rest = path.partition(".")
    inner = new if not rest else _set_path(_get_path(value, head), rest, new)
    if isinstance(value, Mapping):
        return {**value, head: inner}
    return dataclasses.replace(value, **{head: inner})


def _rooted(path: str, root: str | None) -> str:
    return path if root is None or Path(path).is_absolute() else str(Path(root) / path)


class _DropKernelsWarning(logging.Filter):
    """bitsandbytes tries an optional CPU kernel package at import and logs its absence as a warning."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(_KERNELS_MESSAGE)


_KERNELS_FILTER = _DropKernelsWarning()


def _lightning_cli_class():
    import inspect

    import torch
    from jsonargparse import ArgumentError
    from lightning.pytorch.cli import LightningCLI, _InstantiatorFn
    from lightning.pytorch.utilities import rank_zero_info

    class OwnLinksInstantiator(_InstantiatorFn):
        """Lightning writes every applied link into the model's hyperparameters, also one whose target the
        model lacks; a nested one (``model.num_classes`` into a VSTModule, which has no ``model``) fails
        there. Only links into the model's own arguments are kept. (Lightning's private
        ``_InstantiatorFn``, as of Lightning 2.6.)"""

        def __call__(self, class_type, *args, applied_instantiation_links: dict, **kwargs):
            accepted = inspect.signature(class_type).parameters
            own = {
                key: value
                for key, value in applied_instantiation_links.items()
                if not key.startswith("model.init_args.") or key.split(".")[2] in accepted
            }
            return super().__call__(class_type, *args, applied_instantiation_links=own, **kwargs)

    class LvlmVarCLI(LightningCLI):
        """LightningCLI with our path, checkpoint and error rules (see the module docstring)."""

        def __init__(self, *args: Any, explicit_args: list[str] | None = None, **kwargs: Any) -> None:
            self._explicit_model_options = explicit_model_options(explicit_args or [])
            self._checkpoint_overrides: dict[str, tuple[Any, Any]] = {}
            super().__init__(*args, **kwargs)

        def add_arguments_to_parser(self, parser) -> None:
            for source, target in _DATA_TO_MODEL_LINKS:
                parser.link_arguments(f"data.{source}", f"model.init_args.{target}", apply_on="instantiate")

        def _add_instantiators(self) -> None:
            super()._add_instantiators()
            self.parser.add_instantiator(
                OwnLinksInstantiator(cli=self, key="model"),
                self._model_class,
                subclasses=self.subclass_mode_model,
            )

        def parse_arguments(self, parser, args) -> None:
            # `main` and the experiment scripts always pass their arguments explicitly, so Lightning's
            # warning about args given next to sys.argv does not apply.
            try:
                self.config = parser.parse_args(args)
            except ArgumentError as error:
                raise ConfigurationError(self._parser_message(parser, args, str(error))) from error
            subcommand = self.config.get("subcommand")
            if not subcommand:  # run=False: one config, no subcommand
                self._root_outputs(self.config)
                return
            config = self.config[subcommand]
            self._root_outputs(config)
            # fast_dev_run checks that the code runs; it saves no checkpoint and needs none.
            needs_checkpoint = subcommand in _EVALUATION_SUBCOMMANDS and not config.trainer.fast_dev_run
            if needs_checkpoint and not config.get("ckpt_path"):
                config["ckpt_path"] = self._last_checkpoint(subcommand)

        @staticmethod
        def _parser_message(parser, args, message: str) -> str:
            if not message.startswith("unrecognized arguments") or not args:
                return short_parser_message(message, _option_names)
            subcommands = getattr(parser, "_subcommands_action", None)
            subparser = subcommands._name_parser_map.get(args[0], parser) if subcommands else parser
            known = set(subparser._option_string_actions)
            unknown = [a.partition("=")[0] for a in args[1:] if a.startswith("--")]
            unknown = [
                a
                for a in unknown
                if a not in known
                and not a.startswith(("--model.", "--data.", "--optimizer.", "--lr_scheduler."))
            ]
            if not unknown:
                return message
            hints = closest(unknown[0], known)
            return f"{unknown[0].removeprefix('--')}: no such option" + (
                f"; did you mean {' or '.join(hints)}?" if hints else ""
            )

        @staticmethod
        def _root_outputs(config) -> None:
            root = config.trainer.get("default_root_dir")
            for callback in config.trainer.get("callbacks") or []:
                init_args = callback.get("init_args") if hasattr(callback, "get") else None
                for attribute in _OUTPUT_ATTRIBUTES:
                    if init_args is not None and isinstance(init_args.get(attribute), str | Path):
                        init_args[attribute] = _rooted(str(init_args[attribute]), root)

        def _last_checkpoint(self, subcommand: str) -> str | None:
            config = self.config[subcommand]
            expected = []
            for callback in config.trainer.get("callbacks") or []:
                if not str(getattr(callback, "class_path", "")).endswith("ModelCheckpoint"):
                    continue
                init_args = callback.get("init_args") or {}
                folder = Path(
                    init_args.get("dirpath") or _rooted("checkpoints", config.trainer.get("default_root_dir"))
                )
                expected += [folder / "last.ckpt"] + (
                    [folder / f"{init_args['filename']}.ckpt"] if init_args.get("filename") else []
                )
            for path in expected:
                if path.is_file():
                    rank_zero_info(
                        f"lvlm-var {subcommand}: no --ckpt_path given, using the last checkpoint {path}"
                    )
                    return str(path)
            if expected:
                raise ConfigurationError(
                    "ckpt_path: not given, and the experiment's checkpoint is not there "
                    f"({', '.join(map(str, expected))}); "
                    f"run `lvlm-var fit` with this config first or give --ckpt_path"
                )
            return None

        def _parse_ckpt_path(self) -> None:
            # Lightning stores every applied link in a checkpoint's hyperparameters, also those the
            # model has no argument for (a VST has no num_classes); feeding them back would fail.
            subcommand = self.config.get("subcommand")
            ckpt_path = subcommand and self.config[subcommand].get("ckpt_path")
            if not ckpt_path or not Path(ckpt_path).is_file():
                return
            hparams = torch.load(ckpt_path, weights_only=True, map_location="cpu").get("hyper_parameters", {})
            hparams.pop("_instantiator", None)
            if "_class_path" not in hparams:
                return super()._parse_ckpt_path()
            class_path = hparams.pop("_class_path")
            accepted = _init_arguments(class_path)
            kwargs = {k: v for k, v in hparams.items() if accepted is None or k in accepted}
            kwargs = self._apply_explicit_options(subcommand, kwargs)
            model = {"class_path": class_path, "dict_kwargs": kwargs}
            self.config = self.parser.parse_object({subcommand: {"model": model}}, self.config)

        def _apply_explicit_options(self, subcommand: str, kwargs: dict[str, Any]) -> dict[str, Any]:
            """The command line's model options over the checkpoint's hyperparameters, changes recorded."""
            init_args = self.config[subcommand].model.get("init_args") or {}
            for path in self._explicit_model_options:
                try:
                    stored, given = _get_path(kwargs, path), _get_path(init_args, path)
                except (AttributeError, KeyError, TypeError):
                    continue
                if stored != given:
                    kwargs = _set_path(kwargs, path, given)
                    self._checkpoint_overrides[path] = (stored, given)
            if self._checkpoint_overrides:
                rank_zero_info(
                    "lvlm-var: applied over the checkpoint's hyperparameters: "
                    + ", ".join(
                        f"{path} = {given!r} (checkpoint: {stored!r})"
                        for path, (stored, given) in self._checkpoint_overrides.items()
                    )
                )
            return kwargs

        def instantiate_classes(self) -> None:
            try:
                super().instantiate_classes()
            except (ValueError, TypeError) as error:
                subcommand = self.config.get("subcommand")
                config = (self.config[subcommand] if subcommand else self.config).as_dict()
                message = field_error_message(error, config)
                if message is None:
                    raise
                raise ConfigurationError(message) from error

        def before_fit(self) -> None:
            checkpoints = [c for c in self.trainer.callbacks if type(c).__name__ == "ModelCheckpoint"]
            if checkpoints and all(
                c.filename and not getattr(c, "_enable_version_counter", True) for c in checkpoints
            ):
                # Fixed checkpoint names are overwritten by each fit on purpose (the YAMLs say so).
                warnings.filterwarnings("ignore", message=r"Checkpoint directory .* exists and is not empty")
            if type(self.model).train is not torch.nn.Module.train:
                # The module keeps some submodules in eval mode on purpose (a frozen encoder).
                rank_zero_info(
                    f"{type(self.model).__name__} keeps its frozen submodules in eval mode while it "
                    "trains (intended: no dropout or batch-norm updates in them)"
                )
                warnings.filterwarnings("ignore", message=r"Found \d+ module\(s\) in eval mode")

        def after_fit(self) -> None:
            # A fit however short (one epoch, max_steps, validation every n epochs) ends with last.ckpt.
            for callback in self.trainer.callbacks:
                if type(callback).__name__ == "ModelCheckpoint" and callback.save_last and callback.dirpath:
                    self.trainer.save_checkpoint(
                        Path(callback.dirpath) / f"{callback.CHECKPOINT_NAME_LAST}.ckpt"
                    )

        def _run_subcommand(self, subcommand: str) -> None:
            try:
                super()._run_subcommand(subcommand)
            except RuntimeError as error:
                if not self._checkpoint_overrides or "Error(s) in loading state_dict" not in str(error):
                    raise
                fixed = ", ".join(
                    f"{path} (checkpoint: {stored!r}, given: {given!r})"
                    for path, (stored, given) in self._checkpoint_overrides.items()
                )
                raise ConfigurationError(
                    f"model.init_args: the checkpoint's weights fix {fixed}; these options change the "
                    "model's parameters, so they cannot be changed at evaluation time (drop them or train a "
                    "new model)"
                ) from error

    return LvlmVarCLI


def run_lightning_cli(args: list[str], run: bool = True):
    """Run Lightning's CLI with our parser settings; models and data modules are chosen by class path.

    Args:
        args: the command-line arguments, the subcommand first (``["fit", "--config", ...]``).
        run: whether to run the subcommand (``False`` only builds the objects).

    Returns:
        The ``LightningCLI`` instance.

    Raises:
        ConfigurationError: a bad key, value or class path (the message names it).
    """
    from lightning.pytorch import LightningDataModule, LightningModule

    logging.getLogger("bitsandbytes.backends.cpu.ops").addFilter(_KERNELS_FILTER)
    return _lightning_cli_class()(
        LightningModule,
        LightningDataModule,
        subclass_mode_model=True,
        subclass_mode_data=True,
        parser_kwargs={"parser_mode": "omegaconf", "exit_on_error": False},
        save_config_kwargs={"overwrite": True},
        args=args,
        run=run,
        explicit_args=list(args),
    )
