"""A run on the litdata store, SIGKILLed mid-epoch and resumed from its checkpoint, sees every clip once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from datamodules.synthetic.ntu import SyntheticNTUConfig, plan_synthetic_ntu, write_synthetic_ntu

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "tests" / "litdata_resume_script.py"


def _run(mode: str, data_dir: Path, run_dir: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, str(SCRIPT), mode, str(data_dir), str(run_dir)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )


def _steps(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.slow
def test_killed_run_resumes_mid_epoch_where_it_stopped(tmp_path):
    config = SyntheticNTUConfig(
        actions=(6, 7), performers=(1, 2, 3), cameras=(1, 2), num_missing=0, min_frames=6, max_frames=8
    )
    write_synthetic_ntu(tmp_path / "ntu", seed=0, config=config)
    samples, _ = plan_synthetic_ntu(config, seed=0)
    training = sorted(str(s) for s in samples if s.performer in (1, 2))  # ntu60-xsub training subjects
    run = tmp_path / "run"
    run.mkdir()

    killed = _run("kill", tmp_path / "ntu", run)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    before = _steps(run / "kill.jsonl")
    assert [s["step"] for s in before] == [0, 1, 2], "killed when its fourth batch started"

    resumed = _run("resume", tmp_path / "ntu", run)
    assert resumed.returncode == 0, resumed.stdout[-3000:] + resumed.stderr[-3000:]
    after = _steps(run / "resume.jsonl")
    assert [s["step"] for s in after] == list(range(3, len(training)))
    names = [name for step in before + after for name in step["names"]]
    assert sorted(names) == training, "the resumed epoch continues: no clip repeated, none left out"
