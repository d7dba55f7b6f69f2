"""Restricted unpickling: data loads (old numpy names included), code never runs, bad files are typed."""

from __future__ import annotations

import builtins
import os
import pickle
import struct
import subprocess
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
