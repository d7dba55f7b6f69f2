"""Multi-label mAP over the classes that have a positive, with a warning naming the ones that have none."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from lightning.pytorch.utilities import rank_zero_warn
from torch import Tensor
from torchmetrics.classification import MultilabelAveragePrecision
from torchmetrics.utilities import dim_zero_cat

__all__ = ["PresentClassAveragePrecision"]


class PresentClassAveragePrecision(MultilabelAveragePrecision):
    """Macro average precision over the classes with at least one positive target.

    torchmetrics' macro ``MultilabelAveragePrecision`` counts a class without positives as AP 0 (after
    its "No positive samples found in target" warning), so a split that lacks some classes reports a
    lower mAP whatever the model does. This metric leaves those classes out, as Charades' evaluation
    does implicitly (its AP of a class divides by the class's positives; on the official test split
    every class has some), and warns naming them: once for each different set of absent classes, so
    Lightning's sanity check (a few batches) does not use up the warning of the whole split.

    Args:
        class_names: the ``C`` class names, for the warning.
    """

    def __init__(self, class_names: Sequence[str]) -> None:
        super().__init__(num_labels=len(class_names), average="none")
        self.class_names = list(class_names)
        self._warned_absent: frozenset[int] | None = None

    def compute(self) -> Tensor:
        per_class = super().compute()
        target = dim_zero_cat(self.target)
        present = target.sum(0) > 0
        absent = frozenset((~present).nonzero().flatten().tolist())
        if absent and absent != self._warned_absent:
            self._warned_absent = absent
            names = ", ".join(self.class_names[i] for i in sorted(absent))
            rank_zero_warn(
                f"{len(absent)} of {len(self.class_names)} classes have no positive in the {len(target)} "
                f"evaluated samples; mAP counts them as AP 0, mAP_present leaves them out: {names}"
            )
        if not bool(present.any()):
            return torch.tensor(float("nan"), device=per_class.device)
        return per_class[present].mean()
