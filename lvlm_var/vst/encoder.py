"""The VST skeleton encoder: a CTR-GCN-class graph convolution network that emits one feature per token step.

Design (ours; the LVLM-VAR paper gives none):

* **Input streams.** Joint positions, bone vectors (joint minus its parent) and motion (frame difference)
  are concatenated into ``3 * C`` channels (the early fusion of EfficientGCN) so that one network sees
  what the usual 2-4 stream ensembles of CTR-GCN see separately. A batch norm over ``V * 3C`` channels
  normalises the input, as CTR-GCN's ``data_bn`` does, but shared by all bodies.
* **Blocks.** Each block is CTR-GCN's: a channel-wise topology refinement graph convolution over the three
  spatial-partition subsets (a shared, learnable topology plus a per-sample, per-channel refinement from
  pairwise differences of temporally pooled joint features) followed by a multi-scale temporal
  convolution (dilated branches, a max-pool branch and a 1x1 branch), each with a residual connection.
  Strided temporal convolutions down-sample time (stride 2 at blocks 5 and 8 of the NTU preset: 64 frames
  -> 16 token steps).
* **Bodies.** Bodies are folded into the batch (one shared encoder per body) and only the bodies present
  (not all zero) are encoded; joints are mean-pooled, then the present bodies of each clip are averaged,
  so a one-person clip is neither diluted by nor pays for an empty second body slot.
* **Output.** A linear projection to the token width ``D`` per step: ``(B, S, D)``.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ..skeleton_layout import layout_for_num_joints
from .config import VSTConfig
from .graph import COORDINATES, spatial_adjacency

__all__ = ["VSTEncoder", "TopologyRefinedGraphConv", "MultiScaleTemporalConv", "EncoderBlock"]


def _conv_bn(
    in_channels: int, out_channels: int, kernel: int = 1, stride: int = 1, dilation: int = 1
) -> nn.Sequential:
    padding = (kernel + (kernel - 1) * (dilation - 1) - 1) // 2
    return nn.Sequential(
        nn.Conv2d(
            in_channels,
            out_channels,
            (kernel, 1),
            stride=(stride, 1),
            padding=(padding, 0),
            dilation=(dilation, 1),
        ),
        nn.BatchNorm2d(out_channels),
    )


class _ChannelTopology(nn.Module):
    """One subset of CTR-GC: shared topology ``A`` refined per sample and per output channel."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        relation_channels = max(8, in_channels // 8)
        self.query = nn.Conv2d(in_channels, relation_channels, 1)
        self.key = nn.Conv2d(in_channels, relation_channels, 1)
        self.value = nn.Conv2d(in_channels, out_channels, 1)
        self.refine = nn.Conv2d(relation_channels, out_channels, 1)

    def forward(self, x: Tensor, topology: Tensor, alpha: Tensor) -> Tensor:
        query, key = self.query(x).mean(dim=2), self.key(x).mean(dim=2)  # (N, R, V)
        relation = torch.tanh(query.unsqueeze(-1) - key.unsqueeze(-2))  # (N, R, V, V)
        refined = self.refine(relation) * alpha + topology  # (N, C_out, V, V)
        return torch.einsum("ncuv,nctv->nctu", refined, self.value(x))


class TopologyRefinedGraphConv(nn.Module):
    """Channel-wise topology refinement graph convolution (CTR-GC, Chen et al., ICCV 2021).

    Args:
        in_channels: input channels.
        out_channels: output channels.
        adjacency: ``(K, V, V)`` spatial-partition adjacency; initialises the learnable shared topology.

    Shapes:
        ``(N, C_in, T, V) -> (N, C_out, T, V)``.
    """

    def __init__(self, in_channels: int, out_channels: int, adjacency: Tensor) -> None:
        super().__init__()
        self.topology = nn.Parameter(adjacency.clone())
        self.subsets = nn.ModuleList(
            _ChannelTopology(in_channels, out_channels) for _ in range(len(adjacency))
        )
        # alpha starts at zero: training begins from the physical graph and learns how much to refine it.
        self.alpha = nn.Parameter(torch.zeros(1))
        self.norm = nn.BatchNorm2d(out_channels)
        self.residual = _conv_bn(in_channels, out_channels) if in_channels != out_channels else nn.Identity()
        self.activation = nn.ReLU()

    def forward(self, x: Tensor) -> Tensor:
        y = sum(subset(x, self.topology[k], self.alpha) for k, subset in enumerate(self.subsets))
        return self.activation(self.norm(y) + self.residual(x))


