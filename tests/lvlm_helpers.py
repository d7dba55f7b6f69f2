"""Shared pieces of the LVLM classifier tests: the tiny LLaVA, a tiny trained VST, narratives."""

from __future__ import annotations

from pathlib import Path

import pytest
from lightning.pytorch import Trainer
from run_once import built_once
from vst_synthetic_motions import synthetic_batches

from lvlm_var.lvlm.config import LLMClassifierConfig
from lvlm_var.lvlm.tiny_llava import ensure_tiny_llava
from lvlm_var.vst import VSTConfig, VSTModule
from lvlm_var.vst.narrative import ActionNarrative, NarrativeSegment, merge_token_runs

__all__ = [
    "CODE_NAMES",
    "VST_FRAMES",
    "tiny_llava_dir",
    "vst_checkpoint",
    "tiny_config",
    "narratives",
    "train_tiny_vst",
]

CODE_NAMES = ["right arm rises", "left arm rises", "both knees bend", "head turns left", "stands still"]
VST_FRAMES = 16  # frames per clip of VSTConfig.tiny


@pytest.fixture(scope="session")
def tiny_llava_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ensure_tiny_llava(built_once(tmp_path_factory, "tiny-llava", ensure_tiny_llava))


def train_tiny_vst(path: Path, num_classes: int = 4) -> Path:
    """Fit the tiny VST for two steps on synthetic motions; save a Trainer checkpoint."""
    trainer = Trainer(
        max_steps=2,
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
    )
    trainer.fit(
        VSTModule(VSTConfig.tiny(num_classes=num_classes)), synthetic_batches(8, 4, frames=VST_FRAMES)
    )
    trainer.save_checkpoint(path)
    return path


@pytest.fixture(scope="session")
def vst_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = built_once(tmp_path_factory, "vst", lambda folder: train_tiny_vst(folder / "vst.ckpt"))
    return folder / "vst.ckpt"


def tiny_config(model_dir: Path, **overrides) -> LLMClassifierConfig:
    fields = {**LLMClassifierConfig.tiny(str(model_dir)).__dict__, **overrides}
    return LLMClassifierConfig(**fields)


def narratives() -> list[ActionNarrative]:
    """Three narratives over ``CODE_NAMES`` of different lengths (3, 1 and 4 segments)."""
    return [
        merge_token_runs([0, 0, 1, 1, 1, 4], CODE_NAMES, seconds_per_step=0.2),
        merge_token_runs([2, 2, 2], CODE_NAMES, seconds_per_step=0.2),
        ActionNarrative(
            (
                NarrativeSegment(3, CODE_NAMES[3], 0, 1, 0.2, 0.0),
                NarrativeSegment(4, CODE_NAMES[4], 1, 2, 0.4, 0.2),
                NarrativeSegment(3, CODE_NAMES[3], 3, 1, 0.2, 0.6),
                NarrativeSegment(4, CODE_NAMES[4], 4, 1, 0.2, 0.8),
            )
        ),
    ]
