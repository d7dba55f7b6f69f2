"""Restricted unpickling for untrusted dataset pickles (Action Genome, pyskl).

The rules, enforced by a subclass of the pure-Python unpickler that owns every opcode:

- Only builtin containers / scalars, ``_codecs.encode(str, "latin1")`` and numpy arrays, dtypes and
  scalars may be constructed. Every global resolves to a checking stand-in, never to the real callable,
  so ``os.system``, ``builtins.eval`` or ``numpy.ndarray((10**12,))`` are refused before anything runs.
- A dtype is one of the plain kinds bool / int / uint / float / complex / bytes / unicode, rebuilt from
  its type string: no fields, no subarray, no object; its pickled state (the BUILD step) is compared
  with the rebuilt dtype and never handed to ``dtype.__setstate__``.
- An array is built by us from its raw bytes, whose length must equal ``prod(shape) * itemsize``;
  ``_reconstruct`` allocates nothing and ``_frombuffer`` takes no shape the buffer does not hold.
- BUILD applies only to those arrays and dtypes; NEWOBJ, INST, OBJ, extension codes and persistent
  ids are refused. The memo is a dict, so a huge memo index costs nothing.
- The stand-ins accept only the argument types real pickles use (``bytearray(b"...")``, never
  ``bytearray(1_500_000_000)``) and charge what they copy to a budget of twice the file's size plus
  1 MiB, so no pickle makes the loader allocate much more than the file it reads.
- After loading, every object is walked (at most :data:`MAX_DEPTH` levels deep): only the types above
  may appear and every array is checked again (kind, ``hasobject``, size of its buffer).

Every failure of a file is raised as the caller's typed error (or :class:`UnsafePickleError`).
"""

from __future__ import annotations

import io
import math
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .errors import DataFormatError, UnsafePickleError

__all__ = ["load_untrusted_pickle", "MAX_DEPTH", "ALLOWED_DTYPE_KINDS"]

MAX_DEPTH = 100
ALLOWED_DTYPE_KINDS = frozenset("biufcSU")
_BYTE_ORDERS = frozenset("<>|=")
_ARRAY_TYPES = (np.ndarray, np.generic)
_LEAF_TYPES = (type(None), bool, int, float, complex, str, bytes, bytearray, slice, range, np.dtype)
_CONTAINER_TYPES = (list, tuple, set, frozenset, dict)
_ITERABLE_ARGS = (list, tuple, set, frozenset)
# numpy moved its internals from numpy.core to numpy._core in 2.0; real files predate that.
_NUMPY_MODULES = {
    "numpy": ("ndarray", "dtype"),
    "numpy.core.multiarray": ("_reconstruct", "scalar"),
    "numpy._core.multiarray": ("_reconstruct", "scalar"),
    "numpy.core.numeric": ("_frombuffer",),
    "numpy._core.numeric": ("_frombuffer",),
}


class _Refused(Exception):
    """Raised inside the unpickler for a forbidden construct; becomes an UnsafePickleError."""


class _Budget:
    """Bytes the stand-ins may still copy or allocate."""

    def __init__(self, limit: int) -> None:
        self.left = limit

    def charge(self, size: int, what: str) -> None:
        if size > self.left:
            raise _Refused(f"{what} would allocate {size} bytes, more than the file's size allows")
        self.left -= size


class _DtypeBuilder:
    """``numpy.dtype(typestr, align, copy)`` until its BUILD state arrives; not hashable, not an array."""

    __hash__ = None  # type: ignore[assignment]

    def __init__(self, typestr: object, align: object = False, copy: object = True) -> None:
        if not isinstance(typestr, str) or align not in (False, 0) or not isinstance(copy, bool | int):
            raise _Refused(f"dtype({typestr!r}, {align!r}, {copy!r}): only a plain type string is allowed")
        try:
            dtype = np.dtype(typestr)
        except (TypeError, ValueError) as exc:
            raise _Refused(f"dtype {typestr!r} is not a numpy type string") from exc
        _check_dtype(dtype)
        self.dtype = dtype
        self.built: np.dtype | None = None

    def build(self, state: object) -> np.dtype:
        """The dtype, after checking that ``state`` describes exactly it (byte order aside)."""
        if not isinstance(state, tuple) or len(state) != 8 or state[0] != 3:
            raise _Refused(
                f"dtype {self.dtype} has a state that is not (3, order, None x3, size, align, flags)"
            )
        _, order, subarray, names, fields, elsize, alignment, flags = state
        if not isinstance(order, str) or order not in _BYTE_ORDERS:
            raise _Refused(f"dtype {self.dtype} has byte order {order!r}")
        if subarray is not None or names is not None or fields is not None:
            raise _Refused(f"dtype {self.dtype} declares fields or a subarray; only plain dtypes are allowed")
        dtype = self.dtype.newbyteorder(order) if order != "|" else self.dtype
        if (
            elsize not in (-1, dtype.itemsize)
            or alignment not in (-1, dtype.alignment)
            or flags != dtype.flags
        ):
            raise _Refused(
                f"dtype {dtype} has the state size {elsize!r}, alignment {alignment!r}, flags {flags!r}; "
                f"expected {dtype.itemsize}, {dtype.alignment}, {dtype.flags}"
            )
        return dtype


