"""`make bench`'s narrative-length table reads the tokens of real explanation records."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from experiments.bench_narrative import run


def test_lengths_are_summarised_against_the_targets(tmp_path: Path) -> None:
    path = tmp_path / "explanations.jsonl"
    path.write_text(
        "".join(json.dumps({"sample_id": str(i), "tokens": t}) + "\n" for i, t in enumerate([20, 30, 40]))
    )
    [row] = run(path)
    assert (row["clips"], row["mean_tokens"], row["median_tokens"], row["max_tokens"]) == (3, 30.0, 30, 40)
    assert row["meets target (80)"] and row["meets stretch target (32)"]
    assert row["vs LLaVA-1.5, one frame (576 visual tokens)"] == "19.2x fewer"


def test_missing_or_empty_records_are_reported(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="run `make demo` first"):
        run(tmp_path / "none.jsonl")
    (tmp_path / "empty.jsonl").write_text("\n")
    with pytest.raises(ValueError, match="empty.jsonl: holds no explanation records"):
        run(tmp_path / "empty.jsonl")
