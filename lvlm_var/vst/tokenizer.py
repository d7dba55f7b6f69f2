"""``VSTTokenizer``: the VST as a plain ``nn.Module``, skeleton clips -> codes -> named action narratives.

Pipeline: skeleton ``(B, 3, T, V, M)`` -> :class:`~lvlm_var.vst.encoder.VSTEncoder` (``T / stride`` steps)
-> :class:`~lvlm_var.vst.quantizer.VSTQuantizer` (``<act_k>`` codes) -> run-length merge
(:func:`~lvlm_var.vst.narrative.merge_token_runs`) with each code's name (:mod:`~lvlm_var.vst.naming`)
-> :class:`~lvlm_var.vst.narrative.ActionNarrative`.

A code's name says what the input steps assigned that code do. Whoever trains the tokenizer shows it the
training clips (:meth:`VSTTokenizer.observe` in every training step, :meth:`VSTTokenizer.calibrate` at the
end of an epoch): the epoch's per-code kinematics (:class:`~lvlm_var.vst.code_statistics.CodeStatistics`)
become the calibration the names are read from, with speed words from the training set's own speed
quantiles. The calibration is a buffer and the names are part of the state dict (``_extra_state``), so a
saved tokenizer carries both. Training (losses, heads, probe, metrics, schedule) lives in
:class:`~lvlm_var.vst.module.VSTModule`, which wraps this module; any other training loop that calls
``observe`` / ``calibrate`` gets the same names.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor, nn

from .code_statistics import CodeStatistics
from .config import VSTConfig
from .decoder import VSTDecoder
from .encoder import VSTEncoder
from .graph import COORDINATES
from .naming import CodeName, name_codes
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
        # This epoch's sums over the training steps, and the calibration the names are read from (saved).
        self.code_statistics = CodeStatistics(self.config, persistent=False)
        self.code_calibration = CodeStatistics(self.config)
        self._code_names: list[CodeName] | None = None

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
        return [name.text for name in self.code_name_records]

    @property
    def code_name_records(self) -> list[CodeName]:
        """Every code's :class:`~lvlm_var.vst.naming.CodeName`: its words, the part and direction claimed."""
        if self._code_names is None:
            self.refresh_code_names()
        return list(self._code_names)

    def refresh_code_names(self) -> list[str]:
        """Recompute every code's name from the calibration and the codebook (deterministic)."""
        self._code_names = name_codes(self.code_calibration, self.quantizer.codebook)
        return [name.text for name in self._code_names]

    @torch.no_grad()
    def observe(self, skeleton: Tensor, codes: Tensor) -> None:
        """Add training clips ``skeleton`` ``(B, 3, T, V, M)`` quantized to ``codes`` ``(B, S)`` to this
        epoch's sums."""
        self.code_statistics.accumulate(skeleton, codes)

    def reset_statistics(self) -> None:
        """Start a new epoch's sums (the calibration is kept until :meth:`calibrate`)."""
        self.code_statistics.reset()

    def calibrate(self, reduce: Callable[[Tensor], Tensor] | None = None) -> list[str]:
        """Make this epoch's sums the calibration and rename the codes from it.

        Args:
            reduce: sums a tensor over processes (under DDP every rank must call this); ``None`` in one
                process, where an epoch that observed nothing keeps the previous calibration.

        Returns:
            The new code names.
        """
        if reduce is not None or self.code_statistics.seen:
            self.code_calibration.copy_from(self.code_statistics, reduce)
        return self.refresh_code_names()

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
        if self.code_calibration.seen or self._code_names is None:
            self.refresh_code_names()
        return {"code_names": [name.to_json() for name in self._code_names]}

    def set_extra_state(self, state: dict[str, Any]) -> None:
        # Tokenizers saved before names carried their claims hold plain strings.
        self._code_names = [
            CodeName(name) if isinstance(name, str) else CodeName.from_json(name)
            for name in state["code_names"]
        ]

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
        # The names follow from the weights and the calibration: a state dict without them (written before
        # they were part of it) is complete, and the names are recomputed on first use.
        extra = f"{prefix}_extra_state"
        has_names = extra in state_dict
        super()._load_from_state_dict(
            state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs
        )
        if not has_names:
            self._code_names = None
            if extra in missing_keys:
                missing_keys.remove(extra)
