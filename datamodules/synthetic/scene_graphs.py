"""Synthetic Action Genome / Charades data whose actions are human-object relation transitions.

Written in the official layouts through the real writers (:mod:`.scene_graph_set`), so the demo and the
tests read it with the real readers.

Each action is one contacting-relationship transition on one object, read the way LaIAR reads
actions (e.g. "Putting a box somewhere" = ``holding -> not_contacting`` on a box). The same objects
appear in actions with reversed transitions (put / take, sit / stand up, lie down / awaken, shoes on
/ off) and as distractors holding either state statically, so neither object presence nor the set of
relations seen identifies an action: only the order of the relation change does.

Box features carry the object class and the relations only through noise (:mod:`.box_feature_model`);
boxes drift at random, independently of the relations, so geometry gives nothing away
(:mod:`.scene_frames`).

The noise is set where language knowledge pays, as LaIAR's premise has it for real detector features:
trained alone for 40 epochs (seed 0), LaIAR's video branch reaches test mAP 0.98 at ``feature_noise=0.5``
and 0.91 at the default 1.0, where the learning scheme (``L_sim`` + ``L_xm``, no token selection) lifts it
to 0.96.

Action Genome's annotation noise is a set of generator options (:class:`SyntheticSceneGraphConfig`), all
off for the default set and on in :meth:`SyntheticSceneGraphConfig.ag_noisy` (the ``synthetic_ag_noisy``
set ``generate_all`` writes next to it): spatial relations redrawn in many frames (attention is redrawn
in every frame in both sets), contacting relations uncertain for a few frames either side of the change,
action objects missed in some frames, distractors with contact changes of their own that define no action,
and the actions of a video changing close together in time. The ground-truth transition of every label
is the same as without noise (``synthetic_truth.json``); the options only draw from a random stream of
their own, so with them off the bytes are those of the default set.

Charades codes and names are the real ones (``Charades_v1_classes.txt``); the written class list holds
only the 13 classes used, so the synthetic label space has 13 classes, each with positives.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ..formats.charades import CharadesAction, CharadesClass, CharadesVideo
from ..formats.class_names import AG_OBJECT_CLASSES
from .box_feature_model import BoxFeatureModel
from .scene_frames import GENERIC_STATIC, SyntheticVideo, frame_keys, layout_frames
from .scene_graph_set import SceneGraphSetWriter, charades_row, split_videos
from .transitions import SyntheticAction, SyntheticTransition, read_synthetic_truth

__all__ = [
    "SyntheticAction",
    "SYNTHETIC_ACTIONS",
    "SyntheticSceneGraphConfig",
    "SyntheticTransition",
    "write_synthetic_scene_graphs",
    "read_synthetic_truth",
]

SYNTHETIC_ACTIONS: tuple[SyntheticAction, ...] = (
    SyntheticAction("c042", "Putting a box somewhere", ("box",), "holding", "not_contacting"),
    SyntheticAction("c043", "Taking a box from somewhere", ("box",), "not_contacting", "holding"),
    SyntheticAction("c055", "Putting on shoe/shoes", ("shoe",), "holding", "wearing"),
    SyntheticAction("c057", "Taking off some shoes", ("shoe",), "wearing", "holding"),
    SyntheticAction("c059", "Sitting in a chair", ("chair",), "not_contacting", "sitting_on"),
    SyntheticAction(
        "c106", "Drinking from a cup/glass/bottle", ("cup/glass/bottle",), "holding", "drinking_from"
    ),
    SyntheticAction(
        "c110", "Taking a cup/glass/bottle from somewhere", ("cup/glass/bottle",), "not_contacting", "holding"
    ),
    SyntheticAction("c119", "Putting a dish/es somewhere", ("dish",), "holding", "not_contacting"),
    SyntheticAction("c120", "Taking a dish/es from somewhere", ("dish",), "not_contacting", "holding"),
    SyntheticAction("c123", "Sitting on sofa/couch", ("sofa/couch",), "not_contacting", "sitting_on"),
    SyntheticAction("c133", "Someone is awakening in bed", ("bed",), "lying_on", "sitting_on"),
    SyntheticAction("c134", "Lying on a bed", ("bed",), "sitting_on", "lying_on"),
    SyntheticAction(
        "c154",
        "Someone is standing up from somewhere",
        ("chair", "sofa/couch", "bed"),
        "sitting_on",
        "not_contacting",
    ),
)


@dataclass(frozen=True)
class SyntheticSceneGraphConfig:
    """How the synthetic videos look (their number, seed and feature size are arguments of the writer).

    Attributes:
        frames_per_video: inclusive range of annotated frames a video.
        objects_per_frame: inclusive range of objects a video (each annotated in every frame).
        actions_per_video: inclusive range of actions a video (never more than its objects).
        test_fraction: share of videos in the test split.
        feature_noise: std of the Gaussian noise added to every feature.
        nuisance_scale: strength of the per-video random linear map and offset.
        spatial_change_probability: per frame and object, probability that the spatial relation is
            drawn afresh (0: one spatial relation a video and object).
        contact_boundary_frames: frames on either side of an action's change whose contacting relation
            is annotated as the before or the after state at random (annotator uncertainty).
        action_miss_probability: per frame, probability that an action's object is not annotated
            (never in the two frames either side of the change, so the change stays observable).
        distractor_change_probability: probability that a distractor's contacting relation changes once
            in the video, between two of its states whose change defines no action.
        overlap_steps: when >= 0, every action of a video changes within this many frames of the first
            action's change (actions overlap in time); -1 draws each change independently.
    """

    frames_per_video: tuple[int, int] = (8, 16)
    objects_per_frame: tuple[int, int] = (2, 5)
    actions_per_video: tuple[int, int] = (1, 3)
    test_fraction: float = 0.2
    feature_noise: float = 1.0
    nuisance_scale: float = 0.25
    spatial_change_probability: float = 0.0
    contact_boundary_frames: int = 0
    action_miss_probability: float = 0.0
    distractor_change_probability: float = 0.0
    overlap_steps: int = -1

    @classmethod
    def ag_noisy(cls) -> SyntheticSceneGraphConfig:
        """The ``synthetic_ag_noisy`` set: Action Genome's annotation noise, every option on."""
        return cls(
            actions_per_video=(1, 3),
            spatial_change_probability=0.5,
            contact_boundary_frames=1,
            action_miss_probability=0.1,
            distractor_change_probability=0.5,
            overlap_steps=2,
        )

    @property
    def noisy(self) -> bool:
        """Whether any annotation-noise option is on."""
        return self != replace(
            self,
            spatial_change_probability=0.0,
            contact_boundary_frames=0,
            action_miss_probability=0.0,
            distractor_change_probability=0.0,
            overlap_steps=-1,
        )

    def __post_init__(self) -> None:
        for name, low in (("frames_per_video", 5), ("objects_per_frame", 1), ("actions_per_video", 1)):
            lo, hi = getattr(self, name)
            if not low <= lo <= hi:
                raise ValueError(f"{name} must be an inclusive range ({low} <= min <= max), got {(lo, hi)}")
        if self.actions_per_video[0] > self.objects_per_frame[0]:
            raise ValueError(
                f"actions_per_video min {self.actions_per_video[0]} exceeds objects_per_frame min "
                f"{self.objects_per_frame[0]}: each action needs its own object"
            )
        if not 0.0 < self.test_fraction < 1.0:
            raise ValueError(f"test_fraction must be in (0, 1), got {self.test_fraction}")
        probabilities = (
            "spatial_change_probability", "action_miss_probability", "distractor_change_probability"
        )
        for name in probabilities:
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {getattr(self, name)}")
        if self.contact_boundary_frames < 0 or self.overlap_steps < -1:
            raise ValueError(
                "contact_boundary_frames must be >= 0 and overlap_steps >= -1, "
                f"got {self.contact_boundary_frames}, {self.overlap_steps}"
            )
        if self.feature_noise < 0 or self.nuisance_scale < 0:
            raise ValueError(
                "feature_noise and nuisance_scale must be >= 0, "
                f"got {self.feature_noise}, {self.nuisance_scale}"
            )


