"""Without the ``[lvlm]`` extra, LaIAR, the VST, the data layer and the CLI import; the LLaVA classifier
says which extra it needs."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from lvlm_var.extras import require_extra

ROOT = Path(__file__).resolve().parents[1]

# As if transformers, peft and bitsandbytes were not installed: no module and no distribution metadata
# (torchmetrics and Lightning probe optional packages by their metadata before importing them).
_HIDE_LVLM_EXTRA = """
import importlib.metadata, sys
HIDDEN = ("transformers", "peft", "bitsandbytes")
for name in HIDDEN:
    sys.modules[name] = None
def _hide(real):
    def lookup(name, *args, **kwargs):
        if name.lower() in HIDDEN:
            raise importlib.metadata.PackageNotFoundError(name)
        return real(name, *args, **kwargs)
    return lookup
importlib.metadata.version = _hide(importlib.metadata.version)
importlib.metadata.distribution = _hide(importlib.metadata.distribution)
"""


def _run_without_lvlm_extra(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _HIDE_LVLM_EXTRA + textwrap.dedent(code)],
        capture_output=True, text=True, cwd=ROOT, env={"PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"},
        timeout=300,
    )


def test_core_imports_without_the_lvlm_extra_and_the_classifier_names_it() -> None:
    result = _run_without_lvlm_extra(
        """
        import callbacks, datamodules, lvlm_var.batches, lvlm_var.cli, lvlm_var.dtformer, lvlm_var.vst
        assert not {"transformers", "peft", "bitsandbytes"} & {m for m, v in sys.modules.items() if v}
        try:
            import lvlm_var.lvlm.module
        except ImportError as error:
            print(error)
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "lvlm_var.lvlm (the LLaVA classifier) needs transformers, peft, bitsandbytes (not installed): "
        "pip install 'lvlm-var[lvlm]'"
    )


def test_require_extra_names_only_the_missing_modules() -> None:
    require_extra("lvlm", "x", "torch")
    expected = r"^x needs no_such_module_42 \(not installed\): pip install 'lvlm-var\[rgb\]'$"
    with pytest.raises(ImportError, match=expected):
        require_extra("rgb", "x", "torch", "no_such_module_42")
