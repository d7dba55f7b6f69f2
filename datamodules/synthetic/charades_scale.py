"""Synthetic Action Genome / Charades data at Charades' shape: 157 classes, long tail, ~6.8 actions a video.

The same frame layout (:mod:`.scene_frames`), feature model (:mod:`.box_feature_model`) and writer
(:mod:`.scene_graph_set`) as the 13-class set of :mod:`.scene_graphs`, with Charades' label space:

- the 157 real class names and codes (``CHARADES_CLASS_NAMES``), every one written to
  ``Charades_v1_classes.txt``;
- each class is one contacting-relationship transition on one Action Genome object: the object named in
  the class ("Holding a book" -> ``book``; classes that name none, like "Someone is laughing", are spread
  over the objects with the fewest classes), and a transition no other class on that object has; an
  object's classes come in reversed pairs (``a -> b`` and ``b -> a``), so seeing the object and the set
  of its relations does not tell the class, only their order does (the design of the 13-class set). The
  verb is not modelled (the transition of "Putting a book somewhere" is not ``holding ->
  not_contacting``): a label space of Charades' size and confusability, not Charades' semantics;
- long-tailed class frequency: class ``r``-th in a seeded order is drawn with weight ``(r + 1) ** -tail``
  (``tail = 0.8``: the most frequent class about 57 times the rarest, as in Charades' training set,
  where the counts run from about 1,400 videos down to about 30);
- about 6.8 actions a video (1 + Poisson(5.8), at most ``max_actions``), each on its own object, with
  Charades spans that start before the relation change and end after it, so they overlap in time;
- videos of varying length (``frames_per_video`` annotated frames, 4 to 40 video frames apart).

With a few thousand videos some rare classes have no positive in the test split: the evaluation warns
and reports mAP over all classes and over the classes with positives.
"""

from __future__ import annotations

import argparse
import re
import time
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

import numpy as np

from ..formats.charades import CharadesAction, CharadesClass, CharadesVideo
from ..formats.class_names import AG_CONTACTING_RELATIONSHIPS, AG_OBJECT_CLASSES, CHARADES_CLASS_NAMES
from .box_feature_model import BoxFeatureModel
from .scene_frames import GENERIC_STATIC, SyntheticVideo, frame_keys, layout_frames
from .scene_graph_set import SceneGraphSetWriter, charades_row, split_videos
from .scene_graphs import SyntheticSceneGraphConfig
from .transitions import SyntheticAction, SyntheticTransition

__all__ = ["CharadesScaleConfig", "charades_scale_actions", "write_synthetic_charades_scale"]

_DEFINITION_SEED = 157  # the class -> transition table is a constant of the preset, not of the data seed


@dataclass(frozen=True)
class CharadesScaleConfig:
    """How the Charades-scale videos look.

    Attributes:
        frames_per_video: inclusive range of annotated frames a video.
        mean_actions: mean actions a video (Charades: 6.8).
        max_actions: most actions a video.
        distractors: inclusive range of objects a video that take part in no action.
        tail: exponent of the long-tailed class frequency ``(rank + 1) ** -tail``.
        test_fraction: share of videos in the test split.
        feature_noise: std of the Gaussian noise on every box feature.
        nuisance_scale: strength of the per-video random linear map and offset.
    """

    frames_per_video: tuple[int, int] = (6, 16)
    mean_actions: float = 6.8
    max_actions: int = 12
    distractors: tuple[int, int] = (0, 2)
    tail: float = 0.8
    test_fraction: float = 0.2
    feature_noise: float = 1.0
    nuisance_scale: float = 0.25

    @classmethod
    def cpu(cls) -> CharadesScaleConfig:
        """The size ``synthetic_charades_laiar.yaml`` trains on 2 CPU cores: 5-8 frames, at most 10 actions
        and 1 distractor a video (mean actions still 6.8)."""
        return cls(frames_per_video=(5, 8), max_actions=10, distractors=(0, 1))

    def __post_init__(self) -> None:
        for name, low in (("frames_per_video", 5), ("distractors", 0)):
            lo, hi = getattr(self, name)
            if not low <= lo <= hi:
                raise ValueError(f"{name} must be an inclusive range ({low} <= min <= max), got {(lo, hi)}")
        if not 1.0 <= self.mean_actions <= self.max_actions:
            raise ValueError(
                f"mean_actions must be in [1, max_actions={self.max_actions}], got {self.mean_actions}"
            )
        if self.max_actions > len(AG_OBJECT_CLASSES) - 1 - self.distractors[1]:
            raise ValueError(
                f"max_actions {self.max_actions} + distractors {self.distractors[1]} exceed the "
                f"{len(AG_OBJECT_CLASSES) - 1} Action Genome objects (each action needs its own object)"
            )
        if self.tail < 0:
            raise ValueError(f"tail must be >= 0, got {self.tail}")
        if not 0.0 < self.test_fraction < 1.0:
            raise ValueError(f"test_fraction must be in (0, 1), got {self.test_fraction}")
        # the feature model's own checks
        SyntheticSceneGraphConfig(feature_noise=self.feature_noise, nuisance_scale=self.nuisance_scale)