def write_synthetic_scene_graphs(
    out_dir: str | Path,
    seed: int = 0,
    num_videos: int = 800,
    feature_dim: int = 64,
    config: SyntheticSceneGraphConfig | None = None,
) -> dict[str, Path]:
    """Generate and write the synthetic data set (same arguments -> same bytes).

    Args:
        out_dir: output root; feature files of an earlier run there are replaced.
        seed: the random seed.
        num_videos: number of videos (train and test together), at least 2.
        feature_dim: ``F``, the box-feature size.
        config: how videos look; ``SyntheticSceneGraphConfig()`` when ``None``.

    Returns:
        Paths by name: ``annotations`` (Action Genome annotations dir), ``features`` (dir of
        ``<VIDEO_ID>.npz``), ``truth`` (``synthetic_truth.json``), ``charades_train``,
        ``charades_test``, ``charades_classes``.

    Raises:
        ValueError: ``num_videos < 2`` or ``feature_dim < 1``.
    """
    config = config or SyntheticSceneGraphConfig()
    seeds = np.random.SeedSequence(seed).spawn(num_videos + 1)
    shared = np.random.default_rng(seeds[0])
    feature_model = BoxFeatureModel.draw(shared, feature_dim, config.feature_noise, config.nuisance_scale)
    videos = split_videos(shared, num_videos, config.test_fraction)
    writer = SceneGraphSetWriter(Path(out_dir))
    classes = _charades_classes()
    class_index = {c.code: c.index for c in classes}
    for number, (video_id, split) in enumerate(videos):
        layout_seed, feature_seed = seeds[number + 1].spawn(2)
        # the noise stream is a child of the layout seed: drawing from it leaves the layout draws as they are
        noise = np.random.default_rng(layout_seed.spawn(1)[0]) if config.noisy else None
        video = _generate_video(np.random.default_rng(layout_seed), video_id, split, config, noise)
        features = feature_model.features(np.random.default_rng(feature_seed), video.frames)
        writer.add(split, video, features, _charades_row(video_id, video, class_index))
    return writer.finish(classes, SYNTHETIC_ACTIONS)


