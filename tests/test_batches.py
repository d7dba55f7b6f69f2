"""scene_graph_batch: defaults for what a user may not have, and shape errors that name the tensor."""

from __future__ import annotations

import pytest
import torch

from lvlm_var.batches import scene_graph_batch

B, T, K, F, R = 2, 3, 4, 5, 6


def _tensors(**overrides: torch.Tensor) -> dict[str, torch.Tensor]:
    object_class = torch.randint(3, (B, T, K))
    object_class[1, 2, 3] = -1  # a padding slot
    tensors = {
        "subject_feature": torch.randn(B, T, K, F),
        "object_feature": torch.randn(B, T, K, F),
        "union_feature": torch.randn(B, T, K, F),
        "object_class": object_class,
        "relations": torch.rand(B, T, K, R) < 0.5,
        "labels": torch.tensor([0, 2]),
    }
    return {**tensors, **overrides}


def test_defaults_fill_mask_boxes_frames_and_ids() -> None:
    batch = scene_graph_batch(**_tensors())
    assert batch["mask"].dtype == torch.bool and batch["mask"].sum() == B * T * K - 1
    assert not batch["mask"][1, 2, 3]
    assert batch["boxes"].shape == (B, T, K, 8) and batch["boxes"][0, 0, 0].tolist() == [0, 0, 1, 1] * 2
    assert batch["frame_index"].tolist() == [[0, 1, 2]] * B
    assert batch["video_id"] == ["video_0", "video_1"]
    assert batch["relations"].dtype == torch.float32 and batch["object_class"].dtype == torch.long


def test_given_values_are_kept() -> None:
    mask = torch.ones(B, T, K, dtype=torch.bool)
    frames = torch.tensor([[4, 8, 12], [1, 2, 3]])
    batch = scene_graph_batch(**_tensors(), mask=mask, frame_index=frames, video_id=["a", "b"])
    assert batch["mask"].all() and batch["frame_index"].tolist() == frames.tolist()
    assert batch["video_id"] == ["a", "b"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"object_feature": torch.randn(B, T, K, F + 1)}, r"object_feature must have shape \(2, 3, 4, 5\)"),
        ({"object_class": torch.zeros(B, T, K + 1)}, r"object_class must have shape \(2, 3, 4\)"),
        ({"labels": torch.zeros(B + 1)}, r"labels must be \(B=2, C\) or \(B=2,\), got \(3,\)"),
        ({"subject_feature": torch.randn(B, T, K)}, r"subject_feature must be \(B, T, K, F\)"),
    ],
)
def test_shape_errors_name_the_tensor(overrides: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        scene_graph_batch(**_tensors(**overrides))
