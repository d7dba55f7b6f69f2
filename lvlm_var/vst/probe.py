"""A bag-of-codes linear probe: how much class information the discrete tokens carry on their own."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from .optional_state import OptionalBuffers

__all__ = ["BagOfCodesProbe", "code_histogram"]


def code_histogram(codes: Tensor, codebook_size: int) -> Tensor:
    """Relative frequency of every code in each clip: ``(B, S)`` long -> ``(B, K)`` float32."""
    one_hot = torch.zeros(codes.shape[0], codebook_size, device=codes.device)
    one_hot.scatter_add_(1, codes.long(), torch.ones_like(codes, dtype=one_hot.dtype))
    return one_hot / codes.shape[1]


class BagOfCodesProbe(OptionalBuffers):
    """Ridge-regression classifier on code histograms, fitted in closed form.

    Only sufficient statistics are accumulated (``X^T X`` and ``X^T Y`` of the histograms ``X`` with a bias
    column and one-hot labels ``Y``), so a training epoch is fitted in one ``(K+1)``-square solve and the
    statistics of several processes add up (``fit(reduce)``). The fitted weights are saved in checkpoints, so
    ``test`` on a checkpoint reports the probe of its last fitted epoch; the statistics are not.

    Args:
        codebook_size: ``K``.
        num_classes: ``C``.
        ridge: ridge strength relative to the mean diagonal of ``X^T X``.
    """

    def __init__(self, codebook_size: int, num_classes: int, ridge: float) -> None:
        super().__init__()
        self.codebook_size, self.num_classes, self.ridge = codebook_size, num_classes, ridge
        size = codebook_size + 1
        self.register_buffer("gram", torch.zeros(size, size, dtype=torch.float64), persistent=False)
        self.register_buffer("moments", torch.zeros(size, num_classes, dtype=torch.float64), persistent=False)
        self.register_buffer("weights", torch.zeros(size, num_classes, dtype=torch.float64))
        self.register_buffer("is_fitted", torch.zeros((), dtype=torch.bool))

    @property
    def fitted(self) -> bool:
        """Whether ``weights`` hold a solution (the flag is a buffer, so it travels with checkpoints)."""
        return bool(self.is_fitted)

    def _features(self, codes: Tensor) -> Tensor:
        histogram = code_histogram(codes, self.codebook_size).double()
        return torch.cat([histogram, torch.ones_like(histogram[:, :1])], dim=1)

    def reset(self) -> None:
        """Forget the accumulated statistics (the fitted weights stay until the next ``fit``)."""
        self.gram.zero_()
        self.moments.zero_()

    def accumulate(self, codes: Tensor, labels: Tensor) -> None:
        """Add clips ``codes`` ``(B, S)`` with class indices ``labels`` ``(B,)``."""
        features = self._features(codes)
        targets = torch.nn.functional.one_hot(labels.long(), self.num_classes).double()
        self.gram += features.T @ features
        self.moments += features.T @ targets

    def fit(self, reduce: Callable[[Tensor], Tensor] | None = None) -> bool:
        """Solve the ridge regression on the accumulated statistics.

        Args:
            reduce: sums a tensor over processes (e.g. ``strategy.reduce(t, reduce_op="sum")``); every
                process must call ``fit`` when it is given.

        Returns:
            Whether the probe is fitted (False when no clip was accumulated anywhere).
        """
        gram = reduce(self.gram.clone()) if reduce is not None else self.gram
        moments = reduce(self.moments.clone()) if reduce is not None else self.moments
        if gram[-1, -1] <= 0:  # the bias column's square counts the clips
            self.is_fitted.fill_(False)
            return False
        strength = self.ridge * gram.diagonal()[:-1].mean().clamp(min=1e-12)
        regularizer = torch.eye(len(gram), dtype=gram.dtype, device=gram.device) * strength
        regularizer[-1, -1] = 0.0  # the bias is not shrunk
        self.weights.copy_(torch.linalg.solve(gram + regularizer, moments))
        self.is_fitted.fill_(True)
        return True

    def forward(self, codes: Tensor) -> Tensor:
        """Class scores ``(B, C)`` of clips ``codes`` ``(B, S)``."""
        return (self._features(codes) @ self.weights).float()
