"""Shared fixtures: the full synthetic data set, written once per session by the CLI's generate-synthetic;
the printed configuration of an experiment, parsed once per session."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple

import pytest
import yaml


class SyntheticGeneration(NamedTuple):
    """The session's run of ``lvlm-var generate-synthetic --seed 0``: where it wrote and what it printed."""

    root: Path
    exit_code: int
    stdout: str


@pytest.fixture(scope="session")
def synthetic_generation(tmp_path_factory: pytest.TempPathFactory) -> SyntheticGeneration:
    from lvlm_var.cli import main

    root = tmp_path_factory.mktemp("synthetic")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exit_code = main(["generate-synthetic", "--out", str(root), "--seed", "0"])
    return SyntheticGeneration(root, exit_code, printed.getvalue())


@pytest.fixture(scope="session")
def synthetic_root(synthetic_generation: SyntheticGeneration) -> Path:
    return synthetic_generation.root


@pytest.fixture(scope="session")
def printed_config() -> Callable[[Sequence[str]], dict]:
    """``lvlm-var fit ARGUMENTS --print_config`` as a dict; each argument list is parsed once a session
    (several tests read the same experiment's configuration)."""
    from lvlm_var.cli import run_lightning_cli

    printed: dict[tuple[str, ...], str] = {}

    def parse(arguments: Sequence[str]) -> dict:
        key = tuple(arguments)
        if key not in printed:
            out = io.StringIO()
            with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as exit_info:
                run_lightning_cli(["fit", *key, "--print_config"])
            assert exit_info.value.code in (0, None)
            printed[key] = out.getvalue()
        return yaml.safe_load(printed[key])

    return parse
