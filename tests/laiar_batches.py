"""Random ``SceneGraphBatch``es and a tiny map-style data set for the LaIAR tests (no datamodules import)."""

from __future__ import annotations

from dataclasses import fields

import pytest
import torch
from torch.utils.data import Dataset

from lvlm_var.batches import SceneGraphBatch
from lvlm_var.dtformer import ExplainConfig, LaIARConfig, LaIARLossConfig, OptimConfig

__all__ = [
    "TINY",
    "one_cpu_thread",
    "random_video",
    "random_batch",
    "RandomSceneGraphDataset",
    "tiny_module_kwargs",
]

# Shapes of the "tiny" preset: T=4 frames, K=3 pairs, F=12, 5 object classes, 4 relations.
TINY = dict(frames=4, pairs=3, feature_dim=12, num_objects=5, num_relations=4)
OBJECT_NAMES = ["box", "cup", "bed", "door", "phone"]
RELATION_NAMES = ["holding", "looking_at", "sitting_on", "not_contacting"]


def random_video(
    generator: torch.Generator,
    video_id: str,
    num_classes: int,
    multi_label: bool,
    frames: int = TINY["frames"],
    pairs: int = TINY["pairs"],
    feature_dim: int = TINY["feature_dim"],
    num_objects: int = TINY["num_objects"],
    num_relations: int = TINY["num_relations"],
) -> dict:
    """One video as the per-sample dict that ``default_collate`` turns into a ``SceneGraphBatch``."""
    mask = torch.rand(frames, pairs, generator=generator) < 0.7
    mask[0, 0] = True  # at least one real pair
    xy = torch.rand(frames, pairs, 2, 2, generator=generator)
    wh = torch.rand(frames, pairs, 2, 2, generator=generator) * 0.5
    boxes = torch.cat([xy, (xy + wh).clamp(max=1.0)], dim=-1).reshape(frames, pairs, 8)
    relations = (torch.rand(frames, pairs, num_relations, generator=generator) < 0.3).float()
    if multi_label:
        labels = (torch.rand(num_classes, generator=generator) < 0.3).float()
    else:
        labels = torch.randint(num_classes, (), generator=generator)
    return {
        "video_id": video_id,
        "subject_feature": torch.randn(frames, pairs, feature_dim, generator=generator),
        "object_feature": torch.randn(frames, pairs, feature_dim, generator=generator),
        "union_feature": torch.randn(frames, pairs, feature_dim, generator=generator),
        "boxes": boxes,
        "object_class": torch.randint(num_objects, (frames, pairs), generator=generator),
        "relations": relations * mask.unsqueeze(-1),
        "mask": mask,
        "frame_index": torch.arange(frames) * 3 + 1,
        "labels": labels,
    }


def random_batch(
    batch_size: int = 3, num_classes: int = 6, multi_label: bool = True, seed: int = 0, **shape: int
) -> SceneGraphBatch:
    """A collated random batch."""
    generator = torch.Generator().manual_seed(seed)
    videos = [random_video(generator, f"v{i}", num_classes, multi_label, **shape) for i in range(batch_size)]
    batch = {key: [video[key] for video in videos] for key in videos[0]}
    return SceneGraphBatch(**{k: v if k == "video_id" else torch.stack(v) for k, v in batch.items()})


class RandomSceneGraphDataset(Dataset):
    """``length`` fixed random videos (seeded per index)."""

    def __init__(self, length: int, num_classes: int = 6, multi_label: bool = True, seed: int = 0) -> None:
        self.length = length
        self.num_classes = num_classes
        self.multi_label = multi_label
        self.seed = seed

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> dict:
        generator = torch.Generator().manual_seed(self.seed * 100_003 + index)
        return random_video(generator, f"video_{index:03d}", self.num_classes, self.multi_label)


def tiny_module_kwargs(
    num_classes: int = 6, multi_label: bool = True, preset: str = "tiny", **overrides: object
) -> dict:
    """Arguments of a tiny ``LaIARModule``: each override goes to the loss, optimiser or explanation config
    that has the field, the rest to ``LaIARConfig.preset``."""
    routed = {}
    for kind in (LaIARLossConfig, OptimConfig, ExplainConfig):
        names = {f.name for f in fields(kind)}
        routed[kind] = {k: overrides.pop(k) for k in list(overrides) if k in names}
    return dict(
        model=LaIARConfig.preset(
            preset, num_classes, object_class_names=OBJECT_NAMES, relation_names=RELATION_NAMES, **overrides
        ),
        loss=LaIARLossConfig(multi_label=multi_label, **routed[LaIARLossConfig]),
        optim=OptimConfig(**routed[OptimConfig]),
        explain=ExplainConfig(**routed[ExplainConfig]),
    )


@pytest.fixture
def one_cpu_thread():
    """Run a test on one intra-op thread: tiny models on a shared 2-core machine are many times faster."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
