"""One split of a store as a dataset: which stored samples it holds and how each becomes a batch item.

Both store backends share it: over the memory-mapped :class:`~datamodules.clip_store.ClipStore`,
``__getitem__`` reads a sample's rows and calls :meth:`StoreSplitDataset.sample`; over a litdata store the
streaming dataset (:mod:`datamodules.litdata_store`) reads the rows from its chunks and calls the same
:meth:`StoreSplitDataset.sample`, so both backends give the same items.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any

import numpy as np
from torch.utils.data import Dataset

__all__ = ["StoreSplitDataset", "StoreTables"]

StoreTables = Mapping[str, Mapping[str, np.ndarray]]
"""``{table: {field: (rows, *row_shape)}}``: the rows of one stored sample."""


class StoreSplitDataset(Dataset, ABC):
    """The stored samples ``indices`` of a store, each turned into a batch item by :meth:`sample`.

    Args:
        store: the store; :meth:`sample` may read its ``metadata`` columns (both backends have them).
        indices: ``(N,)`` store indices of this split's samples.
    """

    def __init__(self, store: Any, indices: np.ndarray) -> None:
        self.store = store
        self.indices = np.asarray(indices, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, item: int) -> dict[str, Any]:
        index = int(self.indices[item])
        return self.sample(index, self.store.tables(index))

    @abstractmethod
    def sample(self, index: int, tables: StoreTables) -> dict[str, Any]:
        """The batch item of stored sample ``index`` whose rows are ``tables``."""
