"""Configuration errors of the ``lvlm-var`` command as one short message: the YAML key, the value and what
is allowed, with the closest valid names for a misspelt class path or option (no traceback; ``--debug``
shows it)."""

from __future__ import annotations

import difflib
import importlib
import inspect
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

__all__ = ["ConfigurationError", "closest", "class_path_hint", "short_parser_message", "field_error_message"]


class ConfigurationError(ValueError):
    """A configuration the command refuses: names the key, the value and what is allowed."""


def closest(name: str, candidates: Iterable[str], count: int = 3) -> list[str]:
    """Up to ``count`` candidates closest to ``name`` (case-insensitive), best first."""
    by_lower = {candidate.lower(): candidate for candidate in candidates}
    return [by_lower[m] for m in difflib.get_close_matches(name.lower(), list(by_lower), n=count, cutoff=0.6)]


def _did_you_mean(names: list[str]) -> str:
    return f"; did you mean {' or '.join(names)}?" if names else ""


def class_path_hint(class_path: str) -> str:
    """``"; did you mean a.B?"`` for a class path that does not import, from the deepest module that does."""
    parts = class_path.split(".")
    for depth in range(len(parts) - 1, 0, -1):
        module_name = ".".join(parts[:depth])
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        names = [n for n in getattr(module, "__all__", dir(module)) if not n.startswith("_")]
        if depth == len(parts) - 1:
            names = [n for n in names if inspect.isclass(getattr(module, n, None))]
        rest = ".".join(parts[depth + 1 :])
        matches = closest(parts[depth], names)
        return _did_you_mean([".".join(filter(None, [module_name, m, rest])) for m in matches])
    return ""


_PARSER_KEY = re.compile(r'Parser key "([^"]+)"')
_CLASS_PATH = re.compile(r"Problem with given class_path '([^']+)':")
_NOT_ACCEPTED = re.compile(r"Option '([^']+)' is not accepted")
_UNRECOGNIZED = re.compile(r"unrecognized arguments: --([\w.]+)")
_EXPECTED = re.compile(r"Expected a <class '([\w.]+)'>")


def short_parser_message(message: str, options_of: Callable[[str], Iterable[str]] | None = None) -> str:
    """A jsonargparse error (tens of lines listing every union subtype) cut to the key, value and reason.

    Args:
        message: the parser's error text.
        options_of: a class path's init arguments, for the hint on a misspelt option.
    """
    keys = _PARSER_KEY.findall(message)
    class_path = _CLASS_PATH.search(message)
    group = keys[0] if keys else ""
    if class_path and " has no attribute " in message:
        reason = next(line.strip() for line in message.splitlines() if " has no attribute " in line)
        return (
            f"{group}.class_path: {class_path.group(1)!r} cannot be imported ({reason})"
            f"{class_path_hint(class_path.group(1))}"
        )
    not_accepted = _NOT_ACCEPTED.search(message) or _UNRECOGNIZED.search(message)
    if not_accepted and class_path:
        options = options_of(class_path.group(1)) if options_of is not None else []
        hint = _did_you_mean([f"{group}.init_args.{m}" for m in closest(not_accepted.group(1), options)])
        return f"{group}.init_args.{not_accepted.group(1)}: {class_path.group(1)} has no such option{hint}"
    if len(keys) < 2:
        return message.strip().splitlines()[0]
    # The innermost key failed: its value and the types it accepts.
    inner = message[message.rindex(f'Parser key "{keys[-1]}"') :]
    expected = list(
        dict.fromkeys("None" if name == "NoneType" else name for name in _EXPECTED.findall(inner))
    )
    given = re.search(r"Given value: (.*)", inner)
    key = f"{group}.init_args.{'.'.join(keys[1:])}" if class_path else ".".join(keys)
    value = f" = {given.group(1)!r}" if given else ""
    allowed = f"expected {' or '.join(expected)}" if expected else inner.strip().splitlines()[-1]
    return f"{key}{value}: {allowed}"


_FIELD = re.compile(r"\b([A-Z]\w*)\.(\w+)\b")


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, Mapping):
        flat: dict[str, Any] = {}
        for key, item in value.items():
            flat.update(_flatten(item, f"{prefix}{key}."))
        return flat
    return {prefix.rstrip("."): value}


def field_error_message(error: BaseException, config: Mapping[str, Any]) -> str | None:
    """``model.init_args.keep_ratio = 1.5: LaIARLossConfig.keep_ratio must be in (0, 1]...`` for a
    ``ValueError`` of a config dataclass (``Class.field must ...``), or ``None`` when no key of ``config``
    holds that field."""
    root = error
    while root.__cause__ is not None or (root.__context__ is not None and not root.__suppress_context__):
        root = root.__cause__ or root.__context__
    match = _FIELD.search(str(root))
    if match is None:
        return None
    keys = [key for key in _flatten(config) if key == match.group(2) or key.endswith(f".{match.group(2)}")]
    if not keys:
        return None
    key = min(keys, key=len)
    return f"{key} = {_flatten(config)[key]!r}: {root}"
