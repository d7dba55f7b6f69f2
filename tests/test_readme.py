"""The README's "use it in your own project" snippet runs as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def _own_project_snippet() -> str:
    section = README.read_text().split("## Use it in your own project", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match, "README has no python snippet under 'Use it in your own project'"
    return match.group(1)


def test_own_project_snippet_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    from datamodules.synthetic import write_synthetic_ntu

    write_synthetic_ntu(tmp_path / "data" / "synthetic" / "ntu", seed=0)
    monkeypatch.chdir(tmp_path)
    exec(compile(_own_project_snippet(), str(README), "exec"), {})
    assert "torch.Size([8, 3, 32, 25, 2]) 60" in capsys.readouterr().out
