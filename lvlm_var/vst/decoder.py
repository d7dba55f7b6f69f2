"""The VST decoder: quantized token steps back to joint positions and velocities at the input frame rate.

A 1-D temporal convolution network over token steps (joints and bodies flattened into channels, as in
the T2M-GPT / MotionGPT motion decoders), up-sampled by nearest-neighbour repetition plus convolution,
mirroring the encoder's temporal strides in reverse, with two output heads: positions and velocities
(units per second at ``config.frame_rate``).

Every convolution pads by replication and the network has no normalisation or dropout, so it is
time-invariant and mode-independent: a sequence of one repeated code decodes to one constant pose and
one constant velocity. :mod:`lvlm_var.vst.naming` names each code from exactly that pair.
"""

from __future__ import annotations

from typing import NamedTuple

from torch import Tensor, nn

from .config import VSTConfig
from .graph import COORDINATES

__all__ = ["VSTDecoder", "DecodedMotion"]


class DecodedMotion(NamedTuple):
    """Decoder output.

    Attributes:
        positions: ``(B, C, T, V, M)`` joint positions.
        velocities: ``(B, C, T, V, M)`` joint velocities in units per second.
    """

    positions: Tensor
    velocities: Tensor


def _conv(in_channels: int, out_channels: int, kernel: int = 3) -> nn.Conv1d:
    return nn.Conv1d(in_channels, out_channels, kernel, padding=kernel // 2, padding_mode="replicate")


class _ResidualBlock(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.GELU(), _conv(channels, channels), nn.GELU(), _conv(channels, channels, 1)
        )

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)


class VSTDecoder(nn.Module):
    """Token vectors to joint motion.

    Args:
        config: the VST hyperparameters (``token_dim``, ``decoder_channels``, ``decoder_blocks``,
            ``temporal_strides``, ``num_joints``, ``num_bodies``).

    Shapes:
        ``forward``: quantized ``(B, S, D)`` -> :class:`DecodedMotion` of ``(B, C, S * down-sampling, V, M)``.
    """

    def __init__(self, config: VSTConfig) -> None:
        super().__init__()
        self.config = config
        hidden = config.decoder_channels
        layers: list[nn.Module] = [_conv(config.token_dim, hidden)]
        layers += [_ResidualBlock(hidden) for _ in range(config.decoder_blocks)]
        for stride in reversed(config.temporal_strides):
            if stride == 1:
                continue
            layers += [nn.Upsample(scale_factor=stride, mode="nearest"), _conv(hidden, hidden)]
            layers += [_ResidualBlock(hidden) for _ in range(config.decoder_blocks)]
        layers.append(nn.GELU())
        self.body = nn.Sequential(*layers)
        outputs = config.num_bodies * config.num_joints * COORDINATES
        self.position_head = _conv(hidden, outputs)
        self.velocity_head = _conv(hidden, outputs)

    def _to_skeleton(self, x: Tensor) -> Tensor:
        batch, _, frames = x.shape
        config = self.config
        x = x.reshape(batch, config.num_bodies, config.num_joints, COORDINATES, frames)
        return x.permute(0, 3, 4, 2, 1)

    def forward(self, quantized: Tensor) -> DecodedMotion:
        hidden = self.body(quantized.transpose(1, 2))
        return DecodedMotion(
            self._to_skeleton(self.position_head(hidden)), self._to_skeleton(self.velocity_head(hidden))
        )
