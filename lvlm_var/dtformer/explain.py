"""LaIAR explanations (Sec. 3.3.2, Fig. 3): kept visual relations -> nearest semantic triplets -> transitions.

Class-grounded evidence (what ``ExplanationRecord.classes`` holds) answers "which kept tokens carry this
class's score", in two steps, both measured on the class's log-odds ``s_c = log p_c - log(1 - p_c)``
(:func:`log_odds`; the logit itself for sigmoid heads):

1. *Which relation a kept token shows for the class.* The token's joint-space embedding ``v`` is read
   along the triplet embeddings ``e_r`` of its own object (the paper's joint-space naming), weighted by
   how much the class moves along each: gradient x input per relation, ``(v . e_r) (ds_c/dv . e_r)``; the
   token names its largest (the gradient of ``p_c`` has the same direction, so this naming is the one
   measured with it). Plain nearest-triplet naming ignores the class: on the synthetic test split
   (40-epoch checkpoint of ``synthetic_laiar.yaml``, before issue 12) it named the true before -> after
   change for 12% of the correctly predicted actions (the nearest relation was mostly a spatial one),
   against 66% with this naming (the noisy set: 22% against 67%). The candidates are the relations the
   object class shows in the training annotations (``LaIARModule.relation_seen``, counted during fit):
   without that, after-change tokens were often named by a relation the object never has (``leaning_on``
   on a box); with it, 78% on the same checkpoint (the noisy set: 85%).
2. *Which tokens carry the class.* The kept tokens of one object that name the same relation in a row
   form an :class:`EvidenceUnit`; its attribution is the exact leave-one-unit-out drop
   ``s_c(kept) - s_c(kept without the unit)``. The drop is exact because dropped tokens are really
   dropped at eval (no zeroed stand-in the model never saw), and the ``1 + U`` masked variants of a video
   run as one batch. It is taken on the log-odds, not on ``p_c``: a probability drop is the log-odds drop
   times about ``p (1 - p)``, so a confident class's evidence looks negligible. After issue 12 (the
   multi-label loss summed over classes) the synthetic model predicts its correct actions at a median
   ``p = 0.97``, a run that moves the logit by 3 can drop ``p`` by 0.0003, and a probability threshold of
   0.005 named the true change for 60.7% of correctly predicted actions (the noisy set: 67.7%); on the
   same checkpoints the log-odds at 0.01 name 78.7% (82.1%). A unit is cited when its drop is at least
   ``ExplainConfig.min_attribution`` (in log-odds, default 0.01, chosen on held-out validation videos by
   ``experiments/tune_explanations.py``, never on test); the units cited on the object with the largest
   total attribution form the class's sentence.

Nothing in this depends on which relations change, or on the action: a relation family or a relation
enters only through its measured effect on the class score.

The record-level evidence below (every kept token named, ``ExplanationRecord.evidence``) stays as it was.

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

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor

from lvlm_var.batches import SceneGraphBatch
from lvlm_var.dtformer.gpo import JointSpaceEncoder
from lvlm_var.dtformer.laiar import LaIAR
from lvlm_var.dtformer.relation_encoders import SemanticRelationEncoder
from lvlm_var.explanation import ClassExplanation, EvidenceStep, ExplanationRecord

__all__ = [
    "ExplainConfig",
    "EvidenceUnit",
    "Naming",
    "TripletVocabulary",
    "attribute_units",
    "class_gradients",
    "evidence_units",
    "explain_classes",
    "explain_video",
]

SUBJECT_NAME = "person"

Naming = Literal["nearest", "contrast"]


@dataclass
class ExplainConfig:
    """How ``LaIARModule`` explains its predictions (the arguments of :func:`explain_video`).

    Attributes:
        top_k: predictions kept in each explanation record.
        relations_per_token: relations each kept token names (Action Genome annotates about three per pair:
            attention, spatial, contacting).
        min_run: temporal consistency: a relation must be named on at least this many consecutive kept
            tokens of a pair, and shorter gaps inside its run are bridged.
        naming: ``"nearest"`` (the paper) or ``"contrast"``: a kept token names the relations it is more
            similar to than its pair's other kept tokens.
        in_validation: also explain in validation (slower); test and predict always explain.
        classes: class-grounded evidence (``ExplanationRecord.classes``) for at most this many top
            classes ...
        min_probability: ... of at least this probability.
        min_attribution: a run of kept tokens is cited for a class when removing it lowers the class's
            log-odds by at least this (see the module docstring; 0.01 was the best of 0 / 0.01 / 0.02 /
            0.05 / 0.1 / 0.2 / 0.5 on the held-out validation videos of both synthetic sets).
    """

    top_k: int = 5
    relations_per_token: int = 3
    min_run: int = 1
    naming: Naming = "nearest"
    in_validation: bool = False
    classes: int = 3
    min_probability: float = 0.1
    min_attribution: float = 0.01

    def __post_init__(self) -> None:
        for name in ("top_k", "relations_per_token", "min_run", "classes"):
            if getattr(self, name) < 1:
                raise ValueError(f"ExplainConfig.{name} must be >= 1, got {getattr(self, name)}")
        if not 0.0 <= self.min_probability <= 1.0:
            raise ValueError(f"ExplainConfig.min_probability must be in [0, 1], got {self.min_probability}")
        if self.min_attribution < 0.0:
            raise ValueError(f"ExplainConfig.min_attribution must be >= 0, got {self.min_attribution}")
        if self.naming not in ("nearest", "contrast"):
            raise ValueError(f"ExplainConfig.naming must be 'nearest' or 'contrast', got {self.naming!r}")


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


@dataclass
class EvidenceUnit:
    """Consecutive kept tokens (in frame order) of one object that name the same relation.

    Attributes:
        object_index: the detected object class.
        relation: the relation of its tokens' nearest triplet (of their own object).
        start: first frame number.
        end: last frame number.
        positions: the ``(t, k)`` slots of its tokens.
        similarities: each token's cosine similarity to the named triplet.
    """

    object_index: int
    relation: str
    start: int
    end: int
    positions: list[tuple[int, int]] = field(default_factory=list)
    similarities: list[float] = field(default_factory=list)

    def mask(self, shape: tuple[int, int], device: torch.device) -> Tensor:
        """``(T, K)`` bool, True on the unit's tokens."""
        out = torch.zeros(shape, dtype=torch.bool, device=device)
        t, k = zip(*self.positions, strict=True)
        out[list(t), list(k)] = True
        return out


