"""Optional dependencies: the parts that need an extra say which one when it is missing.

``pip install lvlm-var`` gives LaIAR, the VST and the data layer; ``lvlm-var[lvlm]`` adds the LLaVA
classifier's transformers, peft and bitsandbytes; ``lvlm-var[rgb]`` the RGB feature path's torchvision.
"""

from __future__ import annotations

import importlib.util

__all__ = ["require_extra"]


def require_extra(extra: str, part: str, *modules: str) -> None:
    """Raise ``ImportError`` naming ``extra`` unless every one of ``modules`` can be imported.

    Args:
        extra: the setup.cfg extra that installs the modules, e.g. ``"lvlm"``.
        part: what needs them, for the message, e.g. ``"lvlm_var.lvlm (the LLaVA classifier)"``.
        modules: top-level module names.

    Raises:
        ImportError: ``"lvlm_var.lvlm (the LLaVA classifier) needs transformers, peft: pip install
            'lvlm-var[lvlm]'"``.
    """
    missing = [name for name in modules if importlib.util.find_spec(name) is None]
    if missing:
        raise ImportError(
            f"{part} needs {', '.join(missing)} (not installed): pip install 'lvlm-var[{extra}]'"
        )
