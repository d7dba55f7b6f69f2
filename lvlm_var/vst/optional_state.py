"""Modules whose saved buffers may be absent from a state dict written before they existed."""

from __future__ import annotations

from typing import Any

from torch import nn

__all__ = ["OptionalBuffers"]


class OptionalBuffers(nn.Module):
    """An ``nn.Module`` whose own saved buffers may all be missing from a state dict, even a strict load.

    A checkpoint written before the buffers were part of it holds none of them: they keep the values they
    have (those of a new module). A state dict with only some of them is still an error.
    """

    def _load_from_state_dict(
        self,
        state_dict: dict[str, Any],
        prefix: str,
        local_metadata: dict[str, Any],
        strict: bool,
        missing_keys: list[str],
        unexpected_keys: list[str],
        error_msgs: list[str],
    ) -> None:
        own = {f"{prefix}{name}" for name in self._buffers if name not in self._non_persistent_buffers_set}
        absent = not own & state_dict.keys()
        super()._load_from_state_dict(
            state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs
        )
        if absent:
            missing_keys[:] = [key for key in missing_keys if key not in own]
