"""Batched class scoring (prompt cache shared by all classes) against one full forward per pair."""

from __future__ import annotations

import pytest
import torch
from lvlm_helpers import CODE_NAMES, narratives, tiny_config

from lvlm_var.lvlm.loading import load_backbone
from lvlm_var.lvlm.prompts import LABEL_END, PromptBuilder
from lvlm_var.lvlm.scoring import pad_sequences, score_classes, score_classes_naive

CLASSES = ["hand waving", "sit down", "nod head", "drink water", "kicking something"]

pytest_plugins = ["lvlm_helpers"]  # the tiny_llava_dir and vst_checkpoint fixtures


@pytest.fixture(scope="module")
def backbone(tiny_llava_dir):
    backbone = load_backbone(tiny_config(tiny_llava_dir), CODE_NAMES)
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():  # non-zero adapters, as after training, so they take part in the comparison
        for name, parameter in backbone.model.named_parameters():
            if "lora_B" in name:
                parameter.copy_(0.05 * torch.randn(parameter.shape, generator=generator))
    backbone.model.eval()
    return backbone


@pytest.fixture(scope="module")
def prompts(backbone):
    return PromptBuilder(backbone.tokenizer, backbone.vocabulary, "Classify the clip.", "Which action?")


@pytest.fixture(scope="module")
def inputs(prompts):
    encoded = [prompts.encode_prompt(n).ids for n in narratives()]
    assert len({len(ids) for ids in encoded}) == 3  # left padding is exercised
    labels = [prompts.encode_label(name) for name in CLASSES]
    assert len({len(ids) for ids in labels}) > 1  # right padding of continuations is exercised
    return encoded, labels


@pytest.fixture(scope="module")
def naive_scores(backbone, inputs):
    return score_classes_naive(backbone.model, *inputs)


@pytest.mark.parametrize("chunk_size", [1, 4, 64])
def test_batched_scores_equal_per_class_forwards(backbone, inputs, naive_scores, chunk_size):
    encoded, labels = inputs
    batched = score_classes(backbone.model, encoded, labels, backbone.tokenizer.pad_token_id, chunk_size)
    assert batched.shape == (3, len(CLASSES))
    torch.testing.assert_close(batched, naive_scores, atol=1e-4, rtol=0)


def test_single_token_continuations_use_the_prompt_forward_only(backbone, prompts):
    encoded = [prompts.encode_prompt(n).ids for n in narratives()]
    labels = [[backbone.tokenizer.eos_token_id], [backbone.vocabulary.token_ids[0]]]
    batched = score_classes(backbone.model, encoded, labels, backbone.tokenizer.pad_token_id)
    torch.testing.assert_close(
        batched, score_classes_naive(backbone.model, encoded, labels), atol=1e-4, rtol=0
    )


def test_prompt_holds_the_narrative_and_targets_continue_it(backbone, prompts):
    narrative = narratives()[0]
    prompt = prompts.encode_prompt(narrative)
    tokenizer = backbone.tokenizer
    assert prompt.ids[0] == tokenizer.bos_token_id
    assert prompt.narrative_tokens == len(prompts.encode_narrative(narrative))
    text = tokenizer.decode(prompt.ids)
    assert "<act_0> right arm rises (0.0-0.4 s)" in text and "<act_1> left arm rises (0.4-1.0 s)" in text
    assert text.endswith("Which action? ASSISTANT:")
    target = prompts.encode_target("hand waving", 0, narrative)
    assert target[: len(prompts.encode_label("hand waving"))] == prompts.encode_label("hand waving")
    assert target[-1] == tokenizer.eos_token_id
    assert tokenizer.decode(target, skip_special_tokens=True) == (
        f"hand waving {LABEL_END} [2] (0.4-1.0 s) left arm rises."  # the longest segment: no probe given
    )


def test_pad_sequences_sides():
    ids, mask = pad_sequences([[5, 6, 7], [8]], 0, torch.device("cpu"), "left")
    assert ids.tolist() == [[5, 6, 7], [0, 0, 8]] and mask.tolist() == [[1, 1, 1], [0, 0, 1]]
    ids, mask = pad_sequences([[5, 6, 7], [8]], 0, torch.device("cpu"), "right")
    assert ids.tolist() == [[5, 6, 7], [8, 0, 0]] and mask.tolist() == [[1, 1, 1], [1, 0, 0]]