def evidence_units(
    vocabulary: TripletVocabulary,
    joint: Tensor,
    keep: Tensor,
    object_class: Tensor,
    frame_index: Tensor,
    gradient: Tensor | None = None,
    allowed: Tensor | None = None,
) -> list[EvidenceUnit]:
    """Group one video's kept tokens into :class:`EvidenceUnit` s.

    Args:
        vocabulary: the embedded triplet vocabulary.
        joint: ``(T, K, E)`` visual joint-space embeddings.
        keep: ``(T, K)`` selection (1 kept).
        object_class: ``(T, K)`` detected object class of each pair.
        frame_index: ``(T,)`` frame numbers.
        gradient: ``(T, K, E)`` gradient of the explained class's probability with respect to ``joint``:
            each token names the relation of largest gradient x input along its triplet (see the module
            docstring); ``None``: the nearest triplet.
        allowed: ``(O, R)`` bool, the relations a token of each object class may name (those the object
            shows in the training annotations); an object with none allowed may name any. ``None``: any.

    Returns:
        the units, ordered by object and then start frame; a unit's similarities are the cosine
        similarities of its tokens to the triplet they name.
    """
    frames, pairs = (keep > 0.5).nonzero(as_tuple=True)
    if not len(frames):
        return []
    detected = object_class[frames, pairs].long()
    similarities = vocabulary.relation_similarity(joint[frames, pairs], detected)
    if gradient is None:
        relation = similarities.argmax(dim=-1)
    else:
        table = vocabulary.embeddings.view(len(vocabulary.object_names), len(vocabulary.relation_names), -1)
        triplets = table[detected]
        along = torch.einsum("ne,nre->nr", joint[frames, pairs], triplets)
        slope = torch.einsum("ne,nre->nr", gradient[frames, pairs], triplets)
        relevance = along * slope
        if allowed is not None:
            own = allowed[detected]
            own = own | ~own.any(dim=1, keepdim=True)
            relevance = relevance.masked_fill(~own, float("-inf"))
        relation = relevance.argmax(dim=-1)
    similarity = similarities.gather(1, relation.unsqueeze(1)).squeeze(1)
    units: list[EvidenceUnit] = []
    last: dict[int, EvidenceUnit] = {}
    for i in torch.argsort(frame_index[frames], stable=True).tolist():
        obj, name = int(detected[i]), vocabulary.relation_names[int(relation[i])]
        frame = int(frame_index[frames[i]])
        unit = last.get(obj)
        if unit is None or unit.relation != name:
            unit = last[obj] = EvidenceUnit(obj, name, frame, frame)
            units.append(unit)
        unit.end = frame
        unit.positions.append((int(frames[i]), int(pairs[i])))
        unit.similarities.append(float(similarity[i]))
    return sorted(units, key=lambda u: (u.object_index, u.start))


def log_odds(logits: Tensor, multi_label: bool) -> Tensor:
    """``(..., C)`` log-odds ``log p_c - log(1 - p_c)`` of every class, computed from the logits (exact where
    ``p_c`` rounds to 1): the logits themselves for sigmoid heads, ``z_c - logsumexp_{j != c} z_j`` for a
    softmax over ``C >= 2`` classes."""
    if multi_label:
        return logits
    classes = logits.shape[-1]
    others = torch.eye(classes, dtype=torch.bool, device=logits.device)
    expanded = logits.unsqueeze(-2).expand(*logits.shape[:-1], classes, classes)
    return logits - torch.logsumexp(expanded.masked_fill(others, float("-inf")), dim=-1)


