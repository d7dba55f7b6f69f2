"""Restricted unpickling: data loads (old numpy names included), code never runs, bad files are typed."""

from __future__ import annotations

import builtins
import json
import os
import pickle
import re
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from datamodules.formats.errors import ActionGenomeFormatError, DataFormatError, UnsafePickleError
from datamodules.formats.safe_pickle import load_untrusted_pickle


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("protocol", [3, 4, 5])
def test_builtins_and_numpy_load(tmp_path: Path, protocol: int) -> None:
    value = {
        "frame.mp4/000001.png": [{"bbox": (1.0, 2.0, 3.0, 4.0), "visible": True, "tag": None}],
        "containers": (
            set([1, 2]),
            frozenset({"a"}),
            b"raw",
            bytearray(b"xy"),
            2 + 1j,
            slice(1, 5),
            range(3),
        ),
        "boxes": np.arange(12, dtype=np.float32).reshape(3, 4),
        "names": np.array(["looking_at", "holding"]),
        "score": np.float32(0.5),
        "size": np.int64(480),
    }
    path = _write(tmp_path / "data.pkl", pickle.dumps(value, protocol=protocol))
    loaded = load_untrusted_pickle(path)
    assert loaded.keys() == value.keys()
    assert loaded["frame.mp4/000001.png"] == value["frame.mp4/000001.png"]
    assert loaded["containers"] == value["containers"]
    for name in ("boxes", "names"):
        assert loaded[name].dtype == value[name].dtype and np.array_equal(loaded[name], value[name])
    assert loaded["score"] == np.float32(0.5) and loaded["size"] == 480


def test_old_numpy_core_names_load(tmp_path: Path) -> None:
    # numpy >= 2 writes numpy._core.*; files written before that say numpy.core.* (text in protocol 3).
    data = pickle.dumps(
        {"bbox": np.array([[1.5, 2.5, 3.5, 4.5]], np.float32), "score": np.float32(0.9)}, protocol=3
    )
    old = data.replace(b"numpy._core.multiarray", b"numpy.core.multiarray")
    assert b"numpy.core.multiarray\n_reconstruct" in old
    loaded = load_untrusted_pickle(_write(tmp_path / "old.pkl", old))
    assert np.array_equal(loaded["bbox"], np.array([[1.5, 2.5, 3.5, 4.5]], np.float32))
    assert loaded["score"] == np.float32(0.9)


def _short_binstring(raw: bytes) -> bytes:
    return b"U" + bytes([len(raw)]) + raw


def test_python2_numpy_pickle_loads(tmp_path: Path) -> None:
    """A float64 array as Python 2 numpy pickled it: old module names, raw data as a byte string."""
    raw = np.array([1.5, -2.0, 3.25], "<f8").tobytes()
    data = (
        b"\x80\x02cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85"
        + _short_binstring(b"b")
        + b"\x87R(K\x01K\x03\x85cnumpy\ndtype\n"
        + _short_binstring(b"f8")
        + b"K\x00K\x01\x87R(K\x03"
        + _short_binstring(b"<")
        + b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb\x89"
        + _short_binstring(raw)
        + b"tb."
    )
    loaded = load_untrusted_pickle(_write(tmp_path / "py2.pkl", data))
    assert loaded.dtype == np.float64 and loaded.tolist() == [1.5, -2.0, 3.25]


def test_python3_protocol2_numpy_pickle_loads(tmp_path: Path) -> None:
    path = _write(tmp_path / "p2.pkl", pickle.dumps(np.arange(3.0), protocol=2))
    assert load_untrusted_pickle(path).tolist() == [0.0, 1.0, 2.0]


class _Reduce:
    """Pickles as a call of ``function(*args)``: what a malicious file asks the unpickler to do."""

    def __init__(self, function: object, *args: object) -> None:
        self.function, self.args = function, args

    def __reduce__(self):
        return (self.function, self.args)


