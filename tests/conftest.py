"""Shared fixtures: the full synthetic data set, generated once per session by the CLI's generator."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def synthetic_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from datamodules.synthetic import generate_all

    root = tmp_path_factory.mktemp("synthetic")
    generate_all(root, seed=0)
    return root