class _ArrayBuilder:
    """What ``_reconstruct`` returns: an array to be, made from its BUILD state."""

    __hash__ = None  # type: ignore[assignment]

    def __init__(self, budget: _Budget) -> None:
        self.budget = budget
        self.built: np.ndarray | None = None

    def build(self, state: object) -> np.ndarray:
        if not isinstance(state, tuple) or len(state) not in (4, 5):
            raise _Refused("array state is not (version, shape, dtype, is_fortran, data)")
        shape, dtype, is_fortran, data = state[-4:]
        if len(state) == 5 and state[0] != 1:
            raise _Refused(f"array state version {state[0]!r}; expected 1")
        if not isinstance(is_fortran, bool | int):
            raise _Refused(f"array is_fortran {is_fortran!r} is not a bool")
        if isinstance(data, str):  # Python 2 pickles, read with encoding="latin1"
            self.budget.charge(len(data), "array data")
            data = data.encode("latin1")
        return _array_from_buffer(data, dtype, shape, "F" if is_fortran else "C", self.budget)


def _check_dtype(dtype: np.dtype) -> None:
    if dtype.kind not in ALLOWED_DTYPE_KINDS or dtype.hasobject or dtype.fields is not None or dtype.subdtype:
        raise _Refused(f"dtype {dtype} is not a plain bool / int / float / complex / string dtype")


def _resolve_dtype(dtype: object) -> np.dtype:
    if not isinstance(dtype, np.dtype):  # a _DtypeBuilder without its state, or anything else
        raise _Refused(f"expected a dtype with its state, got {type(dtype).__name__}")
    _check_dtype(dtype)
    return dtype


def _array_from_buffer(
    data: object, dtype: object, shape: object, order: object, budget: _Budget
) -> np.ndarray:
    dtype = _resolve_dtype(dtype)
    if not isinstance(shape, tuple) or not all(type(n) is int and n >= 0 for n in shape):
        raise _Refused(f"array shape {shape!r} is not a tuple of non-negative ints")
    if order not in ("C", "F"):
        raise _Refused(f"array order {order!r} is not 'C' or 'F'")
    if isinstance(data, pickle.PickleBuffer):
        data = data.raw()
    if not isinstance(data, bytes | bytearray | memoryview):
        raise _Refused(f"array data is a {type(data).__name__}, not bytes")
    expected = math.prod(shape) * dtype.itemsize
    if len(data) != expected:  # memoryview.raw() is 1-D bytes, so len() counts bytes
        raise _Refused(
            f"array of shape {shape} and dtype {dtype} needs {expected} bytes, the file gives {len(data)}"
        )
    budget.charge(expected, "array data")
    return np.frombuffer(data, dtype=dtype).reshape(shape, order=order).copy(order="K")


def _sized(kind: type, what: str) -> Callable[..., Any]:
    """``kind(iterable)`` for an iterable the file already holds, charged by its length."""

    def construct(self: _RestrictedUnpickler, values: object = ()) -> Any:
        if not isinstance(values, _ITERABLE_ARGS + (dict,)) or (
            kind is dict and not isinstance(values, dict)
        ):
            raise _Refused(f"{what}() of a {type(values).__name__}")
        self.budget.charge(8 * len(values), what)
        return kind(values)

    return construct


def _bytes_like(kind: type) -> Callable[..., Any]:
    """``bytes`` / ``bytearray`` of bytes, or of a str with ``'latin-1'`` (protocol 2); never of a size."""

    def construct(self: _RestrictedUnpickler, data: object = b"", encoding: object = None) -> Any:
        if isinstance(data, str) and encoding in ("latin1", "latin-1"):
            data = data.encode("latin1")
        elif not isinstance(data, bytes | bytearray) or encoding is not None:
            raise _Refused(f"{kind.__name__}({type(data).__name__}) (only bytes, or a str with 'latin-1')")
        self.budget.charge(len(data), kind.__name__)
        return kind(data)

    return construct