def _charades_classes() -> list[CharadesClass]:
    ordered = sorted(SYNTHETIC_ACTIONS, key=lambda a: a.code)
    return [CharadesClass(i, a.code, a.name) for i, a in enumerate(ordered)]


def _generate_video(
    rng: np.random.Generator,
    video_id: str,
    split: str,
    config: SyntheticSceneGraphConfig,
    noise: np.random.Generator | None = None,
) -> SyntheticVideo:
    num_frames = int(rng.integers(config.frames_per_video[0], config.frames_per_video[1] + 1))
    num_objects = int(rng.integers(config.objects_per_frame[0], config.objects_per_frame[1] + 1))
    most_actions = min(config.actions_per_video[1], num_objects)
    num_actions = int(rng.integers(config.actions_per_video[0], most_actions + 1))
    frame_numbers, keys = frame_keys(rng, video_id, num_frames)

    # contacting relation of each object in each frame; the action objects first, then distractors
    contacting: dict[str, list[str]] = {}
    transitions: list[SyntheticTransition] = []
    for action_index in rng.permutation(len(SYNTHETIC_ACTIONS)):
        if len(transitions) == num_actions:
            break
        action = SYNTHETIC_ACTIONS[action_index]
        free = [o for o in action.objects if o not in contacting]
        if not free:
            continue
        obj = free[int(rng.integers(len(free)))]
        margin = max(1, num_frames // 4)
        change = int(rng.integers(margin, num_frames - margin + 1))
        if noise is not None and config.overlap_steps >= 0 and transitions:
            shift = int(noise.integers(-config.overlap_steps, config.overlap_steps + 1))
            change = min(max(transitions[0].change_step + shift, margin), num_frames - margin)
        contacting[obj] = [action.relation_before] * change + [action.relation_after] * (num_frames - change)
        if noise is not None:
            low = max(0, change - config.contact_boundary_frames)
            for t in range(low, min(num_frames, change + config.contact_boundary_frames)):
                if noise.random() < 0.5:
                    states = (action.relation_before, action.relation_after)
                    contacting[obj][t] = states[int(noise.integers(2))]
        transitions.append(SyntheticTransition.of(action, obj, keys, change))
    action_objects = set(contacting)
    changes = {t.object: t.change_step for t in transitions}
    candidates = [o for o in AG_OBJECT_CLASSES[1:] if o not in contacting]
    # half the distractors are objects some action uses, so seeing the object tells nothing
    action_related = sorted({o for a in SYNTHETIC_ACTIONS for o in a.objects} - set(contacting))
    while len(contacting) < num_objects:
        pool = action_related if action_related and rng.random() < 0.5 else candidates
        obj = pool[int(rng.integers(len(pool)))]
        if obj in contacting:
            continue
        states = sorted(
            {r for a in SYNTHETIC_ACTIONS if obj in a.objects for r in (a.relation_before, a.relation_after)}
            | set(GENERIC_STATIC)
        )
        contacting[obj] = [states[int(rng.integers(len(states)))]] * num_frames
        if noise is not None and noise.random() < config.distractor_change_probability:
            _distractor_change(noise, obj, contacting[obj], states)

    frames = layout_frames(
        rng, keys, frame_numbers, contacting, action_objects, split,
        noise=noise,
        miss_probability=config.action_miss_probability,
        spatial_change_probability=config.spatial_change_probability,
        changes=changes,
    )
    return SyntheticVideo.draw(rng, frames, transitions)


def _distractor_change(rng: np.random.Generator, obj: str, relations: list[str], states: list[str]) -> None:
    """Change ``relations`` (a distractor's static contacting relation) once, in place, to another of its
    ``states``, such that the change is no action's defining transition."""
    defining = {(a.relation_before, a.relation_after) for a in SYNTHETIC_ACTIONS if obj in a.objects}
    before = relations[0]
    after = [s for s in states if s != before and (before, s) not in defining]
    if after:
        change = int(rng.integers(1, len(relations)))
        relations[change:] = [after[int(rng.integers(len(after)))]] * (len(relations) - change)


def _charades_row(video_id: str, video: SyntheticVideo, class_index: dict[str, int]) -> CharadesVideo:
    # the labelled span runs from the annotated frame before the change to the change
    seconds = video.seconds
    keys = [f.key for f in video.frames]
    actions = [
        CharadesAction(
            transition.action,
            class_index[transition.action],
            round(seconds[keys[transition.change_step - 1]], 2),
            round(seconds[transition.change_frame], 2),
        )
        for transition in video.transitions
    ]
    return charades_row(video_id, video, actions, "scene graph")