def class_gradients(
    model: LaIAR, video: SceneGraphBatch, keep: Tensor, classes: list[int], multi_label: bool
) -> Tensor:
    """Gradient of each class's log-odds with respect to the kept tokens' joint-space embeddings (the
    direction of the probability's gradient: the two differ by the factor ``p (1 - p)``).

    Runs under ``torch.inference_mode`` too (Lightning's test loop): the inputs are cloned out of it.

    Args:
        model: the LaIAR model (video branch).
        video: a one-row batch.
        keep: ``(T, K)`` the selection to score with (the selector is not run).
        classes: the classes, one backward pass for all (each on a row of its own).
        multi_label: sigmoid heads, else softmax (see :func:`log_odds`).

    Returns:
        ``(len(classes), T, K, E)``.
    """
    with torch.inference_mode(False), torch.enable_grad():
        rows = {k: v.clone() if isinstance(v, Tensor) else v for k, v in video.items()}
        relations = model.visual_encoder(
            rows["subject_feature"], rows["object_feature"], rows["union_feature"], rows["boxes"]
        )
        tokens, joint = model.visual_joint(relations, rows["mask"])
        tokens = tokens.detach().expand(len(classes), -1, -1, -1).clone().requires_grad_(True)
        mask = rows["mask"].expand(len(classes), -1, -1)
        former = model.video_former(tokens, mask, keep=(keep.clone() > 0.5).expand(len(classes), -1, -1))
        scores = log_odds(model.video_head(former.z), multi_label)
        picked = scores[torch.arange(len(classes)), torch.as_tensor(classes)].sum()
        (gradient,) = torch.autograd.grad(picked, tokens)
    # the token's own half is its joint-space embedding (the other half is the video's global context)
    return gradient[..., : joint.shape[-1]].detach()


@torch.no_grad()
def attribute_units(
    score: Callable[[Tensor], Tensor], keep: Tensor, units: list[EvidenceUnit]
) -> tuple[Tensor, Tensor]:
    """Exact leave-one-unit-out attribution for every class.

    Args:
        score: ``(V, T, K)`` bool keep masks -> ``(V, C)`` class scores of the video (``LaIARModule``:
            the log-odds, :func:`log_odds`).
        keep: ``(T, K)`` the model's own selection.
        units: the video's units.

    Returns:
        ``(C,)`` scores with every kept token, and ``(U, C)`` attributions (their drop when the unit is
        removed).
    """
    kept = keep > 0.5
    variants = [kept] + [kept & ~unit.mask(tuple(kept.shape), kept.device) for unit in units]
    scores = score(torch.stack(variants))
    return scores[0], scores[0] - scores[1:]


def explain_classes(
    units: list[EvidenceUnit],
    attribution: Tensor,
    probabilities: Tensor,
    class_indices: list[int],
    class_names: list[str],
    object_names: list[str],
    min_attribution: float,
) -> list[ClassExplanation]:
    """The cited evidence and sentence of each explained class.

    Args:
        units: the video's units.
        attribution: ``(U, C)`` from :func:`attribute_units`.
        probabilities: ``(C,)`` class probabilities.
        class_indices: the classes to explain.
        class_names: the ``C`` class names.
        object_names: the object class names.
        min_attribution: a unit is cited when its attribution (the drop in the class's score, the
            log-odds in ``LaIARModule``) is at least this.

    Returns:
        one :class:`ClassExplanation` per class, in ``class_indices`` order; its steps are the cited units,
        neighbours of one object naming the same relation merged (attributions summed).
    """
    explanations = []
    for c in class_indices:
        by_object: dict[int, list[EvidenceStep]] = {}
        for unit, value in zip(units, attribution[:, c].tolist(), strict=True):
            if value < min_attribution:
                continue
            steps = by_object.setdefault(unit.object_index, [])
            similarity = sum(unit.similarities) / len(unit.similarities)
            if steps and steps[-1].relation == unit.relation:
                steps[-1].end = unit.end
                steps[-1].attribution = (steps[-1].attribution or 0.0) + value
                steps[-1].score = (steps[-1].score + similarity) / 2
                continue
            name = object_names[unit.object_index]
            steps.append(
                EvidenceStep(
                    f"{SUBJECT_NAME}-{name}: {unit.relation}", unit.start, unit.end, similarity, value, name,
                    unit.relation,
                )
            )
        head = f"{class_names[c]} ({float(probabilities[c]):.2f}): "
        if by_object:
            main = max(by_object.values(), key=lambda steps: sum(s.attribution or 0.0 for s in steps))
            sentence = head + f"{SUBJECT_NAME}-{main[0].object} " + " -> ".join(
                f"{s.relation} (frames {s.start}-{s.end})" for s in main
            )
        else:
            sentence = head + f"no run of kept tokens carries it (every log-odds drop < {min_attribution})"
        evidence = sorted((s for steps in by_object.values() for s in steps), key=lambda s: (s.start, s.text))
        explanations.append(ClassExplanation(class_names[c], float(probabilities[c]), evidence, sentence))
    return explanations