@cache
def charades_scale_actions() -> tuple[SyntheticAction, ...]:
    """The 157 classes as transitions, in label order (class ``i`` is ``c{i:03d}``)."""
    objects = AG_OBJECT_CLASSES[1:]
    keywords = {obj: [re.compile(rf"\b{re.escape(w)}") for w in obj.split("/")] for obj in objects}
    assigned: list[str | None] = []
    for name in CHARADES_CLASS_NAMES:
        # the longest object name found wins ("doorway" over "door")
        found = [obj for obj in objects if any(k.search(name.lower()) for k in keywords[obj])]
        assigned.append(max(found, key=len) if found else None)
    counts = {obj: assigned.count(obj) for obj in objects}
    for i, obj in enumerate(assigned):
        if obj is None:
            assigned[i] = min(objects, key=lambda o: (counts[o], objects.index(o)))
            counts[assigned[i]] += 1
    rng = np.random.default_rng(_DEFINITION_SEED)
    relations = AG_CONTACTING_RELATIONSHIPS
    unordered = [(a, b) for i, a in enumerate(relations) for b in relations[i + 1 :]]
    order = {}
    for obj in objects:
        # an object's classes come in reversed pairs (a -> b, then b -> a), so only the order of the
        # relations tells them apart, as put / take do in Charades
        picked = [unordered[j] for j in rng.permutation(len(unordered))]
        order[obj] = [pair for a, b in picked for pair in ((b, a), (a, b))]
    actions = []
    for i, (name, obj) in enumerate(zip(CHARADES_CLASS_NAMES, assigned, strict=True)):
        before, after = order[obj].pop()
        actions.append(SyntheticAction(f"c{i:03d}", name, (obj,), before, after))
    return tuple(actions)


def write_synthetic_charades_scale(
    out_dir: str | Path,
    seed: int = 0,
    num_videos: int = 3000,
    feature_dim: int = 64,
    config: CharadesScaleConfig | None = None,
) -> dict[str, Path]:
    """Generate and write the Charades-scale data set (same arguments -> same bytes).

    Args:
        out_dir: output root (``action_genome/`` and ``charades/`` under it); earlier feature files
            there are replaced.
        seed: the random seed.
        num_videos: number of videos (train and test together), at least 2.
        feature_dim: ``F``, the box-feature size.
        config: how videos look; ``CharadesScaleConfig()`` when ``None``.

    Returns:
        Paths by name, as :func:`~datamodules.synthetic.scene_graphs.write_synthetic_scene_graphs`.

    Raises:
        ValueError: ``num_videos < 2`` or ``feature_dim < 1``.
    """
    config = config or CharadesScaleConfig()
    actions = charades_scale_actions()
    seeds = np.random.SeedSequence(seed).spawn(num_videos + 1)
    shared = np.random.default_rng(seeds[0])
    feature_model = BoxFeatureModel.draw(shared, feature_dim, config.feature_noise, config.nuisance_scale)
    class_order = shared.permutation(len(actions))
    weights = np.empty(len(actions))
    weights[class_order] = (np.arange(len(actions)) + 1.0) ** -config.tail
    weights /= weights.sum()
    videos = split_videos(shared, num_videos, config.test_fraction)
    writer = SceneGraphSetWriter(Path(out_dir))
    for number, (video_id, split) in enumerate(videos):
        layout_seed, feature_seed = seeds[number + 1].spawn(2)
        rng = np.random.default_rng(layout_seed)
        video = _generate_video(rng, video_id, split, config, actions, weights)
        features = feature_model.features(np.random.default_rng(feature_seed), video.frames)
        writer.add(split, video, features, _charades_row(rng, video_id, video))
    return writer.finish([CharadesClass(i, a.code, a.name) for i, a in enumerate(actions)], actions)


