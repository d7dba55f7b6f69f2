"""VST encoder, graph and config: shapes for both joint layouts and body counts, size of the NTU preset."""

from __future__ import annotations

import pytest
import torch

from lvlm_var.skeleton_layout import CLIP_LAYOUTS
from lvlm_var.vst import VSTConfig, VSTEncoder, spatial_adjacency


@pytest.mark.parametrize("num_joints", [25, 20])
@pytest.mark.parametrize("num_bodies", [1, 2])
def test_encoder_emits_one_feature_per_token_step(num_joints: int, num_bodies: int) -> None:
    config = VSTConfig.tiny(num_joints=num_joints, num_bodies=num_bodies)
    encoder = VSTEncoder(config)
    features = encoder(torch.randn(3, 3, config.num_frames, num_joints, num_bodies))
    assert features.shape == (3, config.num_steps, config.token_dim)
    assert config.num_steps == config.num_frames // 4


def test_ntu_preset_is_a_ctr_gcn_sized_encoder_with_4x_downsampling() -> None:
    config = VSTConfig.ntu()
    encoder = VSTEncoder(config)
    assert 1.0e6 <= sum(p.numel() for p in encoder.parameters()) <= 2.5e6
    assert (config.num_frames, config.num_steps, config.codebook_size) == (64, 16, 256)


def test_absent_body_does_not_change_the_features() -> None:
    torch.manual_seed(0)
    config = VSTConfig.tiny(num_bodies=2)
    encoder = VSTEncoder(config).eval()
    one = torch.randn(2, 3, config.num_frames, 25, 1)
    padded = torch.cat([one, torch.zeros_like(one)], dim=-1)
    torch.testing.assert_close(encoder(padded), encoder(one))


def test_spatial_adjacency_has_self_and_column_normalised_neighbour_subsets() -> None:
    for layout in CLIP_LAYOUTS:
        adjacency = spatial_adjacency(layout)
        assert adjacency.shape == (3, layout.num_joints, layout.num_joints)
        torch.testing.assert_close(adjacency[0], torch.eye(layout.num_joints))
        nonzero_columns = adjacency[1].sum(dim=0) > 0
        torch.testing.assert_close(
            adjacency[1].sum(dim=0)[nonzero_columns], torch.ones(int(nonzero_columns.sum()))
        )


def test_unknown_joint_count_is_refused_with_the_known_layouts() -> None:
    with pytest.raises(ValueError, match=r"num_joints must be one of \(25, 20\).*got 17"):
        VSTConfig(num_joints=17)


def test_config_checks_name_the_field() -> None:
    with pytest.raises(
        ValueError, match=r"num_frames \(30\) must be divisible by the temporal down-sampling 4"
    ):
        VSTConfig(num_frames=30)
    with pytest.raises(
        ValueError, match=r"temporal_strides has 2 entries, expected one per encoder block \(10\)"
    ):
        VSTConfig(temporal_strides=(2, 2))
    with pytest.raises(ValueError, match=r"VSTConfig.codebook_size must be > 0, got 0"):
        VSTConfig(codebook_size=0)
    with pytest.raises(
        ValueError, match=r"unknown VST preset 'huge'; valid presets: ntu, nw_ucla, small, tiny"
    ):
        VSTConfig.preset("huge")
    with pytest.raises(ValueError, match=r"unknown VSTConfig field\(s\) \['codebook'\]"):
        VSTConfig.preset("tiny", codebook=3)
    assert VSTConfig.preset("nw_ucla", num_classes=12).num_joints == 20
