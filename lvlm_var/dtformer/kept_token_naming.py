"""Record-level LaIAR evidence (``ExplanationRecord.evidence``): every kept token named, as relation runs.

Each relation token the video DT-Former keeps is compared, by cosine similarity in the joint space, with
the semantic triplets (person, relation, object) of its own detected object class (every relation, embedded
by the language side's relation encoder and ``f_s``). The detector already names the object; searching
the whole vocabulary instead let a token's nearest triplet name another object, and that object's
relation then said nothing about the pair.

A pair usually holds several relations at once (Action Genome annotates one attention, one or more
spatial and one or more contacting relation per pair), and the semantic token ``L_sim`` aligns a visual
token with is built from all of them (the mean of their embeddings, which ``f_s`` maps linearly). The
single nearest relation is therefore often the one that never changes (``looking_at``) and hides the
transition. Each kept token names its ``relations_per_token`` most similar relations instead, and every
relation of a pair becomes a run over the frames where the pair's kept tokens name it; a run ends at a
kept token that no longer names it. A transition reads as one relation's run ending and another's starting:
``person-box: holding (frames 2-5), not_contacting (frames 10-10)``.

Relations that hold through the whole video (``looking_at``) are near every token of the pair and say
nothing about a change. With ``naming="contrast"`` a token names the relations it is more similar to
than the pair's kept tokens are on average (its similarities minus their mean over the pair's kept
tokens), which brings out the relations that change; a pair with one kept token has nothing to contrast
and is named by plain similarity. The evidence scores stay the plain cosine similarities.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor

from lvlm_var.dtformer.gpo import JointSpaceEncoder
from lvlm_var.dtformer.relation_encoders import SemanticRelationEncoder
from lvlm_var.explanation import ClassExplanation, EvidenceStep, ExplanationRecord

__all__ = ["Naming", "SUBJECT_NAME", "TripletVocabulary", "explain_video"]

SUBJECT_NAME = "person"

Naming = Literal["nearest", "contrast"]


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
        """Nearest triplet of each embedding over the whole vocabulary.

        Args:
            joint: ``(N, E)`` visual joint-space embeddings.

        Returns:
            ``object`` ``(N,)`` and ``relation`` ``(N,)`` indices of the nearest triplet, and its cosine
            similarity ``(N,)``.
        """
        similarity = F.normalize(joint, dim=-1) @ self.embeddings.T
        score, index = similarity.max(dim=-1)
        return index // len(self.relation_names), index % len(self.relation_names), score

    def relation_similarity(self, joint: Tensor, object_class: Tensor) -> Tensor:
        """Cosine similarity of each embedding to every relation of its own object class.

        Args:
            joint: ``(N, E)`` visual joint-space embeddings.
            object_class: ``(N,)`` long detected object class of each.

        Returns:
            ``(N, R)`` similarity to (person, relation r, that object).
        """
        table = self.embeddings.view(len(self.object_names), len(self.relation_names), -1)
        return torch.einsum("ne,nre->nr", F.normalize(joint, dim=-1), table[object_class])


@dataclass
class _Run:
    """Consecutive kept tokens of one pair that name the same relation."""

    relation: str
    start: int
    end: int
    scores: list[float]


def _without_short_runs(flags: list[bool], value: bool, min_run: int) -> list[bool]:
    """``flags`` with every run of ``value`` shorter than ``min_run`` flipped; with ``value=False`` only
    the runs between two ``True`` are (a gap at either end is not inside a run)."""
    out = list(flags)
    start = 0
    while start < len(flags):
        end = start
        while end < len(flags) and flags[end] == flags[start]:
            end += 1
        inside = value or (start > 0 and end < len(flags))
        if flags[start] == value and end - start < min_run and inside:
            out[start:end] = [not value] * (end - start)
        start = end
    return out


def _relation_runs(sequence: list[tuple[int, dict[str, float]]], min_run: int) -> list[_Run]:
    """The runs of each relation over one pair's kept tokens (frame order), after dropping runs shorter
    than ``min_run`` tokens and then bridging gaps shorter than ``min_run``; a run's scores are those
    of the tokens that named the relation."""
    runs: list[_Run] = []
    for relation in dict.fromkeys(r for _, named in sequence for r in named):
        flags = [relation in named for _, named in sequence]
        flags = _without_short_runs(_without_short_runs(flags, True, min_run), False, min_run)
        for position, ((frame, named), flag) in enumerate(zip(sequence, flags, strict=True)):
            if not flag:
                continue
            if position and flags[position - 1]:
                runs[-1].end = frame
            else:
                runs.append(_Run(relation, frame, frame, []))
            if relation in named:
                runs[-1].scores.append(named[relation])
    return runs


def _contrast(similarity: Tensor, detected: Tensor) -> Tensor:
    """``(N, R)`` similarities minus their mean over the kept tokens of the same detected object (left as
    they are for an object with a single kept token)."""
    groups, group_of = torch.unique(detected, return_inverse=True)
    sums = similarity.new_zeros(len(groups), similarity.shape[1]).index_add_(0, group_of, similarity)
    counts = torch.bincount(group_of, minlength=len(groups)).to(similarity.dtype).unsqueeze(1)
    mean = torch.where(counts > 1, sums / counts, torch.zeros_like(sums))
    return similarity - mean[group_of]


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
    relations_per_token: int = 3,
    min_run: int = 1,
    naming: Naming = "nearest",
    classes: list[ClassExplanation] | None = None,
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
        relations_per_token: relations each kept token names (its most similar ones).
        min_run: temporal consistency, in kept tokens of the same pair: a relation named on fewer
            consecutive tokens is dropped, and a gap of fewer tokens inside a relation's run is bridged
            (1: every token's naming as it is).
        naming: ``"nearest"``, the most similar relations (the paper), or ``"contrast"``, the relations
            most above the pair's mean similarity (see the module docstring).
        classes: the class-grounded explanations (:func:`explain_classes`); their sentences are the
            record's text when given.

    Returns:
        the :class:`ExplanationRecord` (``method="laiar"``, ``tokens`` = kept tokens); one evidence step
        per relation run, ``"person-<object>: <relation>"`` from its first to its last frame, scored by
        the mean similarity, sorted by start frame.
    """
    kept = keep > 0.5
    frames, pairs = kept.nonzero(as_tuple=True)
    detected = object_class[frames, pairs].long()
    similarity = vocabulary.relation_similarity(joint[frames, pairs], detected)
    ranking = _contrast(similarity, detected) if naming == "contrast" else similarity
    top_index = ranking.topk(min(relations_per_token, similarity.shape[1]), dim=-1).indices
    top_value = similarity.gather(1, top_index)
    # detected object class -> its kept tokens in frame order, each as (frame, {relation: similarity})
    tokens: dict[int, list[tuple[int, dict[str, float]]]] = {}
    for i in torch.argsort(frame_index[frames], stable=True).tolist():
        named = {
            vocabulary.relation_names[int(r)]: float(score)
            for r, score in zip(top_index[i], top_value[i], strict=True)
        }
        tokens.setdefault(int(detected[i]), []).append((int(frame_index[frames[i]]), named))
    closed = {obj: _relation_runs(sequence, min_run) for obj, sequence in tokens.items()}
    closed = {obj: runs for obj, runs in closed.items() if runs}
    evidence: list[EvidenceStep] = []
    lines: list[str] = []
    for obj, pair_runs in sorted(closed.items(), key=lambda item: min(run.start for run in item[1])):
        pair_name = f"{SUBJECT_NAME}-{vocabulary.object_names[obj]}"
        pair_runs.sort(key=lambda run: (run.start, run.end, run.relation))
        evidence.extend(
            EvidenceStep(
                f"{pair_name}: {run.relation}", run.start, run.end, sum(run.scores) / len(run.scores)
            )
            for run in pair_runs
        )
        lines.append(
            f"{pair_name}: "
            + ", ".join(f"{run.relation} (frames {run.start}-{run.end})" for run in pair_runs)
        )
    evidence.sort(key=lambda step: (step.start, step.end, step.text))
    top_classes = probabilities.topk(min(top_k, probabilities.shape[0]))
    return ExplanationRecord(
        sample_id=sample_id,
        method="laiar",
        predictions=[
            (class_names[int(i)], float(p))
            for p, i in zip(top_classes.values, top_classes.indices, strict=True)
        ],
        ground_truth=list(ground_truth),
        evidence=evidence,
        text="\n".join(c.sentence for c in classes) if classes else "; ".join(lines),
        tokens=int(kept.sum()),
        classes=list(classes or []),
    )