def _scalar_of(kind: type, *accepted: type, max_args: int = 2) -> Callable[..., Any]:
    """``kind(*args)`` for at most ``max_args`` arguments of the accepted types (short strings only)."""

    def construct(self: _RestrictedUnpickler, *args: object) -> Any:
        if len(args) > max_args or not all(isinstance(a, accepted) for a in args):
            raise _Refused(f"{kind.__name__}{tuple(type(a).__name__ for a in args)}")
        if any(isinstance(a, str) and len(a) > 1000 for a in args):
            raise _Refused(f"{kind.__name__}() of a string longer than 1000 characters")
        return kind(*args)

    return construct


def _encode(self: _RestrictedUnpickler, text: object, encoding: object = "utf-8") -> bytes:
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise _Refused("_codecs.encode takes a str and 'latin1' only")
    self.budget.charge(len(text), "_codecs.encode")
    return text.encode("latin1")


def _dtype(self: _RestrictedUnpickler, *args: object) -> _DtypeBuilder:
    return _DtypeBuilder(*args)


def _reconstruct(
    self: _RestrictedUnpickler, subtype: object, shape: object, typecode: object
) -> _ArrayBuilder:
    if subtype is not _NDARRAY or shape != (0,) or typecode not in (b"b", "b"):  # str: Python 2
        raise _Refused("_reconstruct takes (numpy.ndarray, (0,), b'b') only")
    return _ArrayBuilder(self.budget)


def _scalar(self: _RestrictedUnpickler, dtype: object, data: object = None) -> np.generic:
    dtype = _resolve_dtype(dtype)
    if isinstance(data, str):
        data = data.encode("latin1")
    if not isinstance(data, bytes) or len(data) != dtype.itemsize:
        raise _Refused(f"scalar of dtype {dtype} needs {dtype.itemsize} bytes of data")
    return np.frombuffer(data, dtype=dtype)[0]


def _frombuffer(
    self: _RestrictedUnpickler, data: object, dtype: object, shape: object, order: object
) -> np.ndarray:
    return _array_from_buffer(data, dtype, shape, order, self.budget)


_NDARRAY = object()  # numpy.ndarray: only ever the first argument of _reconstruct
_NUMBER = (int, float, bool)
_STAND_INS: dict[str, Callable[..., Any]] = {
    "dict": _sized(dict, "dict"),
    "list": _sized(list, "list"),
    "tuple": _sized(tuple, "tuple"),
    "set": _sized(set, "set"),
    "frozenset": _sized(frozenset, "frozenset"),
    "bytes": _bytes_like(bytes),
    "bytearray": _bytes_like(bytearray),
    "str": _scalar_of(str, str),
    "int": _scalar_of(int, int, str),
    "float": _scalar_of(float, float, int, str),
    "complex": _scalar_of(complex, *_NUMBER),
    "bool": _scalar_of(bool, *_NUMBER),
    "slice": _scalar_of(slice, int, type(None), max_args=3),
    "range": _scalar_of(range, int, max_args=3),
}
_NUMPY_STAND_INS = {
    "dtype": _dtype,
    "_reconstruct": _reconstruct,
    "scalar": _scalar,
    "_frombuffer": _frombuffer,
}


class _StandIn:
    """A global as the file sees it: callable only through REDUCE, with the unpickler passed in."""

    def __init__(self, name: str, function: Callable[..., Any]) -> None:
        self.name, self.function = name, function


def _refuse(what: str) -> Callable[..., None]:
    def load(self: _RestrictedUnpickler) -> None:
        if what in ("INST", "OBJ"):  # protocol 0/1 class instances: also what text files start with
            raise pickle.UnpicklingError(
                f"the {what} opcode (a protocol 0/1 class instance) is not supported"
            )
        raise _Refused(f"the {what} opcode is not allowed in dataset pickles")

    return load