def _generate_video(
    rng: np.random.Generator,
    video_id: str,
    split: str,
    config: CharadesScaleConfig,
    actions: tuple[SyntheticAction, ...],
    weights: np.ndarray,
) -> SyntheticVideo:
    num_frames = int(rng.integers(config.frames_per_video[0], config.frames_per_video[1] + 1))
    num_actions = min(config.max_actions, 1 + int(rng.poisson(config.mean_actions - 1.0)))
    frame_numbers, keys = frame_keys(rng, video_id, num_frames)
    contacting: dict[str, list[str]] = {}
    transitions: list[SyntheticTransition] = []
    # draw without replacement by the long-tailed weights, one action per object
    for action_index in rng.choice(len(actions), size=len(actions), replace=False, p=weights):
        if len(transitions) == num_actions:
            break
        action = actions[action_index]
        obj = action.objects[0]
        if obj in contacting:
            continue
        margin = max(1, num_frames // 4)
        change = int(rng.integers(margin, num_frames - margin + 1))
        contacting[obj] = [action.relation_before] * change + [action.relation_after] * (num_frames - change)
        transitions.append(SyntheticTransition.of(action, obj, keys, change))
    action_objects = set(contacting)
    free = [o for o in AG_OBJECT_CLASSES[1:] if o not in contacting]
    num_distractors = int(rng.integers(config.distractors[0], config.distractors[1] + 1))
    for obj in rng.choice(free, size=num_distractors, replace=False):
        # a distractor holds one state throughout: the before or after state of one of its classes
        states = sorted(
            {r for a in actions if a.objects[0] == obj for r in (a.relation_before, a.relation_after)}
        )
        states = states or list(GENERIC_STATIC)
        contacting[str(obj)] = [states[int(rng.integers(len(states)))]] * num_frames
    frames = layout_frames(rng, keys, frame_numbers, contacting, action_objects, split)
    return SyntheticVideo.draw(rng, frames, transitions)


def _charades_row(rng: np.random.Generator, video_id: str, video: SyntheticVideo) -> CharadesVideo:
    # Charades' spans start before the relation change and end after it, so a video's actions overlap
    length = video.length
    seconds = video.seconds
    actions = []
    for transition in video.transitions:
        change = seconds[transition.change_frame]
        start, end = change - rng.uniform(1.0, 0.5 * length), change + rng.uniform(0.5, 0.5 * length)
        actions.append(
            CharadesAction(
                transition.action,
                int(transition.action[1:]),
                round(max(0.0, start), 2),
                round(min(length, end), 2),
            )
        )
    return charades_row(video_id, video, actions, "Charades-scale")


def main(argv: list[str] | None = None) -> int:
    """``python -m datamodules.synthetic.charades_scale --out DIR [--videos N] [--size cpu|full]``."""
    parser = argparse.ArgumentParser(description="Write the Charades-scale synthetic data set.")
    parser.add_argument("--out", type=Path, default=Path("data/synthetic_charades"))
    parser.add_argument("--videos", type=int, default=1600)
    parser.add_argument(
        "--size", choices=("cpu", "full"), default="cpu", help="cpu: CharadesScaleConfig.cpu()"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--feature-noise", type=float, default=None, help="CharadesScaleConfig.feature_noise"
    )
    args = parser.parse_args(argv)
    config = CharadesScaleConfig.cpu() if args.size == "cpu" else CharadesScaleConfig()
    if args.feature_noise is not None:
        config = replace(config, feature_noise=args.feature_noise)
    start = time.perf_counter()
    write_synthetic_charades_scale(args.out, seed=args.seed, num_videos=args.videos, config=config)
    print(f"{args.videos} videos ({args.size}) in {args.out}, {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
