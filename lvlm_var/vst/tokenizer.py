"""``VSTTokenizer``: the VST as a plain ``nn.Module``, skeleton clips -> codes -> named action narratives.

Pipeline: skeleton ``(B, 3, T, V, M)`` -> :class:`~lvlm_var.vst.encoder.VSTEncoder` (``T / stride`` steps)
-> :class:`~lvlm_var.vst.quantizer.VSTQuantizer` (``<act_k>`` codes) -> run-length merge
(:func:`~lvlm_var.vst.narrative.merge_token_runs`) with each code's name (:mod:`~lvlm_var.vst.naming`,
read off the :class:`~lvlm_var.vst.decoder.VSTDecoder`) -> :class:`~lvlm_var.vst.narrative.ActionNarrative`.

The code names are part of the state dict (``_extra_state``), recomputed from the weights whenever the
state dict is taken, so a saved tokenizer always carries the names its weights give. Training (losses,
head, probe, metrics, schedule) lives in :class:`~lvlm_var.vst.module.VSTModule`, which wraps this module.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from .config import VSTConfig
from .decoder import VSTDecoder
from .encoder import VSTEncoder
from .graph import COORDINATES
from .naming import name_codes
from .narrative import ActionNarrative, merge_token_runs
from .quantizer import QuantizerOutput, VSTQuantizer

__all__ = ["VSTTokenizer"]


class VSTTokenizer(nn.Module):
    """Skeleton clips to discrete, named, run-length merged semantic action tokens.

    Args:
        config: the VST hyperparameters; ``None`` is the NTU preset (:meth:`VSTConfig.ntu`).

    Shapes:
        ``forward``: skeleton ``(B, 3, T, V, M)`` -> :class:`~lvlm_var.vst.quantizer.QuantizerOutput`
        (``quantized (B, S, D)``, ``codes (B, S)``, ``commitment_loss``), differentiable, updating the
        codebook in training mode; :meth:`encode` -> codes ``(B, S)``; :meth:`tokenize` -> ``B``
        :class:`ActionNarrative` (segments with code, name, start, length and seconds; ``.text`` is
        ``"<act_17> right hand rises fast (0.4 s) ..."``).
    """

    def __init__(self, config: VSTConfig | None = None) -> None:
        super().__init__()
        self.config = config if config is not None else VSTConfig.ntu()
        # Construction order encoder -> quantizer -> decoder fixes the initial weights of a seed.
        self.encoder = VSTEncoder(self.config)
        self.quantizer = VSTQuantizer(self.config)
        self.decoder = VSTDecoder(self.config)
        self._code_names: list[str] | None = None

    def synchronize_codebook(self, synchronize: bool) -> None:
        """Rebuild the quantizer, keeping its state, so it all-reduces codebook statistics (or stops).

        Needed when the module was built before the process group existed (LightningCLI builds it before
        DDP starts). A call that changes nothing does nothing.
        """
        if synchronize != self.quantizer.synchronize:
            state = self.quantizer.state_dict()
            self.quantizer = VSTQuantizer(self.config, synchronize=synchronize).to(
                self.quantizer.codebook.device
            )
            self.quantizer.load_state_dict(state)

    def check_skeleton(self, skeleton: Tensor, where: str) -> None:
        """Raise ``ValueError`` naming ``where`` and the expected shape unless ``skeleton`` fits."""
        cfg = self.config
        if (
            skeleton.ndim != 5
            or skeleton.shape[1] != COORDINATES
            or skeleton.shape[3] != cfg.num_joints
            or skeleton.shape[4] != cfg.num_bodies
            or skeleton.shape[2] % cfg.temporal_downsample
        ):
            raise ValueError(
                f"VST {where}: skeleton must be "
                f"(B, {COORDINATES}, T, {cfg.num_joints}, {cfg.num_bodies}) "
                f"with T a multiple of {cfg.temporal_downsample}, got {tuple(skeleton.shape)}"
            )

    def forward_features(self, skeleton: Tensor) -> Tensor:
        """Encoder features before quantization: ``(B, C, T, V, M)`` -> ``(B, S, D)``."""
        return self.encoder(skeleton)

    def forward(self, skeleton: Tensor) -> QuantizerOutput:
        """Encode and quantize ``skeleton`` ``(B, C, T, V, M)`` (gradients reach the encoder)."""
        self.check_skeleton(skeleton, "forward")
        return self.quantizer(self.forward_features(skeleton))

    @torch.no_grad()
    def encode(self, skeleton: Tensor) -> Tensor:
        """Codes of ``skeleton`` ``(B, C, T, V, M)`` -> ``(B, S)`` long, in eval mode (no codebook update)."""
        self.check_skeleton(skeleton, "encode")
        was_training = self.training
        self.eval()
        try:
            device = self.quantizer.codebook.device
            return self.quantizer(self.forward_features(skeleton.to(device, torch.float32))).codes
        finally:
            self.train(was_training)

    @property
    def code_names(self) -> list[str]:
        """Name of every code (computed on first use, refreshed by :meth:`refresh_code_names`)."""
        if self._code_names is None:
            self.refresh_code_names()
        return list(self._code_names)

    def refresh_code_names(self) -> list[str]:
        """Recompute every code's name from the current decoder and codebook (deterministic)."""
        self._code_names = name_codes(self.quantizer, self.decoder, self.config)
        return list(self._code_names)

    def narratives(self, codes: Tensor, fps: float) -> list[ActionNarrative]:
        """Run-length merged narratives of ``codes`` ``(B, S)``; a step is ``temporal_downsample / fps`` s."""
        if fps <= 0:
            raise ValueError(f"fps must be > 0, got {fps}")
        names = self.code_names
        seconds_per_step = self.config.temporal_downsample / fps
        return [merge_token_runs(row, names, seconds_per_step, self.config.min_run) for row in codes.tolist()]

    def tokenize(self, skeleton: Tensor, fps: float = 30.0) -> list[ActionNarrative]:
        """Skeleton clips to action narratives.

        Args:
            skeleton: ``(B, 3, T, V, M)`` with ``T`` a multiple of the temporal down-sampling.
            fps: frame rate of ``skeleton`` (sets the segments' durations in seconds).

        Returns:
            ``B`` narratives, e.g. ``<act_17> right hand rises fast (0.4 s) <act_3> stands still (1.2 s)``.

        Raises:
            ValueError: wrong skeleton shape or ``fps <= 0``.
        """
        self.check_skeleton(skeleton, "tokenize")
        return self.narratives(self.encode(skeleton), fps)

    def get_extra_state(self) -> dict[str, Any]:
        return {"code_names": self.refresh_code_names()}

    def set_extra_state(self, state: dict[str, Any]) -> None:
        self._code_names = list(state["code_names"])

    def _load_from_state_dict(
        self,
        state_dict: dict[str, Any],
        prefix: str,
        local_metadata: dict[str, Any],
        strict: bool,
        missing_keys: list[str],
        unexpected_keys: list[str],
        error_msgs: list[str],
    ) -> None:
        # The names follow from the weights: a state dict without them (written before they were part of
        # it) is complete, and the names are recomputed from the loaded weights on first use.
        extra = f"{prefix}_extra_state"
        has_names = extra in state_dict
        super()._load_from_state_dict(
            state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs
        )
        if not has_names:
            self._code_names = None
            if extra in missing_keys:
                missing_keys.remove(extra)
