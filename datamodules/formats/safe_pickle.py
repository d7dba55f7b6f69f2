"""Restricted unpickling for untrusted dataset pickles (Action Genome, pyskl).

Only builtin containers/scalars and numpy arrays/dtypes/scalars may be constructed; any other
global (``os.system``, ``builtins.eval``, a class of some package) is refused *before* it is
called, so a malicious file cannot execute code.
"""

from __future__ import annotations

import io
import pickle
from pathlib import Path
from typing import Any

from .errors import DataFormatError, UnsafePickleError

__all__ = ["load_untrusted_pickle"]

_SAFE_BUILTINS = frozenset(
    {"dict", "list", "tuple", "set", "frozenset", "str", "bytes", "bytearray", "int", "float",
     "complex", "bool", "slice", "range"}
)
# Python 3 pickles (protocol <= 2) store bytes, e.g. numpy array data, as _codecs.encode(str, "latin1").
_SAFE_CODECS = frozenset({"encode"})
# numpy moved its internals from numpy.core to numpy._core in 2.0; real files predate that.
_SAFE_NUMPY = {
    "numpy": frozenset({"ndarray", "dtype"}),
    "numpy.core.multiarray": frozenset({"_reconstruct", "scalar"}),
    "numpy._core.multiarray": frozenset({"_reconstruct", "scalar"}),
    "numpy.core.numeric": frozenset({"_frombuffer"}),
    "numpy._core.numeric": frozenset({"_frombuffer"}),
}


def _installed_numpy_module(module: str) -> str:
    import numpy

    if hasattr(numpy, "_core"):
        return module.replace("numpy.core.", "numpy._core.")
    return module.replace("numpy._core.", "numpy.core.")


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, file: io.BufferedIOBase, path: Path) -> None:
        super().__init__(file, encoding="latin1")  # latin1: Python 2 pickles of numpy arrays
        self._path = path

    def find_class(self, module: str, name: str) -> Any:
        if module in ("builtins", "__builtin__") and name in _SAFE_BUILTINS:
            return super().find_class("builtins", name)
        if module == "_codecs" and name in _SAFE_CODECS:
            return super().find_class(module, name)
        if name in _SAFE_NUMPY.get(module, ()):
            return super().find_class(_installed_numpy_module(module), name)
        raise UnsafePickleError(
            self._path, "",
            f"refusing to load global '{module}.{name}': only builtins and numpy arrays are "
            "allowed in dataset pickles",
        )


def load_untrusted_pickle(path: str | Path, error: type[DataFormatError] = DataFormatError) -> Any:
    """Load a pickle from an untrusted source with only builtins and numpy arrays allowed.

    Args:
        path: the pickle file.
        error: the typed error to raise for a truncated or corrupt file.

    Returns:
        The unpickled object.

    Raises:
        UnsafePickleError: the pickle references any other global (nothing is executed).
        error: the file is empty, truncated or not a pickle.
    """
    path = Path(path)
    try:
        with path.open("rb") as handle:
            return _RestrictedUnpickler(handle, path).load()
    except UnsafePickleError:
        raise
    except FileNotFoundError:
        raise
    # Corrupt bytes surface as many exception types (OverflowError for an absurd frame length,
    # MemoryError, SystemError or RuntimeError from numpy's reconstruction); all mean "bad file".
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError, KeyError,
            OverflowError, MemoryError, SystemError, RuntimeError, UnicodeDecodeError) as exc:
        raise error(path, "", f"not a readable pickle ({type(exc).__name__}: {exc})") from exc
