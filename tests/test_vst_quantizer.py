"""VST quantizer and decoder: codes in range, usage statistics, time-invariant decoding."""

from __future__ import annotations

import math

import pytest
import torch

from lvlm_var.vst import VSTConfig, VSTDecoder, VSTQuantizer, codebook_usage


def test_codes_are_in_range_and_the_commitment_loss_is_a_distance() -> None:
    torch.manual_seed(0)
    config = VSTConfig.tiny()
    quantizer = VSTQuantizer(config)
    features = torch.randn(6, config.num_steps, config.token_dim, requires_grad=True)
    output = quantizer(features)
    assert output.codes.shape == (6, config.num_steps) and output.codes.dtype == torch.long
    assert 0 <= int(output.codes.min()) and int(output.codes.max()) < config.codebook_size
    assert output.quantized.shape == features.shape
    assert output.commitment_loss.ndim == 0 and float(output.commitment_loss.detach()) >= 0
    (output.quantized.sum() + output.commitment_loss).backward()
    assert features.grad is not None and features.grad.abs().sum() > 0
    torch.testing.assert_close(quantizer.lookup(output.codes), output.quantized.detach())


def test_eval_quantization_leaves_the_codebook_unchanged() -> None:
    torch.manual_seed(0)
    config = VSTConfig.tiny()
    quantizer = VSTQuantizer(config)
    quantizer(torch.randn(8, config.num_steps, config.token_dim))  # k-means initialisation
    before = quantizer.codebook.clone()
    quantizer.eval()
    first = quantizer(torch.randn(8, config.num_steps, config.token_dim)).codes
    torch.testing.assert_close(quantizer.codebook, before)
    quantizer.train()
    quantizer(torch.randn(8, config.num_steps, config.token_dim))
    assert not torch.equal(quantizer.codebook, before)
    assert first.shape == (8, config.num_steps)


def test_usage_statistics() -> None:
    uniform = codebook_usage(torch.tensor([5.0, 5.0, 5.0, 5.0]))
    assert uniform.perplexity == pytest.approx(4.0) and uniform.dead_codes == 0
    one_code = codebook_usage(torch.tensor([0.0, 9.0, 0.0]))
    assert one_code.perplexity == pytest.approx(1.0) and one_code.dead_codes == 2
    half = codebook_usage(torch.tensor([1.0, 3.0, 0.0, 0.0]))
    entropy = -(0.25 * math.log(0.25) + 0.75 * math.log(0.75))
    assert half.perplexity == pytest.approx(math.exp(entropy)) and half.dead_codes == 2
    assert codebook_usage(torch.zeros(3)) == (0.0, 3)


def test_decoder_restores_frames_and_a_repeated_code_decodes_to_a_constant_motion() -> None:
    torch.manual_seed(0)
    config = VSTConfig.tiny(num_joints=20, num_bodies=1)
    decoder = VSTDecoder(config)
    decoded = decoder(torch.randn(2, config.num_steps, config.token_dim))
    assert decoded.positions.shape == (2, 3, config.num_frames, 20, 1)
    assert decoded.velocities.shape == decoded.positions.shape
    constant = decoder(torch.randn(1, 1, config.token_dim).expand(1, config.num_steps, -1))
    torch.testing.assert_close(constant.positions, constant.positions[:, :, :1].expand_as(constant.positions))
    torch.testing.assert_close(
        constant.velocities, constant.velocities[:, :, :1].expand_as(constant.velocities)
    )
