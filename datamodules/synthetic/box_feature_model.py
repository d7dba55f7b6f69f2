"""The noise model of synthetic box features: class and relation prototypes seen through a nuisance.

Every feature is a fixed random class prototype (plus relation prototypes for the union box) and a
per-video scene offset, mixed by a per-video random linear map (the scene / camera nuisance) plus
Gaussian noise. A video model must learn to read the relation from them; the language branch reads it
from the names. Shared by both scene-graph presets (:mod:`.scene_graphs`, :mod:`.charades_scale`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..formats.action_genome import AGFrame
from ..formats.box_features import BoxFeatures
from ..formats.class_names import AG_OBJECT_CLASSES, AG_RELATIONSHIP_CLASSES

__all__ = ["BoxFeatureModel"]


@dataclass(frozen=True)
class BoxFeatureModel:
    """The prototypes of a data set and its noise levels.

    Attributes:
        objects: ``(num Action Genome object classes, F)`` class prototypes.
        relations: ``(num Action Genome relationships, F)`` relation prototypes.
        feature_noise: std of the Gaussian noise added to every feature.
        nuisance_scale: strength of the per-video random linear map and offset.
    """

    objects: np.ndarray
    relations: np.ndarray
    feature_noise: float
    nuisance_scale: float

    @classmethod
    def draw(
        cls, rng: np.random.Generator, feature_dim: int, feature_noise: float, nuisance_scale: float
    ) -> BoxFeatureModel:
        """Draw the prototypes (object classes first, then relations) from ``rng``.

        Raises:
            ValueError: ``feature_dim < 1``.
        """
        if feature_dim < 1:
            raise ValueError(f"feature_dim must be >= 1, got {feature_dim}")
        objects = rng.standard_normal((len(AG_OBJECT_CLASSES), feature_dim))
        relations = rng.standard_normal((len(AG_RELATIONSHIP_CLASSES), feature_dim))
        return cls(objects, relations, feature_noise, nuisance_scale)

    def features(self, rng: np.random.Generator, frames: list[AGFrame]) -> BoxFeatures:
        """The box features of one video's annotated ``frames`` (its visible objects), drawn from ``rng``."""
        feature_dim = self.objects.shape[1]
        scale = self.nuisance_scale
        mixing = np.eye(feature_dim) + scale * rng.standard_normal((feature_dim, feature_dim)) / np.sqrt(
            feature_dim
        )
        offset = scale * rng.standard_normal(feature_dim)
        person = self.objects[AG_OBJECT_CLASSES.index("person")]

        def observe(*signals: np.ndarray) -> np.ndarray:
            return mixing @ (sum(signals) + offset) + self.feature_noise * rng.standard_normal(feature_dim)

        num_frames = len(frames)
        num_slots = max(sum(o.visible for o in f.objects) for f in frames)
        object_class = np.full((num_frames, num_slots), -1, np.int16)
        person_feature = np.zeros((num_frames, feature_dim), np.float32)
        object_feature = np.zeros((num_frames, num_slots, feature_dim), np.float32)
        union_feature = np.zeros((num_frames, num_slots, feature_dim), np.float32)
        for t, frame in enumerate(frames):
            person_feature[t] = observe(person)
            visible = [o for o in frame.objects if o.visible]
            for k, obj in enumerate(visible):
                cls = self.objects[obj.class_index]
                # relation_indices hold one attention, one spatial, one contacting relation (ascending)
                attention, spatial, contact = (self.relations[i] for i in obj.relation_indices)
                object_class[t, k] = obj.class_index
                object_feature[t, k] = observe(cls)
                union_feature[t, k] = observe(
                    0.5 * person, 0.5 * cls, contact, 0.5 * spatial, 0.25 * attention
                )
        return BoxFeatures(
            frames[0].video_id,
            [f.key for f in frames],
            object_class,
            person_feature,
            object_feature,
            union_feature,
        )
