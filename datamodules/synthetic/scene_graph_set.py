"""Writing a synthetic Action Genome + Charades set in the official layout (shared by both presets).

Through the real writers, so the demo and the tests read it with the real readers::

    out_dir/action_genome/annotations/{object,relationship}_classes.txt, person_bbox.pkl,
                                      object_bbox_and_relationship.pkl, frame_list.txt
    out_dir/action_genome/features/<VIDEO_ID>.npz      (datamodules.formats.box_features)
    out_dir/action_genome/synthetic_truth.json          (the transition behind every action label)
    out_dir/charades/Charades_v1_{train,test}.csv, Charades_v1_classes.txt
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..formats.action_genome import ActionGenomeAnnotations, write_action_genome
from ..formats.box_features import BoxFeatures, box_feature_path, write_box_features
from ..formats.charades import (
    CharadesAction,
    CharadesClass,
    CharadesVideo,
    write_charades_classes,
    write_charades_csv,
)
from ..formats.class_names import AG_OBJECT_CLASSES, AG_RELATIONSHIP_CLASSES
from .scene_frames import SyntheticVideo, video_ids
from .transitions import SyntheticAction, SyntheticTransition, write_synthetic_truth

__all__ = ["SceneGraphSetWriter", "output_paths", "split_videos", "charades_row"]


def output_paths(out_dir: Path) -> dict[str, Path]:
    """Where a synthetic Action Genome + Charades set goes: the official layout under ``out_dir``."""
    return {
        "annotations": out_dir / "action_genome" / "annotations",
        "features": out_dir / "action_genome" / "features",
        "truth": out_dir / "action_genome" / "synthetic_truth.json",
        "charades_train": out_dir / "charades" / "Charades_v1_train.csv",
        "charades_test": out_dir / "charades" / "Charades_v1_test.csv",
        "charades_classes": out_dir / "charades" / "Charades_v1_classes.txt",
    }


def split_videos(rng: np.random.Generator, num_videos: int, test_fraction: float) -> list[tuple[str, str]]:
    """``(video id, "train" | "test")`` of every video, about ``test_fraction`` of them (at least one) test.

    Raises:
        ValueError: ``num_videos < 2``.
    """
    if num_videos < 2:
        raise ValueError(f"num_videos must be >= 2 (a train and a test video), got {num_videos}")
    ids = video_ids(rng, num_videos)
    num_test = min(num_videos - 1, max(1, round(num_videos * test_fraction)))
    test_videos = set(rng.permutation(num_videos)[:num_test].tolist())
    return [(video_id, "test" if n in test_videos else "train") for n, video_id in enumerate(ids)]


def charades_row(
    video_id: str, video: SyntheticVideo, actions: list[CharadesAction], kind: str
) -> CharadesVideo:
    """The Charades csv row of ``video`` with the labelled spans ``actions``; ``kind`` names the set."""
    names = [t.action_name.lower() for t in video.transitions]
    return CharadesVideo(
        id=video_id,
        subject=video.subject,
        scene=video.scene,
        actions=actions,
        length=video.length,
        quality=7,
        relevance=7,
        verified="Yes",
        script="A person is " + ", then ".join(names) + ".",
        objects=sorted({AG_OBJECT_CLASSES[o.class_index] for f in video.frames for o in f.objects}),
        descriptions=f"Synthetic {kind} video: " + ", ".join(names) + ".",
    )


class SceneGraphSetWriter:
    """Writes a set: each video's box features as it comes (:meth:`add`), the rest at :meth:`finish`.

    Args:
        out_dir: output root; feature files of an earlier run there are deleted.
    """

    def __init__(self, out_dir: Path) -> None:
        self.paths = output_paths(out_dir)
        self._annotations = ActionGenomeAnnotations(
            list(AG_OBJECT_CLASSES), list(AG_RELATIONSHIP_CLASSES), {}
        )
        self._charades: dict[str, list[CharadesVideo]] = {"train": [], "test": []}
        self._truth: dict[str, list[SyntheticTransition]] = {}
        self.paths["features"].mkdir(parents=True, exist_ok=True)
        for stale in self.paths["features"].glob("*.npz"):
            stale.unlink()

    def add(self, split: str, video: SyntheticVideo, features: BoxFeatures, row: CharadesVideo) -> None:
        """One video of ``split``: its frames, box features, Charades row and transitions."""
        self._annotations.videos[row.id] = video.frames
        write_box_features(box_feature_path(self.paths["features"], row.id), features)
        self._charades[split].append(row)
        self._truth[row.id] = video.transitions

    def finish(self, classes: list[CharadesClass], actions: Sequence[SyntheticAction]) -> dict[str, Path]:
        """Write the annotations, the Charades files (``classes``) and the truth (``actions``): the paths."""
        write_action_genome(self.paths["annotations"], self._annotations)
        self.paths["charades_classes"].parent.mkdir(parents=True, exist_ok=True)
        write_charades_csv(self.paths["charades_train"], self._charades["train"])
        write_charades_csv(self.paths["charades_test"], self._charades["test"])
        write_charades_classes(self.paths["charades_classes"], classes)
        write_synthetic_truth(self.paths["truth"], actions, self._truth)
        return self.paths
