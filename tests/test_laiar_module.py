"""LaIARModule: gradients, a Lightning fit / test / predict on random scene-graph batches, checkpoints."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from laiar_batches import RandomSceneGraphDataset, one_cpu_thread, random_batch, tiny_module_kwargs
from lightning import Trainer, seed_everything
from torch.utils.data import DataLoader

from lvlm_var.dtformer import LaIARModule
from lvlm_var.dtformer.losses import classification_loss
from lvlm_var.explanation import ExplanationRecord

# ``one_cpu_thread`` is imported as a fixture.
pytestmark = pytest.mark.usefixtures(one_cpu_thread.__name__)


def _trainer(tmp_path: Path, **kwargs: object) -> Trainer:
    defaults = dict(
        accelerator="cpu",
        devices=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=tmp_path,
    )
    return Trainer(**{**defaults, **kwargs})


def _loader(length: int = 6, multi_label: bool = True) -> DataLoader:
    return DataLoader(RandomSceneGraphDataset(length, multi_label=multi_label), batch_size=3)


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"share_weights": True},
        {"use_sim": False, "use_xm": False, "use_tss": False},
        {"temporal_selection": False, "spatial_selection": False, "multi_label": False},
        {"box_map": False, "global_context": False},
        {"selector_blocks": 1},
        {"selection_supervision": "probabilities", "keep_ratio": 0.3},
        {"readout": "token_max", "rotary_time": True, "joint_norm": True, "sim_positives": "same_relation"},
    ],
)
@pytest.mark.filterwarnings("ignore:You are trying to `self.log\\(\\)`")
def test_every_trainable_parameter_gets_a_gradient(overrides: dict) -> None:
    seed_everything(0)
    module = LaIARModule(**tiny_module_kwargs(**overrides))
    batch = random_batch(batch_size=4, multi_label=overrides.get("multi_label", True))
    output = module.training_step(batch, 0)
    output["loss"].backward()
    missing = [name for name, p in module.named_parameters() if p.requires_grad and p.grad is None]
    assert missing == []
    assert output["tokens_kept"].shape == output["tokens_total"].shape == (4,)
    assert torch.all(output["tokens_kept"] <= output["tokens_total"])


@pytest.mark.filterwarnings("ignore:You are trying to `self.log\\(\\)`")
def test_padding_placeholders_do_not_matter() -> None:
    module = LaIARModule(**tiny_module_kwargs()).eval()
    batch = random_batch()
    padded = dict(batch)
    padding = ~batch["mask"]
    padded["object_class"] = batch["object_class"].masked_fill(padding, -1)
    padded["subject_feature"] = batch["subject_feature"].masked_fill(padding.unsqueeze(-1), 7.0)
    with torch.no_grad():
        torch.testing.assert_close(module(padded), module(batch))
        assert module.training_step(padded, 0)["loss"].isfinite()


def test_arguments_are_checked() -> None:
    with pytest.raises(
        ValueError, match="unknown LaIAR preset 'huge'; valid presets: charades, cad120, tiny"
    ):
        LaIARModule(**tiny_module_kwargs(preset="huge"))
    with pytest.raises(ValueError, match="class_names has 2 names, expected num_classes=6"):
        LaIARModule(**tiny_module_kwargs(class_names=["a", "b"]))
    with pytest.raises(ValueError, match="ExplainConfig.min_run must be >= 1, got 0"):
        LaIARModule(**tiny_module_kwargs(min_run=0))
    with pytest.raises(ValueError, match="selection_supervision must be 'samples' or 'probabilities'"):
        LaIARModule(**tiny_module_kwargs(selection_supervision="soft"))
    with pytest.raises(ValueError, match="ExplainConfig.naming must be 'nearest' or 'contrast', got 'mean'"):
        LaIARModule(**tiny_module_kwargs(naming="mean"))


def test_fit_and_test_multi_label(tmp_path: Path) -> None:
    seed_everything(0)
    module = LaIARModule(**tiny_module_kwargs())
    trainer = _trainer(tmp_path, fast_dev_run=2)
    trainer.fit(module, _loader(), _loader())
    logged = trainer.callback_metrics
    for key in (
        "train/loss",
        "train/loss_cls",
        "train/loss_sim",
        "train/loss_tss",
        "train/loss_xm",
        "val/mAP",
    ):
        assert key in logged and torch.isfinite(logged[key]), key
    results = trainer.test(module, _loader(), verbose=False)
    assert 0.0 <= results[0]["test/mAP"] <= 1.0


def test_fit_and_test_single_label(tmp_path: Path) -> None:
    seed_everything(0)
    module = LaIARModule(**tiny_module_kwargs(multi_label=False, class_names=[f"a{i}" for i in range(6)]))
    trainer = _trainer(tmp_path, fast_dev_run=1)
    trainer.fit(module, _loader(multi_label=False), _loader(multi_label=False))
    results = trainer.test(module, _loader(multi_label=False), verbose=False)
    assert {"test/mAR", "test/acc", "test/loss"} <= set(results[0])


@pytest.mark.parametrize("naming,readout", [("nearest", "class_token"), ("contrast", "token_max")])
def test_predict_returns_explanations_and_retention(tmp_path: Path, naming: str, readout: str) -> None:
    module = LaIARModule(
        **tiny_module_kwargs(
            class_names=[f"action {i}" for i in range(6)], naming=naming, readout=readout, rotary_time=True
        )
    )
    outputs = _trainer(tmp_path).predict(module, _loader())
    assert len(outputs) == 2
    first = outputs[0]
    assert first["probabilities"].shape == (3, 6) and first["video_id"] == [
        "video_000",
        "video_001",
        "video_002",
    ]
    assert {"tokens_kept", "tokens_total", "temporal_keep_rate", "spatial_keep_rate"} <= set(first)
    records = first["explanations"]
    assert [r.sample_id for r in records] == first["video_id"]
    assert all(isinstance(r, ExplanationRecord) and r.method == "laiar" for r in records)
    assert records[0].tokens == int(first["tokens_kept"][0])
    assert len(records[0].predictions) == 5 and records[0].predictions[0][0].startswith("action ")
    # one sentence per explained class (top 3 of probability >= 0.1), each starting with the class name
    for record in records:
        assert record.schema == 2 and 1 <= len(record.classes) <= 3
        assert record.text.splitlines() == [c.sentence for c in record.classes]
        assert all(c.sentence.startswith(f"{c.name} ({c.probability:.2f}): ") for c in record.classes)
    assert {item.row for item in first["cited_evidence"]} <= {0, 1, 2}


def test_fit_counts_the_relations_each_object_class_shows_and_old_checkpoints_load(tmp_path: Path) -> None:
    module = LaIARModule(**tiny_module_kwargs())
    _trainer(tmp_path, max_steps=2, limit_val_batches=0).fit(module, _loader())
    expected = torch.zeros_like(module.relation_seen)
    for batch in _loader():
        mask = batch["mask"]
        objects, relations = batch["object_class"][mask].tolist(), batch["relations"][mask]
        for obj, shown in zip(objects, relations, strict=True):
            expected[obj] |= shown > 0.5
    assert module.relation_seen.any() and torch.equal(module.relation_seen, expected)
    checkpoint = {"state_dict": {k: v for k, v in module.state_dict().items() if k != "relation_seen"}}
    fresh = LaIARModule(**tiny_module_kwargs())
    fresh.on_load_checkpoint(checkpoint)
    fresh.load_state_dict(checkpoint["state_dict"])
    assert not fresh.relation_seen.any()


def test_score_with_evidence_reproduces_the_prediction_from_the_kept_tokens() -> None:
    module = LaIARModule(**tiny_module_kwargs()).eval()
    batch = random_batch()
    with torch.no_grad():
        features = module.model.forward_features(batch, "video")
        expected = torch.sigmoid(module.model.forward_head(features, "video"))
        keep = features.former.selection.keep > 0.5
        assert torch.allclose(module.score_with_evidence(batch, keep), expected, atol=1e-5)
        nothing = module.score_with_evidence(batch, torch.zeros_like(keep))
        assert not torch.allclose(nothing, expected, atol=1e-5)


@pytest.mark.filterwarnings("ignore:You are trying to `self.log\\(\\)`")
def test_validation_skips_explanations_unless_asked() -> None:
    module = LaIARModule(**tiny_module_kwargs())
    batch = random_batch()
    module.eval()
    with torch.no_grad():
        assert "explanations" not in module.validation_step(batch, 0)
        module.explain_config.in_validation = True
        assert len(module.validation_step(batch, 0)["explanations"]) == 3


def test_checkpoint_round_trip_gives_identical_predictions(tmp_path: Path) -> None:
    seed_everything(0)
    module = LaIARModule(**tiny_module_kwargs(share_weights=True))
    trainer = _trainer(tmp_path, max_steps=2, limit_val_batches=0)
    trainer.fit(module, _loader())
    path = tmp_path / "laiar.ckpt"
    trainer.save_checkpoint(path)
    stored = torch.load(path, weights_only=True)["hyper_parameters"]  # plain data
    assert set(stored) == {"model", "loss", "optim", "explain"} and stored["model"]["share_weights"]
    restored = LaIARModule.load_from_checkpoint(path)
    batch = random_batch(seed=5)
    module.eval()
    restored.eval()
    with torch.no_grad():
        assert torch.equal(module(batch), restored(batch))
    assert restored.config.share_weights and restored.model.language_former is restored.model.video_former


@pytest.mark.filterwarnings("ignore:You are trying to `self.log\\(\\)`")
def test_training_fits_a_fixed_batch() -> None:
    seed_everything(0)
    module = LaIARModule(**tiny_module_kwargs(multi_label=False))
    batch = random_batch(batch_size=6, multi_label=False, seed=3)
    optimizer = torch.optim.AdamW(module.parameters(), lr=1e-3)
    losses = []
    for _ in range(60):  # fits by about step 30; 60 leaves a margin
        optimizer.zero_grad()
        output = module.training_step(batch, 0)
        output["loss"].backward()
        optimizer.step()
        losses.append(output["loss"].item())
    assert losses[-1] < 0.5 * losses[0]
    module.eval()
    with torch.no_grad():
        assert torch.equal(module(batch).argmax(-1), batch["labels"])


def test_selectors_train_at_a_scaled_learning_rate(tmp_path: Path) -> None:
    module = LaIARModule(**tiny_module_kwargs(lr=1e-3, selector_lr_scale=0.1))
    trainer = _trainer(tmp_path, fast_dev_run=1)
    trainer.fit(module, _loader())
    selector = {id(p) for name, p in module.named_parameters() if ".selector." in name}
    for group in trainer.optimizers[0].param_groups:
        in_selector = {id(p) in selector for p in group["params"]}
        assert len(in_selector) == 1
        assert group["initial_lr"] == pytest.approx(1e-4 if in_selector.pop() else 1e-3)
    with pytest.raises(ValueError, match="selector_lr_scale must be > 0, got 0"):
        LaIARModule(**tiny_module_kwargs(selector_lr_scale=0.0))


@pytest.mark.filterwarnings("ignore:You are trying to `self.log\\(\\)`")
def test_selection_warm_up_keeps_every_token_and_spares_the_selectors() -> None:
    seed_everything(0)
    module = LaIARModule(**tiny_module_kwargs(eval_keep_threshold=0.99, selection_warmup_epochs=1))
    batch = random_batch(batch_size=4)
    output = module.training_step(batch, 0)  # epoch 0 < 1: warm-up
    output["loss"].backward()
    torch.testing.assert_close(output["tokens_kept"], output["tokens_total"])
    selector_grads = [p.grad for name, p in module.named_parameters() if ".selector." in name]
    assert selector_grads and all(grad is None for grad in selector_grads)
    module.eval()
    with torch.no_grad():  # validation selects during warm-up too
        assert module._evaluate(batch, "val", explain=False)["tokens_kept"].sum() < batch["mask"].sum()
    with pytest.raises(ValueError, match="selection_warmup_epochs must be >= 0, got -1"):
        LaIARModule(**tiny_module_kwargs(selection_warmup_epochs=-1))


@pytest.mark.filterwarnings("ignore:You are trying to `self.log\\(\\)`")
def test_language_warm_start_trains_the_language_model_alone_on_every_token() -> None:
    seed_everything(0)
    module = LaIARModule(**tiny_module_kwargs(language_warmup_epochs=1, keep_ratio=0.3))
    batch = random_batch(batch_size=4)
    output = module.training_step(batch, 0)  # epoch 0 < 1: the language model alone
    output["loss"].backward()
    torch.testing.assert_close(output["tokens_kept"], output["tokens_total"])
    model = module.model
    taught = {model.semantic_encoder, model.semantic_joint, model.language_former, model.language_head}
    taught_ids = {id(p) for part in taught for p in part.parameters()}
    for name, parameter in module.named_parameters():
        if id(parameter) not in taught_ids:
            assert parameter.grad is None, name
        elif ".selector." not in name:  # the selectors sit out the warm start: every token is kept
            assert parameter.grad is not None, name
    language = model.forward_features(batch, "language", select=False)
    expected = classification_loss(model.forward_head(language, "language"), batch["labels"], True)
    torch.testing.assert_close(output["loss"], expected)


@pytest.mark.parametrize("supervision", ["samples", "probabilities"])
@pytest.mark.filterwarnings("ignore:You are trying to `self.log\\(\\)`")
def test_selection_losses_read_the_chosen_signal(supervision: str) -> None:
    seed_everything(0)
    module = LaIARModule(**tiny_module_kwargs(selection_supervision=supervision, keep_ratio=0.3))
    batch = random_batch(batch_size=4)
    seen: dict = {}
    module.criterion.register_forward_hook(lambda _m, _a, kwargs, _o: seen.update(kwargs), with_kwargs=True)
    module.training_step(batch, 0)
    signal = seen["language_keep"][batch["mask"]]
    if supervision == "samples":
        assert set(signal.unique().tolist()) <= {0.0, 1.0}
    else:
        with torch.no_grad():
            selection = module.model.forward_features(batch, "language").former.selection
        torch.testing.assert_close(seen["language_keep"], selection.probability)
        assert torch.all((signal > 0) & (signal < 1))