def _exploits(marker: Path) -> list[tuple[object, str]]:
    return [
        (_Reduce(os.system, f"touch {marker}"), r"'(posix|nt|os)\.system'"),
        (_Reduce(subprocess.Popen, ["touch", str(marker)]), r"'(subprocess|commands)\.Popen'"),
        (_Reduce(builtins.eval, f"open({str(marker)!r}, 'w')"), r"'(builtins|__builtin__)\.eval'"),
        (_Reduce(builtins.exec, f"open({str(marker)!r}, 'w')"), r"'(builtins|__builtin__)\.exec'"),
        (_Reduce(builtins.getattr, "text", "upper"), r"'(builtins|__builtin__)\.getattr'"),
        (_Reduce(np.save, str(marker), np.zeros(1)), r"'numpy\.save'"),
        # hidden deep inside otherwise harmless data (protocol 2 writes Python 2 module names)
        ({"key": [1, {"bbox": _Reduce(os.system, f"touch {marker}")}]}, r"'(posix|nt|os)\.system'"),
    ]


@pytest.mark.parametrize("case", range(7))
@pytest.mark.parametrize("protocol", [2, 4])
def test_malicious_pickle_is_refused_before_running(tmp_path: Path, case: int, protocol: int) -> None:
    marker = tmp_path / "marker"
    payload, name = _exploits(marker)[case]
    path = _write(tmp_path / "evil.pkl", pickle.dumps(payload, protocol=protocol))
    with pytest.raises(UnsafePickleError, match=rf"evil.pkl: refusing to load global {name}: only builtins"):
        load_untrusted_pickle(path, error=ActionGenomeFormatError)
    assert not marker.exists()
    assert not Path("marker").exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", r"empty.pkl: not a readable pickle \(EOFError"),
        (pickle.dumps({"a": np.arange(100)}, protocol=4)[:60], r"empty.pkl: not a readable pickle"),
        (b"id,subject,scene\n", r"empty.pkl: not a readable pickle \(UnpicklingError"),
    ],
    ids=["empty", "truncated", "not-a-pickle"],
)
def test_unreadable_file_raises_the_given_error(tmp_path: Path, content: bytes, message: str) -> None:
    path = _write(tmp_path / "empty.pkl", content)
    with pytest.raises(ActionGenomeFormatError, match=message):
        load_untrusted_pickle(path, error=ActionGenomeFormatError)
    with pytest.raises(DataFormatError, match=message):
        load_untrusted_pickle(path)


def test_absurd_frame_length_is_a_format_error(tmp_path: Path) -> None:
    path = _write(tmp_path / "huge.pkl", b"\x80\x04\x95" + struct.pack("<Q", 2**63 + 5) + b"N.")
    with pytest.raises(ActionGenomeFormatError, match=r"huge.pkl: not a readable pickle"):
        load_untrusted_pickle(path, error=ActionGenomeFormatError)


