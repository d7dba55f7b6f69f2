"""Classes that no training sample has, said once when a DataModule is set up.

A model never sees such a class as a target, so its test scores for it mean nothing; a class list longer
than the data (a subset of NTU-120, a Charades subset, a short synthetic set) is worth knowing before a
run, not after reading per-class metrics.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from lightning.pytorch.utilities import rank_zero_warn

__all__ = ["warn_classes_without_training_samples"]


def warn_classes_without_training_samples(
    class_names: Sequence[str], counts: np.ndarray, source: str
) -> list[str]:
    """Warn, on rank zero, how many and which classes have no training sample.

    Args:
        class_names: the ``C`` class names in label order.
        counts: ``(C,)`` training samples of each class (a multi-label sample counts for each of its classes).
        source: where the training split comes from, named in the message (the store's location).

    Returns:
        The names of the classes without a training sample (empty: no warning).
    """
    counts = np.asarray(counts)
    if counts.shape != (len(class_names),):
        raise ValueError(f"expected one count per class ({len(class_names)}), got shape {counts.shape}")
    absent = [name for name, count in zip(class_names, counts.tolist(), strict=True) if count == 0]
    if absent:
        rank_zero_warn(
            f"{len(absent)} of {len(class_names)} classes have no training sample in {source}, so a model "
            f"cannot learn them: {', '.join(absent)}"
        )
    return absent
