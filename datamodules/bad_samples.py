"""What a DataModule does with a source file its reader rejects: ``on_bad_sample="raise"`` or ``"skip"``.

With ``"raise"`` the reader's typed :class:`~datamodules.formats.errors.DataFormatError` (which names the
file and the place in it) propagates and the store is not written. With ``"skip"`` the file is left out,
the build goes on, and every skipped file with its error is recorded in the store manifest and reported
once, on rank zero. Only :class:`DataFormatError` is ever skipped: any other exception is a bug, not a
bad file, and always propagates.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Literal, TypeVar, get_args

from lightning.pytorch.utilities import rank_zero_warn

from .formats.errors import DataFormatError

__all__ = ["OnBadSample", "ON_BAD_SAMPLE_CHOICES", "check_on_bad_sample", "BadSamplePolicy", "warn_skipped"]

OnBadSample = Literal["raise", "skip"]
ON_BAD_SAMPLE_CHOICES: tuple[str, ...] = get_args(OnBadSample)
_LISTED_IN_WARNING = 10

_Result = TypeVar("_Result")


def check_on_bad_sample(value: str) -> str:
    """Return ``value`` if it is a valid ``on_bad_sample`` choice.

    Raises:
        ValueError: ``value`` is not one of ``"raise"``, ``"skip"``.
    """
    if value not in ON_BAD_SAMPLE_CHOICES:
        raise ValueError(
            f"on_bad_sample must be one of {', '.join(map(repr, ON_BAD_SAMPLE_CHOICES))}; got {value!r}"
        )
    return value


class BadSamplePolicy:
    """Runs readers under an ``on_bad_sample`` policy and remembers what it skipped.

    Args:
        on_bad_sample: ``"raise"`` or ``"skip"``.
        root: skipped paths are recorded relative to this directory when they lie under it.
        on_source: called after each source :meth:`run` was given (a progress bar's ``update``).

    Attributes:
        attempted: how many sources :meth:`run` was given.
        skipped: ``[{"source": path, "error": message}]`` in the order the files were met.

    Raises:
        ValueError: an invalid ``on_bad_sample``.
    """

    def __init__(
        self, on_bad_sample: str, root: Path | None = None, on_source: Callable[[], object] | None = None
    ) -> None:
        self.on_bad_sample = check_on_bad_sample(on_bad_sample)
        self.on_source = on_source
        self.root = root
        self.attempted = 0
        self.skipped: list[dict[str, str]] = []

    def run(self, source: Path, read: Callable[[], _Result]) -> _Result | None:
        """Call ``read()``; on a :class:`DataFormatError` re-raise it or record ``source`` and return None."""
        self.attempted += 1
        try:
            return read()
        except DataFormatError as error:
            if self.on_bad_sample == "raise":
                raise
            name = str(source)
            if self.root is not None and Path(source).is_relative_to(self.root):
                name = Path(source).relative_to(self.root).as_posix()
            self.skipped.append({"source": name, "error": str(error)})
            return None
        finally:
            if self.on_source is not None:
                self.on_source()


def warn_skipped(skipped: list[dict[str, str]], total: int, what: str, manifest: Path) -> None:
    """Warn once, on rank zero, how many and which source files were skipped.

    Args:
        skipped: the ``{"source", "error"}`` records of the store manifest.
        total: how many source files were read.
        what: the kind of file, e.g. ``"NTU RGB+D skeleton files"``.
        manifest: where the full list is stored (named in the message).
    """
    if not skipped:
        return
    listed = "; ".join(record["error"] for record in skipped[:_LISTED_IN_WARNING])
    more = f"; and {len(skipped) - _LISTED_IN_WARNING} more" if len(skipped) > _LISTED_IN_WARNING else ""
    rank_zero_warn(
        f"skipped {len(skipped)} of {total} {what} that could not be read (on_bad_sample='skip'): "
        f"{listed}{more}. Full list: 'skipped' in {manifest}"
    )
