"""2-process CPU DDP (gloo) of the NF4 tiny LLaVA classifier in a subprocess (DDP in pytest reruns it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

pytest_plugins = ["lvlm_helpers"]  # the tiny_llava_dir and vst_checkpoint fixtures


REPO = Path(__file__).resolve().parents[1]


def test_two_process_ddp_fit_and_test_without_unused_parameters(tmp_path, tiny_llava_dir, vst_checkpoint):
    tests = str(REPO / "tests")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), tests, os.environ.get("PYTHONPATH", "")])}
    env.pop("LOCAL_RANK", None)
    completed = subprocess.run(
        [
            sys.executable,
            str(REPO / "tests" / "ddp_lvlm_script.py"),
            str(tiny_llava_dir),
            str(vst_checkpoint),
            str(tmp_path),
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    result = json.loads((tmp_path / "result.json").read_text())
    assert result["world_size"] == 2
    assert 0.0 <= result["test"]["test/acc"] <= 1.0
    assert {"train", "val", "test"} <= set(result["summary"])
    assert result["summary"]["test"]["tokens_kept"] > 0
    assert result["written"] == 8
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(2)]
    assert ranks[0] == ranks[1]  # gradients were all-reduced: both ranks hold the same adapters
    assert any("lora_B" in name and value > 0 for name, value in ranks[0].items())
