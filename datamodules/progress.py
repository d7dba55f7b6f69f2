"""Progress bars for long data steps (store building, synthetic generation): tqdm on rank zero, off when
stderr is not a terminal or when ``lvlm-var --quiet`` set :data:`QUIET_ENV`."""

from __future__ import annotations

import os
import sys

from tqdm.auto import tqdm

__all__ = ["QUIET_ENV", "progress_bar", "show_progress"]

QUIET_ENV = "LVLM_VAR_QUIET"
# The variables Lightning's launchers set to a process's global rank.
_RANK_VARIABLES = ("RANK", "LOCAL_RANK", "SLURM_PROCID", "JSM_NAMESPACE_RANK")


def show_progress() -> bool:
    """Whether this process draws progress bars: rank zero, stderr a terminal, not quiet."""
    rank = next((int(os.environ[name]) for name in _RANK_VARIABLES if os.environ.get(name, "").isdigit()), 0)
    return rank == 0 and os.environ.get(QUIET_ENV) != "1" and sys.stderr.isatty()


def progress_bar(total: int | None, description: str, unit: str = "file") -> tqdm:
    """A tqdm bar (a no-op one when :func:`show_progress` is false); use it as a context manager."""
    return tqdm(total=total, desc=description, unit=unit, disable=not show_progress(), dynamic_ncols=True)