class MultiScaleTemporalConv(nn.Module):
    """Multi-scale temporal convolution of CTR-GCN: dilated branches, a max-pool branch and a 1x1 branch.

    Args:
        in_channels: input channels.
        out_channels: output channels (a multiple of ``len(dilations) + 2``).
        kernel: temporal kernel of the dilated branches.
        stride: temporal stride.
        dilations: one branch per dilation.

    Shapes:
        ``(N, C_in, T, V) -> (N, C_out, ceil(T / stride), V)``.
    """

    def __init__(
        self, in_channels: int, out_channels: int, kernel: int, stride: int, dilations: tuple[int, ...]
    ) -> None:
        super().__init__()
        width = out_channels // (len(dilations) + 2)
        self.branches = nn.ModuleList(
            nn.Sequential(_conv_bn(in_channels, width), nn.ReLU(), _conv_bn(width, width, kernel, stride, d))
            for d in dilations
        )
        self.branches.append(
            nn.Sequential(
                _conv_bn(in_channels, width),
                nn.ReLU(),
                nn.MaxPool2d((3, 1), stride=(stride, 1), padding=(1, 0)),
                nn.BatchNorm2d(width),
            )
        )
        self.branches.append(_conv_bn(in_channels, width, 1, stride))

    def forward(self, x: Tensor) -> Tensor:
        return torch.cat([branch(x) for branch in self.branches], dim=1)


class EncoderBlock(nn.Module):
    """CTR-GC followed by a multi-scale temporal convolution, with a (strided) residual connection.

    Shapes:
        ``(N, C_in, T, V) -> (N, C_out, T / stride, V)``.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        adjacency: Tensor,
        stride: int,
        kernel: int,
        dilations: tuple[int, ...],
        residual: bool = True,
    ) -> None:
        super().__init__()
        self.graph_conv = TopologyRefinedGraphConv(in_channels, out_channels, adjacency)
        self.temporal_conv = MultiScaleTemporalConv(out_channels, out_channels, kernel, stride, dilations)
        if not residual:
            self.residual = None
        elif in_channels == out_channels and stride == 1:
            self.residual = nn.Identity()
        else:
            self.residual = _conv_bn(in_channels, out_channels, 1, stride)
        self.activation = nn.ReLU()

    def forward(self, x: Tensor) -> Tensor:
        y = self.temporal_conv(self.graph_conv(x))
        return self.activation(y if self.residual is None else y + self.residual(x))


class VSTEncoder(nn.Module):
    """Skeleton clips to per-step token features.

    Args:
        config: the VST hyperparameters (``num_joints`` selects the joint layout).

    Shapes:
        ``forward``: skeleton ``(B, C, T, V, M)`` -> features ``(B, S, D)`` with
        ``S = T / temporal_downsample``
        and ``D = config.token_dim``. Any number of bodies ``M`` is accepted (bodies share the encoder).
    """

    def __init__(self, config: VSTConfig) -> None:
        super().__init__()
        self.config = config
        layout = layout_for_num_joints(config.num_joints)
        self.register_buffer("parents", torch.tensor(layout.parents), persistent=False)
        adjacency = spatial_adjacency(layout)
        stream_channels = 3 * COORDINATES
        self.input_norm = nn.BatchNorm1d(stream_channels * config.num_joints)
        blocks, in_channels = [], stream_channels
        for index, (out_channels, stride) in enumerate(
            zip(config.channels, config.temporal_strides, strict=True)
        ):
            blocks.append(
                EncoderBlock(
                    in_channels,
                    out_channels,
                    adjacency,
                    stride,
                    config.temporal_kernel,
                    config.temporal_dilations,
                    residual=index > 0,
                )
            )
            in_channels = out_channels
        self.blocks = nn.Sequential(*blocks)
        self.dropout = nn.Dropout(config.encoder_dropout)
        self.project = nn.Linear(in_channels, config.token_dim)

    def input_streams(self, skeleton: Tensor) -> Tensor:
        """Joint, bone and motion streams, bodies folded into the batch.

        Args:
            skeleton: ``(B, C, T, V, M)``.

        Returns:
            ``(M * B, 3C, T, V)`` (body-major); motion is the forward frame difference (zero at the last
            frame).
        """
        batch, channels, frames, joints, bodies = skeleton.shape
        x = skeleton.permute(4, 0, 1, 2, 3).reshape(bodies * batch, channels, frames, joints)
        bones = x - x[..., self.parents]
        motion = torch.zeros_like(x)
        motion[:, :, :-1] = x[:, :, 1:] - x[:, :, :-1]
        return torch.cat([x, bones, motion], dim=1)

    def forward(self, skeleton: Tensor) -> Tensor:
        batch, _, frames, joints, bodies = skeleton.shape
        present = skeleton.abs().sum(dim=(1, 2, 3)) > 0  # (B, M)
        # Only present bodies are encoded: absent (all-zero) slots would cost as much as real ones and
        # skew the batch-norm statistics towards zero.
        x = self.input_streams(skeleton)[present.T.flatten()]  # (P, 3C, T, V), bodies-major like the fold
        channels = x.shape[1]
        x = x.permute(0, 3, 1, 2).reshape(-1, joints * channels, frames)
        x = self.input_norm(x).reshape(-1, joints, channels, frames).permute(0, 2, 3, 1)
        x = self.blocks(x).mean(dim=-1)  # (P, C_last, S)
        per_body = x.new_zeros(bodies * batch, x.shape[1], x.shape[2])
        per_body[present.T.flatten()] = x
        per_body = per_body.reshape(bodies, batch, x.shape[1], x.shape[2])
        weights = present.to(x.dtype) / present.sum(dim=1, keepdim=True).clamp(min=1).to(x.dtype)
        pooled = torch.einsum("mbcs,bm->bsc", per_body, weights)
        return self.project(self.dropout(pooled))