class _RestrictedUnpickler(pickle._Unpickler):  # the pure-Python unpickler: every opcode is ours to check
    dispatch = dict(pickle._Unpickler.dispatch)

    def __init__(self, data: bytes) -> None:
        super().__init__(io.BytesIO(data), encoding="latin1")  # latin1: Python 2 pickles of numpy arrays
        self.budget = _Budget(2 * len(data) + 2**20)

    def find_class(self, module: str, name: str) -> Any:
        if module in ("builtins", "__builtin__") and name in _STAND_INS:
            return _StandIn(name, _STAND_INS[name])
        if module == "_codecs" and name == "encode":
            return _StandIn(name, _encode)
        if name in _NUMPY_MODULES.get(module, ()):
            return _NDARRAY if name == "ndarray" else _StandIn(name, _NUMPY_STAND_INS[name])
        raise _Refused(
            f"refusing to load global '{module}.{name}': "
            "only builtins and numpy arrays are allowed in dataset pickles"
        )

    def load_reduce(self) -> None:
        args = self.stack.pop()
        function = self.stack[-1]
        if not isinstance(function, _StandIn) or not isinstance(args, tuple):
            raise _Refused(f"REDUCE of a {type(function).__name__}: only allowed globals may be called")
        self.stack[-1] = function.function(self, *args)

    def load_build(self) -> None:
        state = self.stack.pop()
        builder = self.stack[-1]
        if not isinstance(builder, _DtypeBuilder | _ArrayBuilder):
            raise _Refused(f"BUILD on a {type(builder).__name__}: only numpy arrays and dtypes take a state")
        if builder.built is not None:
            raise _Refused("BUILD twice on one numpy array or dtype")
        builder.built = self.stack[-1] = builder.build(state)

    def _load_memo(load: Callable[[_RestrictedUnpickler], None]) -> Callable[[_RestrictedUnpickler], None]:
        """A GET opcode that gives the built array or dtype: the pickler memoizes them before BUILD."""

        def load_get(self: _RestrictedUnpickler) -> None:
            load(self)
            value = self.stack[-1]
            if isinstance(value, _DtypeBuilder | _ArrayBuilder) and value.built is not None:
                self.stack[-1] = value.built

        return load_get

    dispatch[pickle.REDUCE[0]] = load_reduce
    dispatch[pickle.BUILD[0]] = load_build
    for _opcode in (pickle.GET, pickle.BINGET, pickle.LONG_BINGET):
        dispatch[_opcode[0]] = _load_memo(pickle._Unpickler.dispatch[_opcode[0]])
    for _opcode, _what in (
        (pickle.NEWOBJ, "NEWOBJ"),
        (pickle.NEWOBJ_EX, "NEWOBJ_EX"),
        (pickle.INST, "INST"),
        (pickle.OBJ, "OBJ"),
        (pickle.PERSID, "PERSID"),
        (pickle.BINPERSID, "BINPERSID"),
        (pickle.EXT1, "EXT1"),
        (pickle.EXT2, "EXT2"),
        (pickle.EXT4, "EXT4"),
        (pickle.NEXT_BUFFER, "NEXT_BUFFER"),
        (pickle.READONLY_BUFFER, "READONLY_BUFFER"),
    ):
        dispatch[_opcode[0]] = _refuse(_what)
    del _opcode, _what, _load_memo


def _check_loaded(root: object) -> None:
    """Walk everything loaded (iteratively, at most MAX_DEPTH deep) and check its types and arrays."""
    pending: list[tuple[object, int]] = [(root, 0)]
    seen: set[int] = set()
    while pending:
        value, depth = pending.pop()
        if isinstance(value, _ARRAY_TYPES):
            dtype = value.dtype
            if dtype.kind not in ALLOWED_DTYPE_KINDS or dtype.hasobject or dtype.fields is not None:
                raise _Refused(f"an array of dtype {dtype} was built")
            if isinstance(value, np.ndarray) and value.nbytes != math.prod(value.shape) * dtype.itemsize:
                raise _Refused(f"an array's buffer does not match its shape {value.shape}")
            continue
        if isinstance(value, _LEAF_TYPES):
            continue
        if not isinstance(value, _CONTAINER_TYPES):
            raise _Refused(f"the file built a {type(value).__name__}, which is not data")
        if depth >= MAX_DEPTH:
            raise _Refused(f"containers nested deeper than {MAX_DEPTH} levels")
        if id(value) in seen:
            continue
        seen.add(id(value))
        items = value.items() if isinstance(value, dict) else ((v,) for v in value)
        for item in items:
            pending.extend((v, depth + 1) for v in item)


def load_untrusted_pickle(path: str | Path, error: type[DataFormatError] = DataFormatError) -> Any:
    """Load a pickle from an untrusted source with only builtins and numpy arrays allowed.

    See the module docstring for the rules.

    Args:
        path: the pickle file.
        error: the typed error to raise for a truncated or corrupt file.

    Returns:
        The unpickled object.

    Raises:
        UnsafePickleError: the pickle references any other global or breaks a rule (nothing is executed).
        error: the file is empty, truncated or not a pickle.
        FileNotFoundError: the file is missing.
    """
    path = Path(path)
    data = path.read_bytes()
    try:
        loaded = _RestrictedUnpickler(data).load()
        _check_loaded(loaded)
    except _Refused as exc:
        raise UnsafePickleError(path, "", str(exc)) from None
    # The loader is our own code over untrusted bytes, so any exception it raises means a bad file
    # (UnpicklingError, EOFError, TypeError from a wrong argument count, MemoryError, ...).
    except Exception as exc:
        raise error(path, "", f"not a readable pickle ({type(exc).__name__}: {exc})") from exc
    return loaded
