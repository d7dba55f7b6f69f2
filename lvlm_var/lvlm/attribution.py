"""Which narrative segments the classifier used: exact leave-one-segment-out on the class log-probability.

A segment's attribution for class ``c`` is how much ``log p(c)`` (the log-softmax over the class list of
the class log-likelihoods, what the prediction is the arg-max of) drops when the LLM reads the narrative
without that segment. Every clip of a batch with each of its segments left out is one prompt list, scored
in one call (the prompt key/value cache of :func:`~lvlm_var.lvlm.scoring.score_classes` makes the class
continuations cheap).

Why leave-one-out on the log-probability, and one segment: measured with ``experiments/lvlm_citations.py``
on 64 training clips each of seeds 0 and 1 of ``make seeds`` (never the test split). The ratio is the drop
in the predicted class's log-probability when the cited segments are removed over that of as many random
segments, over the clips whose narrative leaves a segment uncited: the LLM's generated citations 1.73x /
0.92x; the segment whose removal costs most 3.18x / 4.70x (the raw class log-likelihood, not normalised
over the classes, ranks almost the same: 3.17x / 4.67x; a probability drop ranks one class's segments
exactly as its log-probability drop does). Citing also the other segments whose removal costs more than
0.1 nats (at most 3) gave 1.78x / 2.48x, more than 1 nat 3.18x / 3.30x: the segments interact (on seed 0,
removing the top segment with the others lowered the class by 0.47 nats on average, the top one alone by
0.64) while the random baseline removes as many. Hence the defaults: ``max_cited_segments`` 1, and
``min_attribution`` 1 nat for whoever wants more.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor

from lvlm_var.explanation import CitedEvidence
from lvlm_var.vst.narrative import ActionNarrative

__all__ = ["leave_one_segment_out", "segment_attribution", "cite_attributed", "segment_evidence"]


def leave_one_segment_out(narratives: Sequence[ActionNarrative]) -> list[ActionNarrative]:
    """Every narrative once without each of its segments: clip 0 without segment 0, 1, ..., then clip 1...

    Returns:
        ``sum(len(n.segments))`` narratives (a one-segment clip's variant is the empty narrative).
    """
    return [
        ActionNarrative(n.segments[:i] + n.segments[i + 1 :])
        for n in narratives
        for i in range(len(n.segments))
    ]


def _log_probability(log_likelihoods: Tensor) -> Tensor:
    return log_likelihoods.log_softmax(-1)


def segment_attribution(
    score: Callable[[list[ActionNarrative]], Tensor],
    narratives: Sequence[ActionNarrative],
    scores: Tensor,
    classes: Sequence[int],
    quantity: Callable[[Tensor], Tensor] = _log_probability,
) -> list[Tensor]:
    """Leave-one-segment-out drops in the log-probability of each clip's class ``classes[b]``.

    Args:
        score: narratives -> ``(N, C)`` class log-likelihoods (the classifier's own scoring); called once.
        narratives: ``B`` narratives.
        scores: ``(B, C)`` class log-likelihoods of the whole narratives.
        classes: the class explained per clip (the prediction).
        quantity: ``(N, C)`` float64 log-likelihoods -> the ``(N, C)`` class score whose drop is the
            attribution; the log-softmax (see the module docstring; ``experiments/lvlm_citations.py``
            compares others).

    Returns:
        per clip, ``(S_b,)`` float64: ``log p(c | all) - log p(c | all but segment s)``; positive where the
        segment speaks for the class.
    """
    variants = quantity(score(leave_one_segment_out(narratives)).double())
    full = quantity(scores.double())
    drops, start = [], 0
    for row, (narrative, c) in enumerate(zip(narratives, classes, strict=True)):
        end = start + len(narrative.segments)
        drops.append(full[row, c] - variants[start:end, c].to(full.device))
        start = end
    return drops


def cite_attributed(drops: Tensor, min_attribution: float, max_segments: int) -> list[int]:
    """The segments an explanation cites: those whose removal lowers the class log-probability by more
    than ``min_attribution`` nats, the ``max_segments`` largest drops at most and the largest at least
    (a clip always has a reason), in temporal order.

    Args:
        drops: ``(S,)`` attributions of one clip's segments (:func:`segment_attribution`), ``S >= 1``.
        min_attribution: the threshold in nats.
        max_segments: the most segments cited.

    Raises:
        ValueError: ``drops`` is empty.
    """
    if drops.numel() == 0:
        raise ValueError("cannot cite segments of an empty narrative")
    order = sorted(range(len(drops)), key=lambda i: (-float(drops[i]), i))
    chosen = [i for i in order[:max_segments] if float(drops[i]) > min_attribution] or order[:1]
    return sorted(chosen)


def segment_evidence(
    row: int, class_index: int, cited: Sequence[int], narrative: ActionNarrative, width: int
) -> CitedEvidence:
    """What the faithfulness measure removes for one clip: segments ``cited`` of ``narrative`` among its
    segments, as ``(width,)`` masks (``width`` the batch's longest narrative)."""
    mask = torch.zeros(width, dtype=torch.bool)
    mask[list(cited)] = True
    return CitedEvidence(row, class_index, mask, torch.arange(width) < len(narrative.segments))
