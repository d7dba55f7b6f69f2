"""LVLMClassifierModule end to end on CPU: a tiny VST checkpoint -> NF4 tiny LLaVA + LoRA under a Trainer."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from lightning.pytorch import Callback, Trainer
from lvlm_helpers import VST_FRAMES, narratives, tiny_config
from vst_synthetic_motions import CLASS_NAMES, synthetic_batches

from lvlm_var.explanation import ExplanationRecord
from lvlm_var.lvlm.module import LVLMClassifierModule
from lvlm_var.lvlm.prompts import LABEL_END
from lvlm_var.vst.narrative import cited_segments

pytest_plugins = ["lvlm_helpers"]  # the tiny_llava_dir and vst_checkpoint fixtures


def _trainer(root, **overrides) -> Trainer:
    settings = dict(
        accelerator="cpu",
        devices=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=root,
    )
    return Trainer(**{**settings, **overrides})


def _batches(num_clips: int = 8, seed: int = 0):
    return synthetic_batches(num_clips, 4, frames=VST_FRAMES, seed=seed)


@pytest.fixture(scope="module")
def trained(tmp_path_factory, tiny_llava_dir, vst_checkpoint):
    """A classifier fitted for 2 steps after a sanity check, and its checkpoint."""
    root = tmp_path_factory.mktemp("lvlm-fit")
    module = LVLMClassifierModule(str(vst_checkpoint), list(CLASS_NAMES), tiny_config(tiny_llava_dir))
    module.configure_model()
    initial_rows = {n: p.detach().clone() for n, p in module.named_parameters() if n.endswith("new_rows")}
    trainer = _trainer(root, max_steps=2, num_sanity_val_steps=1, limit_val_batches=1)
    trainer.fit(module, _batches(), _batches(4, seed=1))
    path = root / "lvlm.ckpt"
    trainer.save_checkpoint(path)
    return module, path, initial_rows


def test_training_after_the_sanity_check_updates_every_adapter(trained):
    module, _, initial_rows = trained
    lora_b = {n: p for n, p in module.named_parameters() if "lora_B" in n}
    assert len(lora_b) == 14
    assert all(p.abs().sum() > 0 for p in lora_b.values())  # LoRA B starts at zero: only training moves it
    assert all(not torch.equal(p, initial_rows[n]) for n, p in module.named_parameters() if n in initial_rows)
    assert not any(p.requires_grad for p in module.vst.parameters()) and not module.vst.training


def test_checkpoint_holds_only_adapters_and_is_small(trained, tiny_llava_dir):
    module, path, _ = trained
    checkpoint = torch.load(path, weights_only=True)
    keys = set(checkpoint["state_dict"])
    assert keys and all(".lora_" in k or k.endswith(".new_rows") for k in keys)
    assert not any(k.startswith("vst.") for k in keys)
    assert checkpoint["lvlm_classifier"]["vst_checkpoint"] == module.hparams.vst_checkpoint
    adapter_bytes = sum(v.numel() * v.element_size() for v in checkpoint["state_dict"].values())
    assert adapter_bytes == 4 * module.parameter_counts.trainable
    base_bytes = (tiny_llava_dir / "model.safetensors").stat().st_size
    size = path.stat().st_size
    print(f"checkpoint {size} B (adapters {adapter_bytes} B + AdamW state) vs base model {base_bytes} B")
    assert size < 0.3 * base_bytes


def test_checkpoint_reloads_into_a_fresh_base_with_identical_scores(trained):
    module, path, _ = trained
    reloaded = LVLMClassifierModule.load_from_checkpoint(path, weights_only=True)
    assert reloaded.llm is not module.llm
    batch = next(iter(_batches(4, seed=2)))
    scores = []
    for model in (module, reloaded):
        model.eval()
        prompts = [model.prompts.encode_prompt(n) for n in model.narratives(batch["skeleton"])]
        scores.append(model.score(prompts))
    torch.testing.assert_close(scores[0], scores[1], atol=0, rtol=0)
    with reloaded.llm.disable_adapter():  # the adapters matter
        assert not torch.equal(reloaded.score(prompts), scores[1])


def test_checkpoint_of_another_codebook_size_is_a_clear_error(trained, tmp_path):
    _, path, _ = trained
    checkpoint = torch.load(path, weights_only=True)
    key = next(k for k in checkpoint["state_dict"] if k.endswith("embed_tokens.new_rows"))
    checkpoint["state_dict"][key] = torch.zeros(3, 64)
    torch.save(checkpoint, tmp_path / "other.ckpt")
    with pytest.raises(
        ValueError, match=r"embed_tokens.new_rows has shape \(3, 64\), this model expects \(16, 64\)"
    ):
        LVLMClassifierModule.load_from_checkpoint(tmp_path / "other.ckpt", weights_only=True)


class _Outputs(Callback):
    def __init__(self) -> None:
        self.outputs = []

    def on_test_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0) -> None:
        self.outputs.append(outputs)


def test_test_and_predict_outputs_carry_tokens_and_explanations(trained, tmp_path):
    module, _, _ = trained
    collector = _Outputs()
    metrics = _trainer(tmp_path, callbacks=[collector]).test(module, _batches(4, seed=3))
    assert 0.0 <= metrics[0]["test/acc"] <= 1.0
    predictions = _trainer(tmp_path).predict(module, _batches(4, seed=3))
    for outputs in (collector.outputs[0], predictions[0]):
        assert outputs["tokens_kept"].shape == (4,) and outputs["tokens_kept"].dtype == torch.float32
        assert (outputs["tokens_kept"] > 0).all() and (outputs["tokens_total"] > outputs["tokens_kept"]).all()
        records = outputs["explanations"]
        assert len(records) == 4 and all(isinstance(r, ExplanationRecord) for r in records)
        for record, pred, kept in zip(
            records, outputs["preds"].tolist(), outputs["tokens_kept"].tolist(), strict=True
        ):
            assert record.method == "lvlm-var" and record.tokens == kept
            assert record.predictions[0][0] == CLASS_NAMES[pred]
            scores = [score for _, score in record.predictions]
            assert scores == sorted(scores, reverse=True) and 0 < sum(scores) <= 1 + 1e-5
            assert record.text.startswith(f"{CLASS_NAMES[pred]} {LABEL_END}")
            assert record.ground_truth[0] in CLASS_NAMES
            # The text cites exactly the record's evidence, in order (a barely trained model may cite none).
            _, _, because = record.text.partition(f" {LABEL_END}")
            cited = ", then ".join(s.text for s in record.evidence)
            assert because.strip() == (cited + "." if record.evidence else "")
            assert ExplanationRecord.from_json(record.to_json()) == record
            assert record.schema == 2 and record.classes[0].name == CLASS_NAMES[pred]
            assert record.classes[0].evidence == record.evidence
    batch = next(iter(_batches(4, seed=3)))
    module.eval()
    everything = module.score_with_evidence(batch, torch.ones(4, 64, dtype=torch.bool))
    assert everything.dtype == torch.float64
    assert torch.allclose(everything, collector.outputs[0]["scores"].double().softmax(-1), atol=1e-4)
    # the tiny LLM is saturated: removed segments show in the log-probabilities of the other classes
    fewer = module.score_with_evidence(batch, torch.zeros(4, 64, dtype=torch.bool))
    assert not torch.allclose(fewer.clamp(min=1e-30).log(), everything.clamp(min=1e-30).log(), atol=1e-3)
    with pytest.raises(ValueError, match="keep_mask must be"):
        module.score_with_evidence(batch, torch.ones(4, 0, dtype=torch.bool))


def _hand_narrated(module):
    """A batch of the three narratives of ``lvlm_helpers.narratives`` (3, 1 and 4 segments)."""
    clips = narratives()
    batch = {"name": [f"clip{i}" for i in range(len(clips))], "label": torch.tensor([0, 1, 2])}
    return batch, clips, [module.prompts.encode_prompt(n) for n in clips]


@pytest.mark.parametrize("source", ["attribution", "generation"])
def test_text_and_evidence_agree_on_the_citations(trained, monkeypatch, source):
    module, _, _ = trained
    monkeypatch.setattr(module, "config", dataclasses.replace(module.config, explanation_source=source))
    batch, clips, prompts = _hand_narrated(module)
    records, cited_evidence = module.explain(batch, clips, prompts, module.score(prompts))
    for record, cited, narrative in zip(records, cited_evidence, clips, strict=True):
        indices = cited_segments(record.text, narrative)
        assert [s.text for s in record.evidence] == [
            f"{narrative.segments[i].citation(i + 1)} {narrative.segments[i].name}" for i in indices
        ]
        # what the faithfulness callback removes is what the text cites
        assert cited.cited.nonzero().flatten().tolist() == sorted(indices)
        assert int(cited.candidates.sum()) == len(narrative.segments)
        if source == "attribution":  # always a reason, at most max_cited_segments, with its drop in nats
            assert 1 <= len(indices) <= module.config.max_cited_segments and indices == sorted(indices)
            assert all(isinstance(s.attribution, float) for s in record.evidence)
        else:
            assert all(s.attribution is None for s in record.evidence)


def test_attribution_cites_the_segment_the_class_depends_on(trained, monkeypatch):
    """With the LLM's scoring replaced by a hand-built one (class 0 reads 6 nats more while a clip's first
    segment is in its narrative, class 1 is 3, the others 0), each clip cites its first segment alone."""
    module, _, _ = trained
    batch, clips, prompts = _hand_narrated(module)

    def hand_built(variants):
        rows = [[6.0 * any(s.start == 0 for s in n.segments), 3.0] for n in variants]
        return torch.nn.functional.pad(torch.tensor(rows), (0, len(CLASS_NAMES) - 2))

    monkeypatch.setattr(module, "score_narratives", hand_built)
    records, cited_evidence = module.explain(batch, clips, prompts, hand_built(clips))
    for record, cited in zip(records, cited_evidence, strict=True):
        assert cited.cited.nonzero().flatten().tolist() == [0] and cited.class_index == 0
        assert record.text == f"{CLASS_NAMES[0]} {LABEL_END} {record.evidence[0].text}."
        assert record.evidence[0].attribution > 2.0


def test_configure_model_twice_keeps_the_backbone(trained):
    module, _, _ = trained
    backbone = module.llm
    module.configure_model()
    assert module.llm is backbone


def test_missing_vst_checkpoint_is_named(tiny_llava_dir, tmp_path):
    module = LVLMClassifierModule(str(tmp_path / "vst.ckpt"), list(CLASS_NAMES), tiny_config(tiny_llava_dir))
    with pytest.raises(FileNotFoundError, match=r"VST checkpoint '.*vst\.ckpt' not found"):
        module.configure_model()


def test_action_rows_learn_at_their_own_rate(trained):
    module, _, _ = trained
    default, trainer = module.config, module._trainer
    try:
        module.config = dataclasses.replace(default, lr=1e-3, action_row_lr_scale=10.0, weight_decay=0.1)
        module.trainer = _trainer(None, max_epochs=-1, max_steps=10)  # schedule length without data
        optimizer = module.configure_optimizers()["optimizer"]
    finally:
        module.config, module.trainer = default, trainer
    adapters, rows = optimizer.param_groups
    new_rows = {id(p) for n, p in module.named_parameters() if n.endswith(".new_rows")}
    assert {id(p) for p in rows["params"]} == new_rows and len(new_rows) == 2  # input and LM-head rows
    assert not new_rows & {id(p) for p in adapters["params"]}
    assert rows["initial_lr"] == pytest.approx(1e-2) and rows["weight_decay"] == 0.0
    assert adapters["initial_lr"] == pytest.approx(1e-3) and adapters["weight_decay"] == 0.1
