"""Typed hyperparameters of the VST (Video-to-Semantic-Tokens) tokenizer.

The LVLM-VAR paper gives no details of its VST module; the design and the presets below are ours:

* encoder: a CTR-GCN-class graph convolution network (10 blocks, 64-64-64-64-128-128-128-256-256-256
  channels, temporal stride 2 at blocks 5 and 8) over an early fusion of joint, bone and motion
  streams; 64 input frames -> 16 token steps (4x temporal down-sampling, as in T2M-GPT / MotionGPT);
* quantizer: one 256-entry codebook with EMA updates, k-means initialisation and dead-code revival;
* decoder: a 1-D temporal convolution network back to positions and velocities of every joint;
* a classification head on the quantized tokens so that the codes carry class meaning (LLM-AR aligns
  its codes with meaning for the same reason; reconstruction-only codebooks do not).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from typing import Any

from ..skeleton_layout import CLIP_LAYOUTS

__all__ = ["VSTConfig"]

_KNOWN_NUM_JOINTS = tuple(layout.num_joints for layout in CLIP_LAYOUTS)


@dataclass
class VSTConfig:
    """Hyperparameters of :class:`~lvlm_var.vst.module.VSTModule` and its parts.

    The defaults are the NTU RGB+D 60 preset (:meth:`ntu`).

    Attributes:
        num_classes: action classes of the token classification head.
        num_joints: ``V``; selects the skeleton layout (25: Kinect v2 / NTU, 20: Kinect v1 / NW-UCLA).
        num_bodies: ``M``, bodies per clip (absent bodies are all-zero).
        num_frames: ``T``, frames per input clip.
        channels: output channels of every encoder block.
        temporal_strides: temporal stride of every encoder block; their product is the temporal
            down-sampling from frames to token steps.
        temporal_kernel: kernel size of the multi-scale temporal convolutions.
        temporal_dilations: dilations of the temporal convolution branches (two extra branches, a max-pool
            and a 1x1 one, are always present).
        token_dim: ``D``, width of a token (the codebook vectors).
        encoder_dropout: dropout before the encoder's output projection.
        codebook_size: ``K`` codebook entries (``<act_0>`` .. ``<act_{K-1}>``).
        codebook_decay: EMA decay of the codebook updates.
        kmeans_iters: k-means iterations of the codebook initialisation on the first training batch.
        dead_code_threshold: a code whose EMA count of assignments per batch falls below this is revived
            (replaced by a random encoder output of the batch). Keep it well below the mean assignments per
            code and batch, ``batch_size * num_steps / codebook_size``.
        cosine_codebook: quantize l2-normalised features against l2-normalised codes (better codebook
            usage than Euclidean lookup, as in ViT-VQGAN).
        decoder_channels: hidden width of the decoder.
        decoder_blocks: residual blocks of the decoder after each up-sampling stage.
        position_weight: weight of the joint-position reconstruction loss.
        velocity_weight: weight of the joint-velocity reconstruction loss.
        commitment_weight: weight of the commitment loss (encoder outputs pulled to their codes).
        classification_weight: weight of the token classification loss (0 gives a reconstruction-only
            codebook).
        motion_weight: weight of the step motion loss (:mod:`~lvlm_var.vst.motion_head`: every token
            predicts its step's fastest body part and direction, so codes stand for one motion and their
            names hold); 0 turns it off.
        head_hidden: hidden width of the token classification head.
        head_dropout: dropout in the token classification head.
        frame_rate: frames per second of the model's input clips; names express speeds per second of it.
        min_run: runs shorter than this many token steps are flicker and merged into a neighbour.
        still_quantile: share of the training steps whose fastest part is named still: the names' "still"
            threshold is this quantile of the training set's fastest-part speeds (torso lengths per second),
            so names are calibrated to each data set (:mod:`~lvlm_var.vst.code_statistics`).
        slow_quantile: below this quantile of the same speeds a moving part moves "slowly".
        fast_quantile: above this quantile a moving part moves "fast".
        probe_ridge: ridge strength of the bag-of-codes linear probe, relative to the mean diagonal of
            the histograms' Gram matrix.
    """

    num_classes: int = 60
    num_joints: int = 25
    num_bodies: int = 2
    num_frames: int = 64
    channels: tuple[int, ...] = (64, 64, 64, 64, 128, 128, 128, 256, 256, 256)
    temporal_strides: tuple[int, ...] = (1, 1, 1, 1, 2, 1, 1, 2, 1, 1)
    temporal_kernel: int = 5
    temporal_dilations: tuple[int, ...] = (1, 2)
    token_dim: int = 128
    encoder_dropout: float = 0.0
    codebook_size: int = 256
    codebook_decay: float = 0.99
    kmeans_iters: int = 10
    dead_code_threshold: float = 1.0
    cosine_codebook: bool = True
    decoder_channels: int = 256
    decoder_blocks: int = 2
    position_weight: float = 1.0
    velocity_weight: float = 1.0
    commitment_weight: float = 0.25
    classification_weight: float = 1.0
    motion_weight: float = 1.0
    head_hidden: int = 256
    head_dropout: float = 0.1
    frame_rate: float = 30.0
    min_run: int = 2
    still_quantile: float = 0.15
    slow_quantile: float = 0.4
    fast_quantile: float = 0.9
    probe_ridge: float = 1e-2

    def __post_init__(self) -> None:
        self.channels = tuple(int(c) for c in self.channels)
        self.temporal_strides = tuple(int(s) for s in self.temporal_strides)
        self.temporal_dilations = tuple(int(d) for d in self.temporal_dilations)
        for name in (
            "num_classes",
            "num_bodies",
            "num_frames",
            "temporal_kernel",
            "token_dim",
            "codebook_size",
            "kmeans_iters",
            "decoder_channels",
            "head_hidden",
            "min_run",
        ):
            if getattr(self, name) <= 0:
                raise ValueError(f"VSTConfig.{name} must be > 0, got {getattr(self, name)}")
        for name in ("frame_rate",):
            if getattr(self, name) <= 0:
                raise ValueError(f"VSTConfig.{name} must be > 0, got {getattr(self, name)}")
        for name in (
            "decoder_blocks",
            "position_weight",
            "velocity_weight",
            "commitment_weight",
            "classification_weight",
            "motion_weight",
            "dead_code_threshold",
            "probe_ridge",
        ):
            if getattr(self, name) < 0:
                raise ValueError(f"VSTConfig.{name} must be >= 0, got {getattr(self, name)}")
        if self.num_joints not in _KNOWN_NUM_JOINTS:
            raise ValueError(
                f"VSTConfig.num_joints must be one of {_KNOWN_NUM_JOINTS} ("
                + ", ".join(f"{layout.num_joints}: {layout.name}" for layout in CLIP_LAYOUTS)
                + f"), got {self.num_joints}"
            )
        if not self.channels:
            raise ValueError("VSTConfig.channels must name at least one encoder block")
        if len(self.temporal_strides) != len(self.channels):
            raise ValueError(
                f"VSTConfig.temporal_strides has {len(self.temporal_strides)} entries, expected one per "
                f"encoder block ({len(self.channels)})"
            )
        if any(s < 1 for s in self.temporal_strides):
            raise ValueError(f"VSTConfig.temporal_strides must all be >= 1, got {self.temporal_strides}")
        branches = len(self.temporal_dilations) + 2
        if any(c % branches for c in self.channels) or any(c <= 0 for c in self.channels):
            raise ValueError(
                f"VSTConfig.channels must be positive multiples of {branches} (one share per temporal "
                f"branch: {len(self.temporal_dilations)} dilations + max-pool + 1x1), got {self.channels}"
            )
        if not self.temporal_dilations or any(d < 1 for d in self.temporal_dilations):
            raise ValueError(f"VSTConfig.temporal_dilations must be >= 1, got {self.temporal_dilations}")
        if self.temporal_kernel % 2 == 0:
            raise ValueError(f"VSTConfig.temporal_kernel must be odd, got {self.temporal_kernel}")
        if self.num_frames % self.temporal_downsample:
            raise ValueError(
                f"VSTConfig.num_frames ({self.num_frames}) must be divisible by the temporal down-sampling "
                f"{self.temporal_downsample} (product of temporal_strides {self.temporal_strides})"
            )
        if not 0.0 <= self.encoder_dropout < 1.0 or not 0.0 <= self.head_dropout < 1.0:
            raise ValueError(
                f"VSTConfig dropouts must be in [0, 1), got encoder_dropout={self.encoder_dropout}, "
                f"head_dropout={self.head_dropout}"
            )
        if not 0.0 < self.codebook_decay < 1.0:
            raise ValueError(f"VSTConfig.codebook_decay must be in (0, 1), got {self.codebook_decay}")
        if not 0.0 <= self.still_quantile < self.slow_quantile < self.fast_quantile <= 1.0:
            raise ValueError(
                "VSTConfig speed quantiles must satisfy 0 <= still_quantile < slow_quantile < fast_quantile "
                f"<= 1, got {self.still_quantile}, {self.slow_quantile}, {self.fast_quantile}"
            )

    @property
    def temporal_downsample(self) -> int:
        """Frames per token step (product of the encoder's temporal strides)."""
        return math.prod(self.temporal_strides)

    @property
    def num_steps(self) -> int:
        """``S``, token steps per clip."""
        return self.num_frames // self.temporal_downsample

    @classmethod
    def ntu(cls, num_classes: int = 60) -> VSTConfig:
        """NTU RGB+D 60 / 120: 25 joints, 2 bodies, 64 frames -> 16 steps, 256 codes (~1.5M-param encoder)."""
        return cls(num_classes=num_classes)

    @classmethod
    def nw_ucla(cls) -> VSTConfig:
        """NW-UCLA: 20 Kinect v1 joints, 1 body, 10 classes, otherwise the NTU preset."""
        return cls(num_classes=10, num_joints=20, num_bodies=1)

    @classmethod
    def small(cls, num_classes: int = 4, num_joints: int = 25) -> VSTConfig:
        """A few-minute CPU model: 3 encoder blocks of 16-64 channels, 32 frames -> 8 steps, 64 codes."""
        return cls(
            num_classes=num_classes,
            num_joints=num_joints,
            num_frames=32,
            channels=(16, 32, 64),
            temporal_strides=(1, 2, 2),
            token_dim=32,
            codebook_size=64,
            codebook_decay=0.9,
            dead_code_threshold=0.5,
            decoder_channels=64,
            decoder_blocks=1,
            head_hidden=64,
        )

    @classmethod
    def tiny(cls, num_classes: int = 3, num_joints: int = 25, num_bodies: int = 2) -> VSTConfig:
        """For tests: 2 encoder blocks of 8-16 channels, 16 frames -> 4 steps, 16 codes."""
        return cls(
            num_classes=num_classes,
            num_joints=num_joints,
            num_bodies=num_bodies,
            num_frames=16,
            channels=(8, 16),
            temporal_strides=(2, 2),
            token_dim=8,
            codebook_size=16,
            codebook_decay=0.8,
            kmeans_iters=2,
            dead_code_threshold=0.5,
            decoder_channels=16,
            decoder_blocks=1,
            head_hidden=16,
            head_dropout=0.0,
        )

    @classmethod
    def preset(cls, name: str, **overrides: Any) -> VSTConfig:
        """A named preset with some fields replaced.

        Raises:
            ValueError: unknown preset (the message lists the valid ones) or unknown field.
        """
        presets = {"ntu": cls.ntu, "nw_ucla": cls.nw_ucla, "small": cls.small, "tiny": cls.tiny}
        if name not in presets:
            raise ValueError(f"unknown VST preset {name!r}; valid presets: {', '.join(presets)}")
        valid = {f.name for f in fields(cls)}
        unknown = sorted(set(overrides) - valid)
        if unknown:
            raise ValueError(
                f"unknown VSTConfig field(s) {unknown}; valid fields: {', '.join(sorted(valid))}"
            )
        return replace(presets[name](), **overrides)
