"""extract-features: RGB frames -> RoI features in the box-feature npz, on a random-init detector."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torchvision.ops import MultiScaleRoIAlign

from datamodules.box_feature_extraction import (
    BoxFeatureExtractor,
    ExtractionConfig,
    ag_classes_of_detections,
    build_detector,
    extract_features,
    roi_features,
)
from datamodules.formats.action_genome import read_action_genome
from datamodules.formats.box_features import box_feature_path, read_box_features
from datamodules.formats.class_names import AG_OBJECT_CLASSES
from datamodules.formats.errors import FrameFormatError
from datamodules.synthetic.frames import render_synthetic_frames
from datamodules.synthetic.scene_graphs import write_synthetic_scene_graphs

SMALL = {"random_init": True, "image_min_size": 96, "image_max_size": 160, "batch_size": 4}


@pytest.fixture(scope="module")
def detector() -> torch.nn.Module:
    torch.manual_seed(0)
    return build_detector("fasterrcnn_resnet50_fpn_v2", random_init=True)


@pytest.fixture()
def frames_data(tmp_path: Path) -> dict[str, Path]:
    paths = write_synthetic_scene_graphs(tmp_path, seed=0, num_videos=3, feature_dim=8)
    frames = tmp_path / "action_genome" / "frames"
    render_synthetic_frames(read_action_genome(paths["annotations"]), frames)
    return {"annotations": paths["annotations"], "frames": frames, "out": tmp_path / "features_rgb"}


def test_roi_feature_of_a_known_box_on_a_hand_built_map() -> None:
    # every level: channel 0 constant 5, channel 1 the image x coordinate of each cell
    maps = {}
    for level, stride in zip(("0", "1", "2", "3"), (4, 8, 16, 32), strict=True):
        size = 256 // stride
        ramp = torch.arange(size, dtype=torch.float32) * stride
        maps[level] = torch.stack([torch.full((size, size), 5.0), ramp.expand(size, size)])[None]
    pooler = MultiScaleRoIAlign(["0", "1", "2", "3"], output_size=7, sampling_ratio=2)
    box = torch.tensor([[20.0, 40.0, 100.0, 90.0]])
    (feature,) = roi_features(pooler, maps, [box], [(256, 256)])
    assert feature.shape == (1, 2)
    torch.testing.assert_close(feature[0], torch.tensor([5.0, 60.0]))  # 60 = the box's centre x


def test_predicted_mode_maps_coco_classes_and_matches_the_rest_by_iou() -> None:
    coco = list(
        __import__("torchvision").models.detection.FasterRCNN_ResNet50_FPN_V2_Weights.DEFAULT.meta[
            "categories"
        ]
    )
    labels = torch.tensor([coco.index(n) for n in ("person", "cup", "kite", "kite", "couch")])
    boxes = torch.tensor(
        [[0, 0, 50, 100], [60, 60, 70, 70], [100, 100, 150, 150], [300, 300, 310, 310], [0, 0, 10, 10]],
        dtype=torch.float32,
    )
    annotated = torch.tensor([[102.0, 101.0, 150.0, 152.0]])
    classes = ag_classes_of_detections(labels, boxes, annotated, [AG_OBJECT_CLASSES.index("box")], 0.5)
    names = [AG_OBJECT_CLASSES[c] if c is not None else None for c in classes]
    assert names == ["person", "cup/glass/bottle", "box", None, "sofa/couch"]


def test_a_frame_without_a_detected_person_is_left_out(detector: torch.nn.Module, frames_data) -> None:
    frame = next(iter(read_action_genome(frames_data["annotations"]).videos.values()))[0]
    extractor = BoxFeatureExtractor(detector, ExtractionConfig(mode="predicted", **SMALL))
    chair = (
        __import__("torchvision")
        .models.detection.FasterRCNN_ResNet50_FPN_V2_Weights.DEFAULT.meta["categories"]
        .index("chair")
    )
    found = {
        "labels": torch.tensor([chair]),
        "boxes": torch.tensor([[0.0, 0, 9, 9]]),
        "scores": torch.tensor([0.9]),
    }
    assert extractor.boxes_from_detections(found, frame) is None
    found["labels"] = torch.tensor([1, chair, chair])
    found["boxes"] = torch.tensor([[0.0, 0, 50, 90], [1, 1, 9, 9], [2, 2, 20, 20]])
    found["scores"] = torch.tensor([0.8, 0.6, 0.9])
    boxes = extractor.boxes_from_detections(found, frame)
    assert boxes is not None and boxes.classes == [AG_OBJECT_CLASSES.index("chair")]
    torch.testing.assert_close(boxes.objects, torch.tensor([[2.0, 2, 20, 20]]))  # the better chair


def test_oracle_extraction_reads_back_and_resumes(detector: torch.nn.Module, frames_data) -> None:
    config = ExtractionConfig(**SMALL)
    summary = extract_features(
        frames_data["annotations"], frames_data["frames"], frames_data["out"], config, detector
    )
    annotations = read_action_genome(frames_data["annotations"])
    assert summary["written"] == 3 and summary["frames_without_person"] == 0
    for video_id, frames in annotations.videos.items():
        features = read_box_features(box_feature_path(frames_data["out"], video_id))
        assert features.frames == [f.key for f in frames] and features.feature_dim == 256
        for t, frame in enumerate(frames):
            visible = sorted(o.class_index for o in frame.objects if o.visible)
            assert sorted(c for c in features.object_class[t].tolist() if c >= 0) == visible
    again = extract_features(
        frames_data["annotations"], frames_data["frames"], frames_data["out"], config, detector
    )
    assert again["written"] == 0 and again["already_done"] == 3
    first = sorted(annotations.videos)[0]
    box_feature_path(frames_data["out"], first).unlink()
    resumed = extract_features(
        frames_data["annotations"], frames_data["frames"], frames_data["out"], config, detector
    )
    assert resumed["written"] == 1 and resumed["already_done"] == 2
    shard = ExtractionConfig(**SMALL, rank=1, world_size=2)
    assert (
        extract_features(
            frames_data["annotations"], frames_data["frames"], frames_data["out"], shard, detector
        )["videos"]
        == 1
    )


def test_a_corrupt_frame_is_a_typed_error_or_skipped(detector: torch.nn.Module, frames_data) -> None:
    annotations = read_action_genome(frames_data["annotations"])
    video = sorted(annotations.videos)[1]
    bad = frames_data["frames"] / annotations.videos[video][2].key
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    with pytest.raises(FrameFormatError, match=rf"{bad.name}.*expected a readable PNG"):
        extract_features(
            frames_data["annotations"],
            frames_data["frames"],
            frames_data["out"],
            ExtractionConfig(**SMALL),
            detector,
        )
    summary = extract_features(
        frames_data["annotations"],
        frames_data["frames"],
        frames_data["out"],
        ExtractionConfig(**SMALL, on_bad_sample="skip"),
        detector,
    )
    assert [s["source"] for s in summary["skipped"]] == [f"{video}.mp4"]
    # the first video was written before the raise; the run resumes past it
    assert summary["written"] == 1 and summary["already_done"] == 1
    assert not box_feature_path(frames_data["out"], video).exists()


def test_missing_weights_say_where_to_get_them(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"downloads nothing.*--weights FILE"):
        build_detector("fasterrcnn_resnet50_fpn_v2", weights=tmp_path / "none.pth")
    with pytest.raises(
        ValueError, match=r"unknown detector 'yolo'; valid detectors: fasterrcnn_resnet50_fpn_v2"
    ):
        ExtractionConfig(detector="yolo")


@pytest.mark.slow  # about a minute on a free CPU core, several on a loaded one
def test_frames_to_features_to_laiar_end_to_end(tmp_path: Path) -> None:
    from experiments.demo_rgb import run_demo_rgb

    metrics = run_demo_rgb(tmp_path, num_videos=6, overrides=["--trainer.fast_dev_run", "1"])
    assert 0.0 <= metrics["test/mAP"] <= 1.0 and metrics["extract_frames_per_s"] > 0
