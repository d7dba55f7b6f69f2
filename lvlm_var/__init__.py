"""lvlm-var: interpretable human action recognition (LVLM-VAR and LaIAR) on PyTorch Lightning."""

__version__ = "0.1.0"
