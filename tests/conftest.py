"""Shared fixtures: the full synthetic data set, written once per test run by the CLI's generate-synthetic;
the printed configuration of an experiment, parsed once per run (once for all pytest-xdist workers)."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple

import pytest
import yaml
from run_once import built_once, worker_copy


class SyntheticGeneration(NamedTuple):
    """The session's run of ``lvlm-var generate-synthetic --seed 0``: where it wrote and what it printed."""

    root: Path
    exit_code: int
    stdout: str


@pytest.fixture(scope="session")
def synthetic_generation(tmp_path_factory: pytest.TempPathFactory) -> SyntheticGeneration:
    from lvlm_var.cli import main

    def generate(folder: Path) -> None:
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            exit_code = main(["generate-synthetic", "--out", str(folder / "data"), "--seed", "0"])
        (folder / "run.json").write_text(json.dumps({"exit_code": exit_code, "stdout": printed.getvalue()}))

    folder = built_once(tmp_path_factory, "synthetic", generate)
    run = json.loads((folder / "run.json").read_text())
    root = worker_copy(tmp_path_factory, folder / "data")
    return SyntheticGeneration(root, run["exit_code"], run["stdout"])


@pytest.fixture(scope="session")
def synthetic_root(synthetic_generation: SyntheticGeneration) -> Path:
    return synthetic_generation.root


@pytest.fixture(scope="session")
def printed_config(tmp_path_factory: pytest.TempPathFactory) -> Callable[[Sequence[str]], dict]:
    """``lvlm-var fit ARGUMENTS --print_config`` as a dict; each argument list is parsed once a run
    (several tests read the same experiment's configuration)."""
    from lvlm_var.cli import run_lightning_cli

    def print_config(arguments: tuple[str, ...], folder: Path) -> None:
        out = io.StringIO()
        with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as exit_info:
            run_lightning_cli(["fit", *arguments, "--print_config"])
        assert exit_info.value.code in (0, None)
        (folder / "config.yaml").write_text(out.getvalue())

    def parse(arguments: Sequence[str]) -> dict:
        key = tuple(arguments)
        name = "print_config-" + hashlib.sha1("\0".join(key).encode()).hexdigest()[:16]
        folder = built_once(tmp_path_factory, name, lambda folder: print_config(key, folder))
        return yaml.safe_load((folder / "config.yaml").read_text())

    return parse
