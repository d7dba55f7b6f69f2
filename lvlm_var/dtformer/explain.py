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

Every kept token is also named on its own, for the record-level evidence
(:mod:`lvlm_var.dtformer.kept_token_naming`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import Tensor

from lvlm_var.batches import SceneGraphBatch
from lvlm_var.dtformer.kept_token_naming import SUBJECT_NAME, Naming, TripletVocabulary
from lvlm_var.dtformer.laiar import LaIAR
from lvlm_var.explanation import ClassExplanation, EvidenceStep

__all__ = [
    "ExplainConfig",
    "EvidenceUnit",
    "attribute_units",
    "class_gradients",
    "evidence_units",
    "explain_classes",
]


@dataclass
class ExplainConfig:
    """How ``LaIARModule`` explains its predictions: every kept token named, and class-grounded evidence.

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
        scores = log_odds(former.read(model.video_head), multi_label)
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
                    f"{SUBJECT_NAME}-{name}: {unit.relation}",
                    unit.start,
                    unit.end,
                    similarity,
                    value,
                    name,
                    unit.relation,
                )
            )
        head = f"{class_names[c]} ({float(probabilities[c]):.2f}): "
        if by_object:
            main = max(by_object.values(), key=lambda steps: sum(s.attribution or 0.0 for s in steps))
            sentence = (
                head
                + f"{SUBJECT_NAME}-{main[0].object} "
                + " -> ".join(f"{s.relation} (frames {s.start}-{s.end})" for s in main)
            )
        else:
            sentence = head + f"no run of kept tokens carries it (every log-odds drop < {min_attribution})"
        evidence = sorted((s for steps in by_object.values() for s in steps), key=lambda s: (s.start, s.text))
        explanations.append(ClassExplanation(class_names[c], float(probabilities[c]), evidence, sentence))
    return explanations
