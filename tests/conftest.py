"""Shared fixtures: the full synthetic data set, written once per session by the CLI's generate-synthetic."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path
from typing import NamedTuple

import pytest


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
