"""The README's "use it in your own project" snippets run as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def _own_project_snippets() -> list[str]:
    section = README.read_text().split("## Use it in your own project", 1)[1].split("\n## ", 1)[0]
    snippets = re.findall(r"```python\n(.*?)```", section, re.DOTALL)
    assert len(snippets) == 2, "README's 'Use it in your own project' should hold the VST and LaIAR snippets"
    return snippets


def _run(snippet: str) -> None:
    exec(compile(snippet, str(README), "exec"), {"__name__": "readme"})


def test_vst_tokenizer_snippet_runs(synthetic_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "synthetic").symlink_to(synthetic_root)  # the session's data, not a second copy
    monkeypatch.chdir(tmp_path)
    _run(_own_project_snippets()[0])
    shape, narrative = capsys.readouterr().out.strip().splitlines()[-2:]
    assert shape == "torch.Size([8, 3, 32, 25, 2]) 60"
    assert re.fullmatch(r"\[\d+(, \d+)*\] (<act_\d+> [a-z ,]+ \(\d+\.\d-\d+\.\d s\) ?)+", narrative)
    assert "not seen in training" not in narrative  # the snippet's loop calibrated the names


def test_laiar_batch_builder_snippet_runs(capsys: pytest.CaptureFixture[str]) -> None:
    _run(_own_project_snippets()[1])
    sentence = capsys.readouterr().out.strip().splitlines()[-1]
    assert re.fullmatch(
        r"(pick up|put down) \(\d\.\d\d\): person-(cup|box|door) [a-z_]+ \(frames \d-\d\)( -> .+)?", sentence
    ), sentence
