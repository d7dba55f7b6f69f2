"""Synthetic Action Genome / Charades data whose actions are human-object relation transitions.

Writes the real layouts, through the real writers, so the demo and the tests read it with the real
readers::

    out_dir/action_genome/annotations/{object,relationship}_classes.txt, person_bbox.pkl,
                                      object_bbox_and_relationship.pkl, frame_list.txt
    out_dir/action_genome/features/<VIDEO_ID>.npz      (datamodules.formats.box_features)
    out_dir/action_genome/synthetic_truth.json          (the transition behind every action label)
    out_dir/charades/Charades_v1_{train,test}.csv, Charades_v1_classes.txt

Each action is one contacting-relationship transition on one object, read the way LaIAR reads
actions (e.g. "Putting a box somewhere" = ``holding -> not_contacting`` on a box). The same objects
appear in actions with reversed transitions (put / take, sit / stand up, lie down / awaken, shoes on
/ off) and as distractors holding either state statically, so neither object presence nor the set of
relations seen identifies an action: only the order of the relation change does.

Box features carry the object class and the relations only through noise: every feature is a fixed
random class prototype (plus relation prototypes for the union box) and a per-video scene offset,
mixed by a per-video random linear map (the scene / camera nuisance) plus Gaussian noise. A video
model must learn to read the relation from them; the language branch reads it from the names. Boxes
drift at random, independently of the relations, so geometry gives nothing away.

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

import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from ..formats.action_genome import ActionGenomeAnnotations, AGFrame, AGObject, write_action_genome
from ..formats.box_features import BoxFeatures, box_feature_path, write_box_features
from ..formats.charades import (
    CharadesAction,
    CharadesClass,
    CharadesVideo,
    write_charades_classes,
    write_charades_csv,
)
from ..formats.class_names import (
    AG_ATTENTION_RELATIONSHIPS,
    AG_OBJECT_CLASSES,
    AG_RELATIONSHIP_CLASSES,
    AG_SPATIAL_RELATIONSHIPS,
)

__all__ = [
    "SyntheticAction",
    "SYNTHETIC_ACTIONS",
    "SyntheticSceneGraphConfig",
    "SyntheticTransition",
    "write_synthetic_scene_graphs",
    "read_synthetic_truth",
]

FPS = 24.0
_SCENES = ("Kitchen", "Bedroom", "Living room", "Bathroom", "Dining room", "Home Office", "Hallway", "Pantry")
_ID_ALPHABET = np.array(list("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
_FRAME_SIZES = ((480, 270), (480, 360))
_GENERIC_STATIC = ("not_contacting", "touching")
_HIDDEN_PROBABILITY = 0.1  # how often a distractor is annotated but not visible in a frame


@dataclass(frozen=True)
class SyntheticAction:
    """An action defined by one contacting-relationship transition.

    Attributes:
        code: Charades class code, ``"c042"``.
        name: Charades class name, ``"Putting a box somewhere"``.
        objects: Action Genome object classes the action can involve.
        relation_before: the person-object contacting relationship before the change.
        relation_after: the relationship from the change on.
    """

    code: str
    name: str
    objects: tuple[str, ...]
    relation_before: str
    relation_after: str


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


@dataclass(frozen=True)
class SyntheticTransition:
    """The ground truth behind one (video, action) label: what explanations are scored against.

    Attributes:
        action: Charades code, ``"c042"``.
        action_name: its Charades name.
        object: Action Genome class of the object, ``"box"``.
        relation_before: contacting relationship in every frame before ``change_frame``.
        relation_after: contacting relationship from ``change_frame`` on.
        change_frame: key of the first frame with ``relation_after``, ``"AB12C.mp4/000123.png"``.
        change_step: position of that frame among the video's annotated frames (0-based).
    """

    action: str
    action_name: str
    object: str
    relation_before: str
    relation_after: str
    change_frame: str
    change_step: int


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
    if num_videos < 2:
        raise ValueError(f"num_videos must be >= 2 (a train and a test video), got {num_videos}")
    if feature_dim < 1:
        raise ValueError(f"feature_dim must be >= 1, got {feature_dim}")
    config = config or SyntheticSceneGraphConfig()
    out_dir = Path(out_dir)
    paths = _output_paths(out_dir)
    seeds = np.random.SeedSequence(seed).spawn(num_videos + 1)
    shared = np.random.default_rng(seeds[0])
    prototypes = _Prototypes(
        objects=shared.standard_normal((len(AG_OBJECT_CLASSES), feature_dim)),
        relations=shared.standard_normal((len(AG_RELATIONSHIP_CLASSES), feature_dim)),
    )
    video_ids = _video_ids(shared, num_videos)
    num_test = min(num_videos - 1, max(1, round(num_videos * config.test_fraction)))
    test_videos = set(shared.permutation(num_videos)[:num_test].tolist())

    annotations = ActionGenomeAnnotations(list(AG_OBJECT_CLASSES), list(AG_RELATIONSHIP_CLASSES), {})
    charades: dict[str, list[CharadesVideo]] = {"train": [], "test": []}
    truth: dict[str, list[dict]] = {}
    paths["features"].mkdir(parents=True, exist_ok=True)
    for stale in paths["features"].glob("*.npz"):
        stale.unlink()
    class_index = {c.code: c.index for c in _charades_classes()}
    for number, video_id in enumerate(video_ids):
        split = "test" if number in test_videos else "train"
        layout_seed, feature_seed = seeds[number + 1].spawn(2)
        # the noise stream is a child of the layout seed: drawing from it leaves the layout draws as they are
        noise = np.random.default_rng(layout_seed.spawn(1)[0]) if config.noisy else None
        video = _generate_video(np.random.default_rng(layout_seed), video_id, split, config, noise)
        annotations.videos[video_id] = video.frames
        features = _features(np.random.default_rng(feature_seed), video, prototypes, config)
        write_box_features(box_feature_path(paths["features"], video_id), features)
        charades[split].append(_charades_row(video_id, video, class_index))
        truth[video_id] = [asdict(t) for t in video.transitions]

    write_action_genome(paths["annotations"], annotations)
    paths["charades_classes"].parent.mkdir(parents=True, exist_ok=True)
    write_charades_csv(paths["charades_train"], charades["train"])
    write_charades_csv(paths["charades_test"], charades["test"])
    write_charades_classes(paths["charades_classes"], _charades_classes())
    definitions = [asdict(a) for a in SYNTHETIC_ACTIONS]
    paths["truth"].write_text(
        json.dumps({"fps": FPS, "actions": definitions, "videos": truth}, indent=1, sort_keys=True) + "\n"
    )
    return paths


def read_synthetic_truth(path: str | Path) -> dict[str, list[SyntheticTransition]]:
    """Read ``synthetic_truth.json``: video id -> the transition behind each of its action labels."""
    data = json.loads(Path(path).read_text())
    return {video: [SyntheticTransition(**t) for t in items] for video, items in data["videos"].items()}


@dataclass
class _Prototypes:
    objects: np.ndarray  # (36, F)
    relations: np.ndarray  # (26, F)


@dataclass
class _Video:
    frames: list[AGFrame]
    transitions: list[SyntheticTransition]
    subject: str
    scene: str


def _charades_classes() -> list[CharadesClass]:
    ordered = sorted(SYNTHETIC_ACTIONS, key=lambda a: a.code)
    return [CharadesClass(i, a.code, a.name) for i, a in enumerate(ordered)]


def _video_ids(rng: np.random.Generator, count: int) -> list[str]:
    ids: list[str] = []
    seen: set[str] = set()
    while len(ids) < count:
        candidate = "".join(rng.choice(_ID_ALPHABET, size=5))
        if candidate not in seen:
            seen.add(candidate)
            ids.append(candidate)
    return ids


def _generate_video(
    rng: np.random.Generator,
    video_id: str,
    split: str,
    config: SyntheticSceneGraphConfig,
    noise: np.random.Generator | None = None,
) -> _Video:
    num_frames = int(rng.integers(config.frames_per_video[0], config.frames_per_video[1] + 1))
    num_objects = int(rng.integers(config.objects_per_frame[0], config.objects_per_frame[1] + 1))
    most_actions = min(config.actions_per_video[1], num_objects)
    num_actions = int(rng.integers(config.actions_per_video[0], most_actions + 1))
    frame_numbers = np.cumsum(
        np.concatenate([rng.integers(1, 60, size=1), rng.integers(4, 40, size=num_frames - 1)])
    )
    keys = [f"{video_id}.mp4/{n:06d}.png" for n in frame_numbers]

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
        transitions.append(
            SyntheticTransition(
                action.code,
                action.name,
                obj,
                action.relation_before,
                action.relation_after,
                keys[change],
                change,
            )
        )
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
            | set(_GENERIC_STATIC)
        )
        contacting[obj] = [states[int(rng.integers(len(states)))]] * num_frames
        if noise is not None and noise.random() < config.distractor_change_probability:
            _distractor_change(noise, obj, contacting[obj], states)

    frames = _layout_frames(
        rng, keys, frame_numbers, contacting, action_objects, split,
        noise=noise, config=config, changes=changes,
    )
    subject = f"H{_ID_ALPHABET[int(rng.integers(10, 36))]}{int(rng.integers(10, 100))}"
    return _Video(frames, transitions, subject, _SCENES[int(rng.integers(len(_SCENES)))])



def _output_paths(out_dir: Path) -> dict[str, Path]:
    """Where a synthetic Action Genome + Charades set goes: the official layout under ``out_dir``."""
    return {
        "annotations": out_dir / "action_genome" / "annotations",
        "features": out_dir / "action_genome" / "features",
        "truth": out_dir / "action_genome" / "synthetic_truth.json",
        "charades_train": out_dir / "charades" / "Charades_v1_train.csv",
        "charades_test": out_dir / "charades" / "Charades_v1_test.csv",
        "charades_classes": out_dir / "charades" / "Charades_v1_classes.txt",
    }

def _layout_frames(
    rng: np.random.Generator,
    keys: list[str],
    frame_numbers: np.ndarray,
    contacting: dict[str, list[str]],
    action_objects: set[str],
    split: str,
    noise: np.random.Generator | None = None,
    config: SyntheticSceneGraphConfig | None = None,
    changes: dict[str, int] | None = None,
) -> list[AGFrame]:
    """Boxes and relations of every frame, given each object's contacting relation per frame (the action
    objects always visible, distractors hidden now and then). With ``noise`` (its own random stream) and
    ``config``, Action Genome's annotation noise: action objects missed away from their ``changes`` step,
    spatial relations redrawn."""
    names = list(contacting)
    order = [names[i] for i in rng.permutation(len(names))]
    width, height = _FRAME_SIZES[int(rng.integers(len(_FRAME_SIZES)))]
    spatial = {o: AG_SPATIAL_RELATIONSHIPS[int(rng.integers(len(AG_SPATIAL_RELATIONSHIPS)))] for o in order}
    person_center = rng.uniform([0.3 * width, 0.4 * height], [0.7 * width, 0.6 * height])
    person_half = rng.uniform([0.1 * width, 0.25 * height], [0.2 * width, 0.4 * height])
    object_box = {o: _random_box(rng, width, height) for o in order}
    frames = []
    for t, key in enumerate(keys):
        center = person_center + rng.integers(-3, 4, size=2)
        person_box = _clip_box(
            np.concatenate([center - person_half, center + person_half]).round(), width, height
        )
        objects = []
        for obj in order:
            object_box[obj] = _clip_box(
                object_box[obj] + np.tile(rng.integers(-5, 6, size=2), 2), width, height
            )
            visible = obj in action_objects or rng.random() >= _HIDDEN_PROBABILITY
            if noise is not None and obj in action_objects and t not in (changes[obj] - 1, changes[obj]):
                visible = noise.random() >= config.action_miss_probability
            if noise is not None and noise.random() < config.spatial_change_probability:
                spatial[obj] = AG_SPATIAL_RELATIONSHIPS[int(noise.integers(len(AG_SPATIAL_RELATIONSHIPS)))]
            relations: tuple[int, ...] = ()
            if visible:
                attention = AG_ATTENTION_RELATIONSHIPS[int(rng.integers(len(AG_ATTENTION_RELATIONSHIPS)))]
                relations = tuple(
                    sorted(
                        AG_RELATIONSHIP_CLASSES.index(r)
                        for r in (attention, spatial[obj], contacting[obj][t])
                    )
                )
            objects.append(
                AGObject(
                    AG_OBJECT_CLASSES.index(obj),
                    tuple(float(v) for v in object_box[obj]) if visible else None,
                    relations,
                    visible,
                    split,
                )
            )
        frames.append(
            AGFrame(key, int(frame_numbers[t]), (width, height), tuple(float(v) for v in person_box), objects)
        )
    return frames


def _distractor_change(rng: np.random.Generator, obj: str, relations: list[str], states: list[str]) -> None:
    """Change ``relations`` (a distractor's static contacting relation) once, in place, to another of its
    ``states``, such that the change is no action's defining transition."""
    defining = {(a.relation_before, a.relation_after) for a in SYNTHETIC_ACTIONS if obj in a.objects}
    before = relations[0]
    after = [s for s in states if s != before and (before, s) not in defining]
    if after:
        change = int(rng.integers(1, len(relations)))
        relations[change:] = [after[int(rng.integers(len(after)))]] * (len(relations) - change)


def _random_box(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    size = rng.integers(20, 120, size=2)
    corner = rng.integers(0, [width - size[0], height - size[1]])
    return np.concatenate([corner, corner + size]).astype(np.float64)


def _clip_box(box: np.ndarray, width: int, height: int) -> np.ndarray:
    size = box[2:] - box[:2]
    corner = np.clip(box[:2], 0, [width - size[0], height - size[1]])
    return np.concatenate([corner, corner + size])


def _features(
    rng: np.random.Generator, video: _Video, prototypes: _Prototypes, config: SyntheticSceneGraphConfig
) -> BoxFeatures:
    feature_dim = prototypes.objects.shape[1]
    scale = config.nuisance_scale
    mixing = np.eye(feature_dim) + scale * rng.standard_normal((feature_dim, feature_dim)) / np.sqrt(
        feature_dim
    )
    offset = scale * rng.standard_normal(feature_dim)
    person = prototypes.objects[AG_OBJECT_CLASSES.index("person")]

    def observe(*signals: np.ndarray) -> np.ndarray:
        return mixing @ (sum(signals) + offset) + config.feature_noise * rng.standard_normal(feature_dim)

    num_frames = len(video.frames)
    num_slots = max(sum(o.visible for o in f.objects) for f in video.frames)
    object_class = np.full((num_frames, num_slots), -1, np.int16)
    person_feature = np.zeros((num_frames, feature_dim), np.float32)
    object_feature = np.zeros((num_frames, num_slots, feature_dim), np.float32)
    union_feature = np.zeros((num_frames, num_slots, feature_dim), np.float32)
    for t, frame in enumerate(video.frames):
        person_feature[t] = observe(person)
        visible = [o for o in frame.objects if o.visible]
        for k, obj in enumerate(visible):
            cls = prototypes.objects[obj.class_index]
            # relation_indices hold one attention, one spatial, one contacting relation (ascending)
            attention, spatial, contact = (prototypes.relations[i] for i in obj.relation_indices)
            object_class[t, k] = obj.class_index
            object_feature[t, k] = observe(cls)
            union_feature[t, k] = observe(0.5 * person, 0.5 * cls, contact, 0.5 * spatial, 0.25 * attention)
    return BoxFeatures(
        video.frames[0].video_id,
        [f.key for f in video.frames],
        object_class,
        person_feature,
        object_feature,
        union_feature,
    )


def _charades_row(video_id: str, video: _Video, class_index: dict[str, int]) -> CharadesVideo:
    seconds = {f.key: f.frame_index / FPS for f in video.frames}
    keys = [f.key for f in video.frames]
    actions = []
    for transition in video.transitions:
        before = keys[transition.change_step - 1]
        actions.append(
            CharadesAction(
                transition.action,
                class_index[transition.action],
                round(seconds[before], 2),
                round(seconds[transition.change_frame], 2),
            )
        )
    names = [t.action_name.lower() for t in video.transitions]
    objects = sorted({AG_OBJECT_CLASSES[o.class_index] for f in video.frames for o in f.objects})
    return CharadesVideo(
        id=video_id,
        subject=video.subject,
        scene=video.scene,
        actions=actions,
        length=round(video.frames[-1].frame_index / FPS + 1.0, 2),
        quality=7,
        relevance=7,
        verified="Yes",
        script="A person is " + ", then ".join(names) + ".",
        objects=objects,
        descriptions="Synthetic scene graph video: " + ", ".join(names) + ".",
    )
