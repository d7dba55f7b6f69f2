"""end_distributed: tears down the default process group, and does nothing without one."""

from __future__ import annotations

from pathlib import Path

import torch.distributed as dist

from lvlm_var.distributed import end_distributed


def test_end_distributed_destroys_the_group_and_is_a_no_op_without_one(tmp_path: Path) -> None:
    end_distributed()  # no group: nothing to do
    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'store'}", rank=0, world_size=1)
    assert dist.is_initialized()
    end_distributed()
    assert not dist.is_initialized()
