"""VSTModule: gradients, Lightning fit / validate / predict, narratives, checkpoints, JSONL writer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from lightning.pytorch import Callback, Trainer
from torch.utils.data import DataLoader

from callbacks.narrative_writer import NarrativeWriter
from lvlm_var.batches import SkeletonBatch
from lvlm_var.vst import (
    ActionNarrative,
    BagOfCodesProbe,
    VSTConfig,
    VSTModule,
    VSTTokenizer,
    load_vst_probe,
    load_vst_tokenizer,
)
from lvlm_var.vst.naming import UNSEEN
from lvlm_var.vst.narrative import cited_segments, merge_token_runs

CONFIG = VSTConfig.tiny(num_classes=3)


def _batch(size: int = 4, seed: int = 0) -> SkeletonBatch:
    generator = torch.Generator().manual_seed(seed)
    skeleton = torch.randn(
        size, 3, CONFIG.num_frames, CONFIG.num_joints, CONFIG.num_bodies, generator=generator
    )
    skeleton[::2, ..., 1] = 0.0  # every other clip has one person
    return SkeletonBatch(
        skeleton=skeleton,
        label=torch.arange(size) % CONFIG.num_classes,
        name=[f"clip{seed}_{i}" for i in range(size)],
    )


def _loader(num_batches: int = 2) -> DataLoader:
    return DataLoader([_batch(seed=i) for i in range(num_batches)], batch_size=None)


def _trainer(**kwargs) -> Trainer:
    return Trainer(
        accelerator="cpu", logger=False, enable_progress_bar=False, enable_model_summary=False, **kwargs
    )


class _RecordOutputs(Callback):
    def __init__(self) -> None:
        self.outputs: list[dict] = []

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self.outputs.append(outputs)

    def on_validation_batch_end(
        self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0
    ) -> None:
        self.outputs.append(outputs)


def test_every_trainable_parameter_gets_a_gradient() -> None:
    torch.manual_seed(0)
    module = VSTModule(CONFIG)
    for block in module.tokenizer.encoder.blocks:  # CTR-GC's refinement starts switched off (alpha = 0)
        block.graph_conv.alpha.data.fill_(0.5)
    batch = _batch()
    output = module(batch["skeleton"])
    module._losses(batch, output)["loss"].backward()
    missing = [
        name
        for name, p in module.named_parameters()
        if p.requires_grad and (p.grad is None or not p.grad.abs().sum() > 0)
    ]
    assert not missing


def test_fast_dev_run_fit_logs_and_reports_token_retention(tmp_path: Path) -> None:
    torch.manual_seed(0)
    module = VSTModule(CONFIG, warmup_steps=1)
    recorder = _RecordOutputs()
    trainer = _trainer(fast_dev_run=2, callbacks=[recorder], default_root_dir=tmp_path)
    trainer.fit(module, _loader(), _loader())
    metrics = trainer.callback_metrics
    for key in (
        "train/loss",
        "train/loss_position",
        "train/loss_velocity",
        "train/loss_commitment",
        "train/loss_classification",
        "train/acc",
        "train/perplexity",
        "train/dead_codes",
        "val/acc",
        "val/perplexity",
        "val/dead_codes",
        "val/probe_acc",
    ):
        assert key in metrics, key
    assert len(recorder.outputs) == 4  # two training and two validation batches
    for outputs in recorder.outputs:
        assert outputs["tokens_kept"].shape == (4,) and outputs["tokens_total"].shape == (4,)
        assert bool((outputs["tokens_kept"] >= 1).all()) and bool(
            (outputs["tokens_kept"] <= CONFIG.num_steps).all()
        )
        assert bool((outputs["tokens_total"] == CONFIG.num_steps).all())


def test_tokenize_narrative_round_trip() -> None:
    torch.manual_seed(0)
    module = VSTModule(CONFIG)
    narratives = module.tokenize(_batch()["skeleton"], fps=20.0)
    assert len(narratives) == 4
    names = module.tokenizer.code_names
    for narrative in narratives:
        assert sum(s.length for s in narrative.segments) == CONFIG.num_steps
        parsed = ActionNarrative.from_text(narrative.text)
        assert parsed.codes == narrative.codes
        assert [s.name for s in parsed.segments] == [names[c] for c in narrative.codes]
        assert [s.seconds for s in parsed.segments] == pytest.approx(
            [s.seconds for s in narrative.segments], abs=0.05
        )
        assert [s.offset for s in parsed.segments] == pytest.approx(
            [s.offset for s in narrative.segments], abs=0.05
        )
        assert parsed.text == narrative.text


def test_cited_segments_are_parsed_by_index_and_time() -> None:
    names = ["right hand rises", "stands still", "right hand moves to and fro"]
    narrative = merge_token_runs([0, 0, 1, 2, 2, 2], names, seconds_per_step=0.2)
    assert narrative.text == (
        "<act_0> right hand rises (0.0-0.4 s) <act_1> stands still (0.4-0.6 s) "
        "<act_2> right hand moves to and fro (0.6-1.2 s)"
    )
    assert narrative.segments[2].citation(3) == "[3] (0.6-1.2 s)"
    text = "[3] (0.6-1.2 s) right hand moves to and fro, then [1] (0.0-0.4 s) right hand rises."
    assert cited_segments(text, narrative) == [2, 0]
    assert cited_segments("[2] (0.6-1.2 s) miscounted but the span is right", narrative) == [2]
    assert cited_segments("[7] (3.0-4.0 s) nothing there, [1] (0.0-0.4 s), [1] (0.0-0.4 s)", narrative) == [0]
    assert cited_segments("no citation at all", narrative) == []


def test_flicker_is_merged_into_its_neighbour() -> None:
    module = VSTModule(VSTConfig.preset("tiny", num_classes=3, min_run=2))
    steps = [[3, 3, 3, 7, 3, 3, 5, 5], [1] * 8, [13, 4, 9, 5, 7, 10, 15, 12], [2, 9, 4, 4, 4, 6, 4, 4]]
    codes = torch.tensor(steps)
    first, second, changing, chained = module.tokenizer.narratives(codes, fps=30.0)
    assert first.codes == [3, 5] and [s.length for s in first.segments] == [6, 2]
    assert first.segments[0].seconds == pytest.approx(6 * 4 / 30.0)
    assert second.codes == [1]
    # a code per step is a sequence of motions, not flicker: nothing is long enough to absorb it
    assert changing.codes == [13, 4, 9, 5, 7, 10, 15, 12]
    # short runs reach a long one through the runs it absorbs
    assert chained.codes == [4] and chained.segments[0].length == 8


def test_checkpoint_round_trip_keeps_tokens_and_names(tmp_path: Path) -> None:
    torch.manual_seed(0)
    module = VSTModule(CONFIG, warmup_steps=1)
    trainer = _trainer(
        max_steps=3, limit_val_batches=0, default_root_dir=tmp_path, enable_checkpointing=False
    )
    trainer.fit(module, _loader(3))
    path = tmp_path / "vst.ckpt"
    trainer.save_checkpoint(path)
    state = torch.load(path, weights_only=True)["state_dict"]
    stored = [record["text"] for record in state["tokenizer._extra_state"]["code_names"]]
    skeleton = _batch(seed=9)["skeleton"]
    before = [n.text for n in module.tokenize(skeleton)]
    loaded = VSTModule.load_from_checkpoint(path)
    assert loaded.tokenizer.code_names == module.tokenizer.code_names == stored
    assert loaded.tokenizer.code_name_records == module.tokenizer.code_name_records
    assert [n.text for n in loaded.tokenize(skeleton)] == before
    # The calibration statistics travel with the checkpoint: recomputing the names gives the same ones.
    assert loaded.tokenizer.refresh_code_names() == stored
    assert load_vst_tokenizer(path).code_names == stored
    assert loaded.probe.fitted == module.probe.fitted
    assert (load_vst_probe(path) is not None) == module.probe.fitted


def test_predict_writes_one_json_line_per_clip(tmp_path: Path) -> None:
    torch.manual_seed(0)
    module = VSTModule(CONFIG)
    output_path = tmp_path / "out" / "narratives.jsonl"
    trainer = _trainer(callbacks=[NarrativeWriter(output_path)])
    predictions = trainer.predict(module, _loader(2))
    lines = [json.loads(line) for line in output_path.read_text().splitlines()]
    assert [line["name"] for line in lines] == [f"clip{s}_{i}" for s in range(2) for i in range(4)]
    for line in lines:
        assert set(line) == {"name", "label", "narrative", "codes", "num_segments"}
        assert ActionNarrative.from_text(line["narrative"]).codes == line["codes"]
        assert line["num_segments"] == len(line["codes"])
    assert predictions[0]["tokens_kept"].tolist() == [float(line["num_segments"]) for line in lines[:4]]
    assert predictions[0]["records"] == lines[:4]


def test_wrong_skeleton_shape_is_refused_with_the_expected_shape() -> None:
    module = VSTModule(CONFIG)
    with pytest.raises(
        ValueError,
        match=r"tokenize: skeleton must be \(B, 3, T, 25, 2\) with T a multiple of 4, "
        r"got \(2, 3, 16, 20, 2\)",
    ):
        module.tokenize(torch.zeros(2, 3, 16, 20, 2))
    with pytest.raises(ValueError, match=r"fps must be > 0, got 0"):
        module.tokenize(torch.zeros(2, 3, 16, 25, 2), fps=0)


def test_bag_of_codes_probe_separates_classes_by_their_codes() -> None:
    probe = BagOfCodesProbe(codebook_size=6, num_classes=3, ridge=1e-3)
    codes = torch.tensor([[0, 0, 1], [1, 1, 0], [2, 3, 2], [3, 3, 2], [4, 5, 5], [5, 4, 4]])
    labels = torch.tensor([0, 0, 1, 1, 2, 2])
    assert not probe.fit()
    probe.accumulate(codes, labels)
    assert probe.fit()
    assert probe(codes).argmax(dim=1).tolist() == labels.tolist()
    # The fitted probe travels with a checkpoint (its statistics do not), so `test` can report it.
    reloaded = BagOfCodesProbe(codebook_size=6, num_classes=3, ridge=1e-3)
    reloaded.load_state_dict(probe.state_dict())
    assert reloaded.fitted and torch.equal(reloaded(codes), probe(codes))
    assert set(probe.state_dict()) == {"weights", "is_fitted"}


def test_reconstruction_loss_counts_only_frames_with_a_body() -> None:
    torch.manual_seed(0)
    module = VSTModule(CONFIG)
    batch = _batch()
    batch["skeleton"][:, :, :5, :, 0] = 0.0  # body 0 enters at frame 5
    output = module(batch["skeleton"])
    losses = module._losses(batch, output)
    skeleton, decoded = batch["skeleton"], output.reconstruction
    present = skeleton.abs().sum(dim=(1, 3)) > 0  # (B, T, M)
    errors = (decoded.positions - skeleton).abs().permute(0, 2, 4, 1, 3)[present]
    torch.testing.assert_close(losses["position"], errors.mean())
    both = present[:, 1:] & present[:, :-1]
    velocity = (skeleton[:, :, 1:] - skeleton[:, :, :-1]) * CONFIG.frame_rate
    velocity_errors = (decoded.velocities[:, :, :-1] - velocity).abs().permute(0, 2, 4, 1, 3)[both]
    torch.testing.assert_close(losses["velocity"], velocity_errors.mean())


def _old_layout(state_dict: dict) -> dict:
    """A state dict as VSTModule wrote it before the tokenizer was a submodule (no code names, name
    calibration or probe in it)."""
    newer = ("tokenizer._extra_state", "tokenizer.code_calibration.", "probe.")
    return {k.removeprefix("tokenizer."): v for k, v in state_dict.items() if not k.startswith(newer)}


def test_checkpoints_of_the_layout_before_the_tokenizer_load(tmp_path: Path) -> None:
    torch.manual_seed(0)
    module = VSTModule(CONFIG)
    checkpoint = torch.load(_saved(module, tmp_path / "new.ckpt"), weights_only=True)
    batch = _batch(seed=9)
    skeleton = batch["skeleton"]
    before = [n.codes for n in module.tokenize(skeleton)]
    checkpoint["state_dict"] = _old_layout(checkpoint["state_dict"])
    assert any(k.startswith("encoder.") for k in checkpoint["state_dict"])
    old = tmp_path / "old.ckpt"
    torch.save(checkpoint, old)
    for loaded in (VSTModule.load_from_checkpoint(old).tokenizer, load_vst_tokenizer(old)):
        assert [n.codes for n in loaded.tokenize(skeleton)] == before
        # Without a calibration nothing says what the codes do, until clips are shown to the tokenizer.
        assert set(loaded.code_names) == {UNSEEN}
        loaded.observe(skeleton, loaded.encode(skeleton))
        assert UNSEEN not in loaded.calibrate()
    fresh = VSTModule(CONFIG)
    fresh.load_state_dict(_old_layout(module.state_dict()))  # strict: every key is accounted for
    assert [n.codes for n in fresh.tokenize(skeleton)] == before
    assert not fresh.probe.fitted


def test_load_vst_tokenizer_reads_only_the_tokenizer(tmp_path: Path) -> None:
    torch.manual_seed(0)
    module = VSTModule(CONFIG)
    tokenizer = load_vst_tokenizer(_saved(module, tmp_path / "vst.ckpt"))
    assert isinstance(tokenizer, VSTTokenizer) and not hasattr(tokenizer, "head")
    assert tokenizer.code_names == module.tokenizer.code_names
    torch.save({"state_dict": {}}, tmp_path / "other.ckpt")
    with pytest.raises(ValueError, match=r"other\.ckpt: not a VSTModule checkpoint"):
        load_vst_tokenizer(tmp_path / "other.ckpt")
    with pytest.raises(FileNotFoundError, match=r"VST checkpoint '.*missing\.ckpt' not found"):
        load_vst_tokenizer(tmp_path / "missing.ckpt")


def _saved(module: VSTModule, path: Path) -> Path:
    trainer = _trainer(
        max_steps=1, limit_val_batches=0, default_root_dir=path.parent, enable_checkpointing=False
    )
    trainer.fit(module, _loader(1))
    trainer.save_checkpoint(path)
    return path