def test_missing_file_is_not_hidden(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load_untrusted_pickle(tmp_path / "absent.pkl")


# --- hostile files, loaded in a child process: a crash fails the test, memory is capped -------------------

_NUMPY_NUMERIC = "numpy._core.numeric" if hasattr(np, "_core") else "numpy.core.numeric"


class _State:
    """Pickles as ``function(*args)`` followed by a BUILD with ``state``."""

    def __init__(self, function: object, args: tuple, state: object) -> None:
        self.function, self.args, self.state = function, args, state

    def __reduce__(self):
        return (self.function, self.args, self.state)


def _hidden_object_dtype() -> _State:
    """``dtype('V16')`` whose BUILD state declares an object field: numpy would read raw bytes as pointers."""
    state = (3, "|", None, ("a",), {"a": (np.dtype("O"), 0)}, 16, 1, 0x3F)
    return _State(np.dtype, ("V16", False, True), state)


def _frombuffer_call(data: object, dtype: object, shape: object) -> _Reduce:
    import importlib

    return _Reduce(importlib.import_module(_NUMPY_NUMERIC)._frombuffer, data, dtype, shape, "C")


def _hostile_pickles(marker: Path) -> dict[str, bytes]:
    big = list(range(100_000))
    reconstruct = np.ndarray.__reduce_ex__(np.zeros(1), 2)[0]
    return {
        "hidden-object-field": pickle.dumps(_frombuffer_call(b"\x41" * 16, _hidden_object_dtype(), (1,)), 2),
        "bytearray-bomb": pickle.dumps(_Reduce(bytearray, 1_500_000_000), 2),
        "bytes-bomb": pickle.dumps(_Reduce(bytes, 10**9), 4),
        "list-of-range": pickle.dumps(_Reduce(list, range(10**12)), 4),
        "tuple-of-range": pickle.dumps(_Reduce(tuple, range(10**12)), 4),
        "copied-list-amplification": pickle.dumps([big] + [_Reduce(list, big) for _ in range(3000)], 4),
        "numpy-zeros": pickle.dumps(_Reduce(np.zeros, (10**12,)), 4),
        "ndarray-call": pickle.dumps(_Reduce(np.ndarray, (10**12,)), 4),
        "reconstruct-huge-shape": pickle.dumps(_Reduce(reconstruct, np.ndarray, (10**12,), b"b"), 4),
        "itemsize-1e9": pickle.dumps(
            _State(reconstruct, (np.ndarray, (0,), b"b"), (1, (1,), np.dtype("S1000000000"), False, b"x")), 4
        ),
        "frombuffer-shape-larger-than-data": pickle.dumps(
            _frombuffer_call(b"\0" * 8, np.dtype("f8"), (10**9,)), 4
        ),
        "object-dtype": pickle.dumps(np.array([1, "a"], dtype=object), 4),
        "void-dtype": pickle.dumps(np.zeros(2, dtype="V8"), 4),
        "structured-dtype": pickle.dumps(np.zeros(2, dtype=[("a", "f4"), ("b", "i4")]), 4),
        "subarray-dtype-state": pickle.dumps(
            _State(np.dtype, ("f4", False, True), (3, "<", (np.dtype("O"), (3,)), None, None, 24, 8, 0)), 4
        ),
        "datetime-dtype": pickle.dumps(np.zeros(2, dtype="M8[s]"), 4),
        "dtype-state-with-fields": pickle.dumps(
            _State(np.dtype, ("f8", False, True), (3, "<", None, ("a",), {"a": (np.dtype("O"), 0)}, 8, 8, 0)),
            4,
        ),
        "object-scalar": pickle.dumps(np.array([None], dtype=object)[0:1], 4),
        "deep-nesting": b"\x80\x04" + b"]" * 100_000 + b"a" * 99_999 + b".",
        "huge-memo-index": b"\x80\x02Nr\xff\xff\xff\xff0j\xff\xff\xff\xff.",
        "os-system": pickle.dumps(_Reduce(os.system, f"touch {marker}"), 2),
        "eval": pickle.dumps(_Reduce(builtins.eval, f"open({str(marker)!r}, 'w')"), 4),
        "getattr": pickle.dumps(_Reduce(builtins.getattr, "text", "upper"), 4),
        "build-on-a-dict": b"\x80\x04}}b.",
        "newobj-of-a-builtin": b"\x80\x04\x8c\x08builtins\x8c\x05bytes\x93J\x00\xca\x9a;\x85\x81.",
    }


_EXPECTED = {  # case -> what the loader must say (the rest of the hostile cases: refused as unsafe)
    "huge-memo-index": "loaded",
    "deep-nesting": "UnsafePickleError: .*nested deeper than 100",
    "bytearray-bomb": r"UnsafePickleError: .*bytearray\(int\)",
    "copied-list-amplification": "UnsafePickleError: .*more than the file's size allows",
    "os-system": r"UnsafePickleError: .*refusing to load global '(posix|nt|os)\.system'",
}

_CHILD = r"""
import json, os, resource, sys
from pathlib import Path
from datamodules.formats.errors import DataFormatError
from datamodules.formats.safe_pickle import load_untrusted_pickle

def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

vm = int(open("/proc/self/statm").read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
resource.setrlimit(resource.RLIMIT_AS, (vm + 2**30, vm + 2**30))  # 1 GiB above what the imports took
start = rss_mb()
results = {}
for path in sorted(Path(sys.argv[1]).glob("*.pkl")):
    try:
        load_untrusted_pickle(path)
        results[path.stem] = "loaded"
    except DataFormatError as exc:
        results[path.stem] = f"{type(exc).__name__}: {exc}"
print(json.dumps({"results": results, "rss_growth_mb": rss_mb() - start}))
"""


@pytest.fixture(scope="module")
def hostile_results(tmp_path_factory: pytest.TempPathFactory) -> dict:
    folder = tmp_path_factory.mktemp("hostile")
    marker = folder / "marker"
    for name, data in _hostile_pickles(marker).items():
        (folder / f"{name}.pkl").write_bytes(data)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    child = subprocess.run(
        [sys.executable, "-c", _CHILD, str(folder)], capture_output=True, text=True, env=env, timeout=600
    )
    assert child.returncode == 0, f"the loader crashed (rc {child.returncode}): {child.stderr[-2000:]}"
    assert not marker.exists(), "a payload executed"
    return {
        **json.loads(child.stdout.splitlines()[-1]),
        "sizes": {n: len(d) for n, d in _hostile_pickles(marker).items()},
    }


@pytest.mark.parametrize("case", sorted(_hostile_pickles(Path("marker"))))
def test_hostile_pickle_is_refused_without_crash_or_allocation(hostile_results: dict, case: str) -> None:
    outcome = hostile_results["results"][case]
    assert re.search(_EXPECTED.get(case, "UnsafePickleError: "), outcome), outcome
    assert "MemoryError" not in outcome  # refused before allocating, not after trying


def test_hostile_pickles_keep_memory_bounded(hostile_results: dict) -> None:
    assert hostile_results["rss_growth_mb"] < 200, hostile_results["rss_growth_mb"]
    assert hostile_results["sizes"]["bytearray-bomb"] < 64  # the bomb is a tiny file


def test_hidden_object_dtype_payload_is_small(tmp_path: Path) -> None:
    data = pickle.dumps(_frombuffer_call(b"\x41" * 16, _hidden_object_dtype(), (1,)), 2)
    assert len(data) < 300
    with pytest.raises(UnsafePickleError, match=r"declares fields or a subarray|not a plain"):
        load_untrusted_pickle(_write(tmp_path / "bbox.pkl", data))


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
@pytest.mark.parametrize("core", ["numpy.core", "numpy._core"])
def test_action_genome_like_pickle_loads_under_both_numpy_names(
    tmp_path: Path, protocol: int, core: str
) -> None:
    value = {
        "001YG.mp4/000089.png": {
            "bbox": np.array([[1.5, 2.5, 30.0, 40.0]], np.float32),
            "bbox_score": np.array([0.9], np.float32),
            "bbox_size": (480, 270),
            "bbox_mode": "xyxy",
            "keypoints": np.zeros((1, 17, 3), np.float32),
            "keypoints_logits": np.zeros((1, 17), np.float32),
            "fortran": np.asfortranarray(np.arange(6, dtype=">i4").reshape(2, 3)),
            "flags": np.array([True, False]),
            "names": np.array([b"cup", b"dish"]),
            "scalar": np.float64(2.5),
        },
        "001YG.mp4/000093.png": [
            {
                "class": "cup/glass/bottle",
                "bbox": (1.0, 2.0, 3.0, 4.0),
                "visible": True,
                "metadata": {"tag": "001YG.mp4/cup/000093", "set": "train"},
            }
        ],
    }
    data = pickle.dumps(value, protocol=protocol)
    if protocol <= 3:  # text module names (GLOBAL): rewrite them as the other numpy spells them
        data = (
            data.replace(b"numpy._core.", b"numpy.core.")
            if core == "numpy.core"
            else data.replace(b"numpy.core.", b"numpy._core.")
        )
        assert core.encode() + b"." in data
    loaded = load_untrusted_pickle(_write(tmp_path / "person_bbox.pkl", data))
    frame = loaded["001YG.mp4/000089.png"]
    for key, expected in value["001YG.mp4/000089.png"].items():
        if isinstance(expected, np.ndarray):
            assert frame[key].dtype == expected.dtype and np.array_equal(frame[key], expected), key
            assert frame[key].flags.writeable
        else:
            assert frame[key] == expected, key
    assert loaded["001YG.mp4/000093.png"] == value["001YG.mp4/000093.png"]


def test_shared_array_is_loaded_once(tmp_path: Path) -> None:
    array = np.arange(4.0)
    loaded = load_untrusted_pickle(_write(tmp_path / "shared.pkl", pickle.dumps([array, array], protocol=4)))
    assert loaded[0] is loaded[1] and loaded[0].tolist() == [0.0, 1.0, 2.0, 3.0]
