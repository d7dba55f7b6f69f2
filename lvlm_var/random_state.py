"""Random state in checkpoints, so that a resumed fit draws the same numbers as an uninterrupted one.

Lightning checkpoints weights, optimiser, schedulers and loop progress, but no generator state: after a
resume, shuffling, dropout, Gumbel-Softmax noise and data-loader worker seeds (all drawn from torch's
global generator) differ from those of a straight run. :class:`RandomStateCheckpointing` stores the
global generators of torch (CPU and every CUDA device), numpy and python ``random`` at every checkpoint
and restores them on load. Under DDP every rank has its own state: all ranks' states are gathered into
the checkpoint (Lightning writes rank 0's file, but calls the save hook on every rank) and each rank
restores its own; resuming on a different number of ranks restores rank ``r`` from saved rank
``r % saved_ranks``, which is reproducible but not the uninterrupted run.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch
import torch.distributed as dist

__all__ = ["RandomStateCheckpointing", "capture_random_state", "restore_random_state"]

CHECKPOINT_KEY = "random_state"


def capture_random_state() -> dict[str, Any]:
    """The global generators' states as tensors, ints and tuples (loadable with ``weights_only=True``)."""
    kind, keys, position, has_gauss, cached_gaussian = np.random.get_state()
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "numpy": (kind, torch.from_numpy(keys.astype(np.int64)), position, has_gauss, cached_gaussian),
        "python": random.getstate(),
    }


def restore_random_state(state: dict[str, Any]) -> None:
    """Set the global generators from :func:`capture_random_state`'s result.

    CUDA states are restored only when the process sees as many devices as the run that saved them.
    """
    torch.set_rng_state(state["torch"].cpu())
    if state["cuda"] and torch.cuda.is_available() and torch.cuda.device_count() == len(state["cuda"]):
        torch.cuda.set_rng_state_all([s.cpu() for s in state["cuda"]])
    kind, keys, position, has_gauss, cached_gaussian = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), position, has_gauss, cached_gaussian))
    version, internal, gauss_next = state["python"]
    random.setstate((version, tuple(internal), gauss_next))


def _world() -> tuple[int, int]:
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


class RandomStateCheckpointing:
    """LightningModule mixin: every rank's random state saved at checkpoints and restored on load.

    Put it before ``LightningModule`` in the bases; a subclass that overrides ``on_save_checkpoint`` or
    ``on_load_checkpoint`` calls ``super()``. The checkpoint key is ``"random_state"``: one state per rank.
    """

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        state = capture_random_state()
        rank, world = _world()
        states: list[Any] = [state]
        if world > 1:
            states = [None] * world
            dist.all_gather_object(states, state)
        checkpoint[CHECKPOINT_KEY] = states
        super().on_save_checkpoint(checkpoint)

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        states = checkpoint.get(CHECKPOINT_KEY)
        if states:
            rank, _ = _world()
            restore_random_state(states[rank % len(states)])
        super().on_load_checkpoint(checkpoint)
