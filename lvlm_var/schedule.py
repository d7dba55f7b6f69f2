"""Learning-rate schedule shared by the LightningModules: linear warm-up, then cosine decay to zero."""

from __future__ import annotations

import math
from typing import Any

from torch.optim import Optimizer
from torch.optim.lr_scheduler import LambdaLR

__all__ = ["WarmupCosine"]


class WarmupCosine(LambdaLR):
    """Every group's learning rate times a linear warm-up over ``warmup_steps``, then a cosine decay that
    reaches zero at ``total_steps``.

    Build it in ``configure_optimizers`` from ``trainer.estimated_stepping_batches``: Lightning runs that
    again on resume, and the schedule's length is not restored from the checkpoint (only the step count
    is), so a run resumed with a larger ``max_epochs`` follows its own length. A ``LambdaLR`` over a
    callable object would pickle the object's ``__dict__`` and come back with the old length (a resume
    from 2 to 4 epochs then trained at learning rate 0). Loading a state also sets the optimiser's
    learning rates to this schedule's value at the restored step, instead of the saved run's last one.

    Raises:
        ValueError: ``total_steps < 1`` or ``warmup_steps`` outside ``[0, total_steps)``.
    """

    def __init__(self, optimizer: Optimizer, total_steps: int, warmup_steps: int) -> None:
        if total_steps < 1 or not 0 <= warmup_steps < total_steps:
            raise ValueError(
                "WarmupCosine needs total_steps >= 1 and 0 <= warmup_steps < total_steps, got "
                f"total_steps={total_steps}, warmup_steps={warmup_steps}"
            )
        self.total_steps = total_steps
        self.warmup_steps = warmup_steps
        super().__init__(optimizer, self._factor_of(total_steps, warmup_steps))

    @staticmethod
    def _factor_of(total_steps: int, warmup_steps: int):
        # A plain function: LambdaLR checkpoints no state of it.
        def factor(step: int) -> float:
            if step < warmup_steps:
                return (step + 1) / warmup_steps
            progress = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
            return 0.5 * (1.0 + math.cos(math.pi * progress))

        return factor

    def state_dict(self) -> dict[str, Any]:
        state = super().state_dict()
        for name in ("total_steps", "warmup_steps"):  # this run's length, never restored
            state.pop(name, None)
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        total_steps, warmup_steps = self.total_steps, self.warmup_steps
        super().load_state_dict(state_dict)
        self.total_steps, self.warmup_steps = total_steps, warmup_steps
        self.lr_lambdas = [self._factor_of(total_steps, warmup_steps)] * len(self.optimizer.param_groups)
        factor = self.lr_lambdas[0](self.last_epoch)
        for group, base_lr in zip(self.optimizer.param_groups, self.base_lrs, strict=True):
            group["lr"] = base_lr * factor
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]
