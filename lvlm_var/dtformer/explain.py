"""LaIAR explanations (Sec. 3.3.2, Fig. 3): kept visual relations -> nearest semantic triplets -> transitions.

Each relation token the video DT-Former keeps is matched, by cosine similarity in the joint space, to the
nearest semantic triplet (person, relation, object) of the whole vocabulary (every object class times
every single relation, embedded by the language side's relation encoder and ``f_s``). The tokens of a
human-object pair (the pair is identified by its detected object class) are ordered by frame, runs of the
same relation are merged, and the pair's transitions are rendered as
``person-box: holding (frame 2) -> not_contacting (frame 10)``. When the nearest triplet names another
object than the detected one, that object is shown in brackets after the relation.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from lvlm_var.dtformer.gpo import JointSpaceEncoder
from lvlm_var.dtformer.relation_encoders import SemanticRelationEncoder
from lvlm_var.explanation import EvidenceStep, ExplanationRecord

__all__ = ["TripletVocabulary", "explain_video"]

SUBJECT_NAME = "person"


@dataclass
class TripletVocabulary:
    """Every (person, relation, object) triplet with its unit-norm joint-space embedding.

    Attributes:
        embeddings: ``(O * R, E)`` unit-norm; row ``o * R + r`` is (person, relation r, object o).
        object_names: the ``O`` object class names.
        relation_names: the ``R`` relation names.
    """

    embeddings: Tensor
    object_names: list[str]
    relation_names: list[str]

    @classmethod
    @torch.no_grad()
    def build(
        cls,
        encoder: SemanticRelationEncoder,
        joint: JointSpaceEncoder,
        object_names: list[str],
        relation_names: list[str],
    ) -> TripletVocabulary:
        """Embed the whole vocabulary with the language side.

        Raises:
            ValueError: the name lists do not match the encoder's vocabulary sizes.
        """
        if len(object_names) != encoder.num_object_classes or len(relation_names) != encoder.num_relations:
            raise ValueError(
                f"TripletVocabulary: got {len(object_names)} object names and {len(relation_names)} relation "
                f"names; the semantic encoder has {encoder.num_object_classes} object classes and "
                f"{encoder.num_relations} relations"
            )
        device = encoder.relation.device
        objects = torch.arange(len(object_names), device=device).repeat_interleave(len(relation_names))
        relations = torch.eye(len(relation_names), device=device).repeat(len(object_names), 1)
        embeddings = joint.embed_tokens(encoder(objects, relations))
        return cls(F.normalize(embeddings, dim=-1), list(object_names), list(relation_names))

    def nearest(self, joint: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Nearest triplet of each embedding.

        Args:
            joint: ``(N, E)`` visual joint-space embeddings.

        Returns:
            ``object`` ``(N,)`` and ``relation`` ``(N,)`` indices of the nearest triplet, and its cosine
            similarity ``(N,)``.
        """
        similarity = F.normalize(joint, dim=-1) @ self.embeddings.T
        score, index = similarity.max(dim=-1)
        return index // len(self.relation_names), index % len(self.relation_names), score


@dataclass
class _Run:
    """Consecutive kept tokens of one pair with the same nearest relation."""

    relation: str
    start: int
    end: int
    scores: list[float]


def explain_video(
    sample_id: str,
    vocabulary: TripletVocabulary,
    joint: Tensor,
    keep: Tensor,
    object_class: Tensor,
    frame_index: Tensor,
    probabilities: Tensor,
    class_names: list[str],
    ground_truth: list[str],
    top_k: int = 5,
) -> ExplanationRecord:
    """Explain one video's prediction.

    Args:
        sample_id: the video id.
        vocabulary: the embedded triplet vocabulary.
        joint: ``(T, K, E)`` visual joint-space embeddings.
        keep: ``(T, K)`` selection ``U^v`` (1 kept; padding is 0).
        object_class: ``(T, K)`` detected object class of each pair.
        frame_index: ``(T,)`` frame numbers in the source video.
        probabilities: ``(C,)`` class probabilities.
        class_names: the ``C`` class names.
        ground_truth: true class names.
        top_k: number of predictions to keep.

    Returns:
        the :class:`ExplanationRecord` (``method="laiar"``, ``tokens`` = kept tokens).
    """
    kept = keep > 0.5
    frames, pairs = kept.nonzero(as_tuple=True)
    objects, relations, scores = vocabulary.nearest(joint[frames, pairs])
    runs: dict[int, list[_Run]] = {}  # detected object class -> its relation runs in frame order
    for i in torch.argsort(frame_index[frames], stable=True).tolist():
        detected = int(object_class[frames[i], pairs[i]])
        relation = vocabulary.relation_names[int(relations[i])]
        if int(objects[i]) != detected:
            relation = f"{relation} ({vocabulary.object_names[int(objects[i])]})"
        frame = int(frame_index[frames[i]])
        pair_runs = runs.setdefault(detected, [])
        if pair_runs and pair_runs[-1].relation == relation:
            pair_runs[-1].end = frame
            pair_runs[-1].scores.append(float(scores[i]))
        else:
            pair_runs.append(_Run(relation, frame, frame, [float(scores[i])]))
    evidence: list[EvidenceStep] = []
    lines: list[str] = []
    for detected, pair_runs in sorted(runs.items(), key=lambda item: item[1][0].start):
        pair_name = f"{SUBJECT_NAME}-{vocabulary.object_names[detected]}"
        evidence.extend(
            EvidenceStep(
                f"{pair_name}: {run.relation}", run.start, run.end, sum(run.scores) / len(run.scores)
            )
            for run in pair_runs
        )
        lines.append(
            f"{pair_name}: " + " -> ".join(f"{run.relation} (frame {run.start})" for run in pair_runs)
        )
    evidence.sort(key=lambda step: (step.start, step.end))
    top = probabilities.topk(min(top_k, probabilities.shape[0]))
    return ExplanationRecord(
        sample_id=sample_id,
        method="laiar",
        predictions=[(class_names[int(i)], float(p)) for p, i in zip(top.values, top.indices, strict=True)],
        ground_truth=list(ground_truth),
        evidence=evidence,
        text="; ".join(lines),
        tokens=int(kept.sum()),
    )
