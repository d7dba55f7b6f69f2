"""Both DataModules through one tiny epoch of 2-process CPU DDP (gloo), in a subprocess with a timeout."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from datamodules.synthetic.ntu import SyntheticNTUConfig, plan_synthetic_ntu, write_synthetic_ntu
from datamodules.synthetic.scene_graphs import write_synthetic_scene_graphs

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "tests" / "ddp_datamodule_script.py"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run_ddp(out_dir: Path, runs: dict[str, Path], store: str = "mmap") -> dict[str, list[dict]]:
    """One 2-process launch that fits each ``kind -> data dir`` of ``runs``: the records of both ranks."""
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "MASTER_ADDR": "127.0.0.1",
        "MASTER_PORT": str(_free_port()),
    }
    env.pop("LOCAL_RANK", None)
    arguments = [str(part) for kind, data_dir in runs.items() for part in (kind, data_dir)]
    result = subprocess.run(
        [sys.executable, str(SCRIPT), str(out_dir), store, *arguments],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return {
        kind: [json.loads((out_dir / kind / f"rank{rank}.json").read_text()) for rank in (0, 1)]
        for kind in runs
    }


def _check_sharding(records: list[dict], train_names: set[str]) -> None:
    assert [r["world_size"] for r in records] == [2, 2]
    assert all(r["per_device_batch_size"] == 2 for r in records), "global batch 4 over 2 processes"
    assert all(size <= 2 for r in records for size in r["batch_sizes"])
    seen = [set(r["seen"]["train"]) for r in records]
    assert seen[0] | seen[1] == train_names, "the DistributedSampler covers the training split"
    assert len(seen[0] & seen[1]) <= 1, "ranks see disjoint shards (one sample may repeat as padding)"
    assert len(records[0]["seen"]["train"]) == len(records[1]["seen"]["train"])


_NTU_CONFIG = SyntheticNTUConfig(
    actions=(6, 7), performers=(1, 2, 3), cameras=(1, 2), num_missing=0, min_frames=10, max_frames=20
)


def _ntu_training_names() -> set[str]:
    samples, _ = plan_synthetic_ntu(_NTU_CONFIG, seed=0)
    return {str(s) for s in samples if s.performer in (1, 2)}  # ntu60-xsub training subjects


@pytest.fixture(scope="module")
def both_datamodules_under_ddp(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """Both DataModules fitted in one 2-process launch (the process start is most of the cost)."""
    root = tmp_path_factory.mktemp("ddp_datamodules")
    write_synthetic_ntu(root / "ntu", seed=0, config=_NTU_CONFIG)
    paths = write_synthetic_scene_graphs(root / "sg", seed=1, num_videos=12, feature_dim=8)
    records = _run_ddp(root / "out", {"skeleton": root / "ntu", "scene_graph": root / "sg"})
    return {"records": records, "charades_train": paths["charades_train"]}


def test_skeleton_datamodule_runs_under_two_process_ddp(both_datamodules_under_ddp):
    _check_sharding(both_datamodules_under_ddp["records"]["skeleton"], _ntu_training_names())


@pytest.mark.slow
def test_litdata_store_streams_disjoint_equal_shards_under_two_process_ddp(tmp_path):
    write_synthetic_ntu(tmp_path / "ntu", seed=0, config=_NTU_CONFIG)
    records = _run_ddp(tmp_path / "out", {"skeleton": tmp_path / "ntu"}, store="litdata")["skeleton"]
    assert [r["world_size"] for r in records] == [2, 2]
    seen = [r["seen"]["train"] for r in records]
    assert len(seen[0]) == len(seen[1]) == 4, "8 training clips: 4 a rank, the same number of steps"
    assert set(seen[0]).isdisjoint(seen[1]), "litdata shards by rank (no padding)"
    assert set(seen[0]) | set(seen[1]) == _ntu_training_names()
    assert all(r["batch_sizes"] == [2, 2] for r in records)
    assert sorted(records[0]["seen"]["val"] + records[1]["seen"]["val"]) == sorted(
        set(records[0]["seen"]["val"]) | set(records[1]["seen"]["val"])
    ), "each validation clip once"


def test_scene_graph_datamodule_runs_under_two_process_ddp(both_datamodules_under_ddp):
    charades_train = both_datamodules_under_ddp["charades_train"]
    train = {line.split(",")[0] for line in charades_train.read_text().splitlines()[1:]}
    _check_sharding(both_datamodules_under_ddp["records"]["scene_graph"], train)
