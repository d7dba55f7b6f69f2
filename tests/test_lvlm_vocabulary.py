"""Action tokens in the LLM vocabulary: new <act_i> rows initialised from names and trained alone;
the LLM-AR route that reuses existing tokens."""

from __future__ import annotations

import pytest
import torch
from lvlm_helpers import CODE_NAMES, narratives, tiny_config

from lvlm_var.lvlm.loading import load_backbone
from lvlm_var.lvlm.prompts import PromptBuilder
from lvlm_var.lvlm.scoring import pad_sequences, score_classes
from lvlm_var.lvlm.vocabulary import (
    ActionTokenEmbedding,
    ActionTokenHead,
    action_token_parameters,
    code_identity,
)

pytest_plugins = ["lvlm_helpers"]  # the tiny_llava_dir and vst_checkpoint fixtures


def _training_step(backbone, optimizer) -> None:
    prompts = PromptBuilder(backbone.tokenizer, backbone.vocabulary, "Classify.", "Which?")
    sequences = [
        prompts.encode_prompt(n).ids + prompts.encode_target("hand waving", 0, n) for n in narratives()
    ]
    ids, mask = pad_sequences(sequences, backbone.tokenizer.pad_token_id, torch.device("cpu"), "right")
    backbone.model.train()
    logits = backbone.model(input_ids=ids, attention_mask=mask).logits
    loss = torch.nn.functional.cross_entropy(logits[:, :-1].flatten(0, 1), ids[:, 1:].flatten())
    loss.backward()
    optimizer.step()


def test_new_rows_start_at_their_names_mean_embedding(tiny_llava_dir):
    backbone = load_backbone(tiny_config(tiny_llava_dir), CODE_NAMES)
    tokenizer, model = backbone.tokenizer, backbone.model
    embedding, head = model.get_input_embeddings(), model.get_output_embeddings()
    assert isinstance(embedding, ActionTokenEmbedding) and isinstance(head, ActionTokenHead)
    base_vocab = embedding.base.num_embeddings
    assert list(backbone.vocabulary.token_ids) == list(range(base_vocab, base_vocab + len(CODE_NAMES)))
    assert tokenizer.convert_tokens_to_ids("<act_3>") == base_vocab + 3
    identity = code_identity(
        len(CODE_NAMES), embedding.base.embedding_dim, 0.5 * float(embedding.base.weight.norm(dim=-1).mean())
    )
    for code, name in enumerate(CODE_NAMES):
        name_ids = tokenizer(name, add_special_tokens=False).input_ids
        mean = embedding.base.weight[name_ids].mean(0)
        torch.testing.assert_close(embedding.new_rows[code], mean + identity[code])
        torch.testing.assert_close(head.new_rows[code], head.base.weight[name_ids].mean(0))
    ids = torch.tensor([[5, base_vocab + 2]])
    vectors = embedding(ids)
    torch.testing.assert_close(vectors[0, 0], embedding.base.weight[5])
    torch.testing.assert_close(vectors[0, 1], embedding.new_rows[2])
    assert head(vectors).shape == (1, 2, base_vocab + len(CODE_NAMES))


def test_only_new_rows_and_adapters_change_after_an_optimizer_step(tiny_llava_dir):
    backbone = load_backbone(tiny_config(tiny_llava_dir), CODE_NAMES)
    model = backbone.model
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    trainable = [p for p in model.parameters() if p.requires_grad]
    _training_step(backbone, torch.optim.SGD(trainable, lr=1.0))
    changed = {n for n, p in model.named_parameters() if not torch.equal(p.detach(), before[n])}
    assert {n for n in changed if n.endswith("new_rows")} == {n for n in before if n.endswith("new_rows")}
    assert all(".lora_" in n or n.endswith("new_rows") for n in changed), changed
    embedding = model.get_input_embeddings()
    assert torch.equal(
        embedding.base.weight, before[next(n for n in before if n.endswith("embed_tokens.base.weight"))]
    )


def test_existing_vocab_route_adds_no_token_and_trains_lora_only(tiny_llava_dir):
    config = tiny_config(tiny_llava_dir, token_route="existing_vocab")
    backbone = load_backbone(config, CODE_NAMES)
    tokenizer, model = backbone.tokenizer, backbone.model
    assert "<act_0>" not in tokenizer.get_vocab()
    assert isinstance(model.get_input_embeddings(), torch.nn.Embedding)
    assert model.get_input_embeddings().num_embeddings == len(tokenizer)
    assert not action_token_parameters(model)
    ids = backbone.vocabulary.token_ids
    assert len(set(ids)) == len(CODE_NAMES) and not set(ids) & set(tokenizer.all_special_ids)
    assert max(ids) == len(tokenizer) - 1
    prompts = PromptBuilder(tokenizer, backbone.vocabulary, "Classify.", "Which?")
    narrative = narratives()[0]
    encoded = prompts.encode_prompt(narrative)
    assert [i for i in encoded.ids if i in ids] == [ids[c] for c in narrative.codes]
    assert all(".lora_" in n for n, p in model.named_parameters() if p.requires_grad)
    model.eval()
    scores = score_classes(model, [encoded.ids], [prompts.encode_label("sit down")], tokenizer.pad_token_id)
    assert scores.shape == (1, 1) and torch.isfinite(scores).all()


def test_codes_outside_the_vocabulary_are_named(tiny_llava_dir):
    backbone = load_backbone(tiny_config(tiny_llava_dir, token_route="existing_vocab"), CODE_NAMES[:2])
    prompts = PromptBuilder(backbone.tokenizer, backbone.vocabulary, "Classify.", "Which?")
    with pytest.raises(ValueError, match=r"action code 4 is outside the LLM action vocabulary of 2 codes"):
        prompts.encode_prompt(narratives()[0])
