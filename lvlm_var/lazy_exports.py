"""Packages whose public names are imported on first use: ``datamodules`` and ``callbacks`` export
Lightning classes, and their file readers and the run report must not pay for importing Lightning."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(package: str, homes: dict[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The module ``__getattr__`` and ``__dir__`` of ``package`` that import ``name`` from ``homes[name]``.

    Args:
        package: the package's ``__name__``.
        homes: public name -> the relative module that defines it (``".skeleton_datamodule"``).
    """
    namespace = importlib.import_module(package).__dict__

    def __getattr__(name: str) -> Any:
        if name not in homes:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(homes[name], package), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *homes})

    return __getattr__, __dir__
