"""The process group: whether one is running, and its clean end."""

from __future__ import annotations

import torch.distributed as dist

__all__ = ["distributed_world", "end_distributed"]


def distributed_world() -> bool:
    """True inside an initialised process group of more than one process."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def end_distributed() -> None:
    """Wait for every rank, then destroy the default process group (a no-op without one).

    Lightning leaves the group alive when ``fit`` / ``test`` return. On CPU (gloo) its threads then
    sometimes outlive the interpreter and abort the process at exit with ``terminate called without an
    active exception`` (SIGABRT), after all the work is done; an orderly teardown avoids that.
    """
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
