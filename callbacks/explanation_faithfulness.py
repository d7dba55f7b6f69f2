"""``ExplanationFaithfulness``: does the cited evidence really carry the explained class's score?"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from lightning import Callback, LightningModule, Trainer
from lightning.pytorch.utilities import rank_zero_info
from torch import Tensor

from lvlm_var.explanation import CitedEvidence, select_rows

__all__ = ["ExplanationFaithfulness", "FaithfulnessScore", "measure_faithfulness"]

_SCORE_KEYS = (
    "comprehensiveness",
    "sufficiency",
    "random_comprehensiveness",
    "random_sufficiency",
    "log_comprehensiveness",
    "log_sufficiency",
    "random_log_comprehensiveness",
    "random_log_sufficiency",
)
_KEYS = (*_SCORE_KEYS, "cited_units", "candidate_units")
# _SCORE_KEYS are also averaged over the explanations that leave a candidate uncited: where every candidate
# is cited (a one-segment narrative), removing "as many random units" removes the same ones, and the ratio
# says nothing.


@dataclass
class FaithfulnessScore:
    """Faithfulness of one explained (row, class).

    Attributes:
        probability: the class probability with every candidate unit.
        comprehensiveness: its drop when the cited units are removed.
        sufficiency: the share of it kept with the cited units alone (``p(cited) / p(all)``).
        random_comprehensiveness: the drop when as many randomly drawn candidates are removed (mean over
            the draws).
        random_sufficiency: the share kept with those random candidates alone (mean over the draws).
        log_comprehensiveness: the drop in the class log-probability when the cited units are removed
            (``log p(all) - log p(without cited)``, nats): a confident class's drop does not vanish in it.
        log_sufficiency: ``log p(cited alone) - log p(all)`` (0: the cited units alone keep it all).
        random_log_comprehensiveness: ``log_comprehensiveness`` of the random subsets (mean over the draws).
        random_log_sufficiency: ``log_sufficiency`` of the random subsets (mean over the draws).
        cited_units: how many units are cited.
        candidate_units: how many the model used.
    """

    probability: float
    comprehensiveness: float
    sufficiency: float
    random_comprehensiveness: float
    random_sufficiency: float
    log_comprehensiveness: float
    log_sufficiency: float
    random_log_comprehensiveness: float
    random_log_sufficiency: float
    cited_units: int
    candidate_units: int


def _random_subset(candidates: Tensor, count: int, generator: torch.Generator) -> Tensor:
    flat = candidates.flatten().nonzero().flatten()
    chosen = flat[torch.randperm(len(flat), generator=generator)[:count].to(flat.device)]
    out = torch.zeros(candidates.numel(), dtype=torch.bool, device=candidates.device)
    out[chosen] = True
    return out.view_as(candidates)


@torch.no_grad()
def measure_faithfulness(
    score: Callable[[Any, Tensor], Tensor],
    batch: Any,
    items: list[CitedEvidence],
    draws: int,
    seed: int,
) -> list[FaithfulnessScore]:
    """Score every explanation of one batch with a single batched call of ``score``.

    Args:
        score: ``EvidenceScorer.score_with_evidence``: ``(batch, (V, *unit_shape) bool) -> (V, C)``.
        batch: the batch the items refer to (a dict of tensors / lists, one row per sample).
        items: the cited evidence of each explained (row, class); items citing nothing are skipped.
        draws: random subsets per item for the baseline.
        seed: the baseline's seed; item ``i`` of the batch draws from ``torch.Generator`` seeded with
            ``seed * 1_000_003 + i`` (the same batches give the same draws).

    Returns:
        one :class:`FaithfulnessScore` per item that cites at least one unit, in order. A probability that
        underflowed to 0 in the scorer's dtype counts as that dtype's smallest normal number in the logs.
    """
    rows: list[int] = []
    masks: list[Tensor] = []
    scored = [(i, item) for i, item in enumerate(items) if item.cited.any()]
    for i, item in scored:
        generator = torch.Generator().manual_seed(seed * 1_000_003 + i)
        cited = item.cited & item.candidates
        count = int(cited.sum())
        variants = [item.candidates, item.candidates & ~cited, cited]
        for _ in range(draws):
            subset = _random_subset(item.candidates, count, generator)
            variants += [item.candidates & ~subset, subset]
        rows += [item.row] * len(variants)
        masks += variants
    if not scored:
        return []
    probabilities = score(select_rows(batch, rows), torch.stack(masks))
    floor = torch.finfo(probabilities.dtype).tiny
    out = []
    per_item = 3 + 2 * draws
    for n, (_, item) in enumerate(scored):
        p = probabilities[n * per_item : (n + 1) * per_item, item.class_index].double().tolist()
        log_p = [math.log(max(value, floor)) for value in p]
        full = max(p[0], 1e-12)
        random_removed, random_only = p[3::2], p[4::2]
        out.append(
            FaithfulnessScore(
                probability=p[0],
                comprehensiveness=p[0] - p[1],
                sufficiency=p[2] / full,
                random_comprehensiveness=sum(p[0] - r for r in random_removed) / draws,
                random_sufficiency=sum(r / full for r in random_only) / draws,
                log_comprehensiveness=log_p[0] - log_p[1],
                log_sufficiency=log_p[2] - log_p[0],
                random_log_comprehensiveness=sum(log_p[0] - r for r in log_p[3::2]) / draws,
                random_log_sufficiency=sum(r - log_p[0] for r in log_p[4::2]) / draws,
                cited_units=int((item.cited & item.candidates).sum()),
                candidate_units=int(item.candidates.sum()),
            )
        )
    return out


class ExplanationFaithfulness(Callback):
    """Comprehensiveness and sufficiency of every test explanation, against a seeded random baseline.

    Reads ``cited_evidence`` (a list of :class:`~lvlm_var.explanation.CitedEvidence`) from each test step's
    outputs and re-scores the batch through the module's ``score_with_evidence`` (the
    :class:`~lvlm_var.explanation.EvidenceScorer` interface): with every candidate unit, without the cited
    ones, with the cited ones alone, and the same two for ``draws`` random subsets of as many candidates.
    Never changes training (it runs only in test, under ``no_grad``).

    Logged at the end of the test epoch (means over explained classes that cite at least one unit, summed
    over ranks first):

    * ``test/faithfulness_comprehensiveness``: drop in the class probability without the cited units;
    * ``test/faithfulness_sufficiency``: share of the class probability kept with the cited units alone;
    * ``test/faithfulness_random_comprehensiveness``, ``test/faithfulness_random_sufficiency``: the same
      for random subsets of the same size;
    * ``test/faithfulness_{,random_}log_{comprehensiveness,sufficiency}``: the same four in the class
      log-probability (nats): the drop ``log p(all) - log p(without)`` and ``log p(alone) - log p(all)``;
    * ``test/faithfulness_cited_units``, ``test/faithfulness_candidate_units``: units cited / used;
    * ``test/faithfulness_explanations``: explained classes scored; ``test/faithfulness_uncited``: those
      citing nothing (not in the means);
    * ``test/faithfulness_choice_*`` (the eight above) and ``test/faithfulness_choice_explanations``: the
      same means over the explanations that leave at least one candidate uncited (only the cited-vs-random
      ratio of these can differ from 1); absent when there are none.

    Args:
        output_path: JSON summary written on rank zero (``None``: none); the same numbers as logged.
        draws: random subsets per explanation.
        seed: seed of the random baseline (see :func:`measure_faithfulness`).

    Raises:
        ValueError: ``draws < 1``; at setup, a module without ``score_with_evidence``.
    """

    def __init__(self, output_path: str | Path | None = None, draws: int = 5, seed: int = 0) -> None:
        super().__init__()
        if draws < 1:
            raise ValueError(f"ExplanationFaithfulness.draws must be >= 1, got {draws}")
        self.output_path = Path(output_path) if output_path is not None else None
        self.draws = draws
        self.seed = seed
        self.summary: dict[str, float] = {}
        self._totals = torch.zeros(len(_KEYS) + 2 + len(_SCORE_KEYS) + 1, dtype=torch.float64)

    def setup(self, trainer: Trainer, pl_module: LightningModule, stage: str) -> None:
        if not callable(getattr(pl_module, "score_with_evidence", None)):
            raise ValueError(
                f"ExplanationFaithfulness: {type(pl_module).__name__} has no score_with_evidence(batch, "
                "keep_mask); it must implement lvlm_var.explanation.EvidenceScorer"
            )

    def on_test_epoch_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._totals.zero_()

    def on_test_batch_end(
        self, trainer: Trainer, pl_module: LightningModule, outputs: Any, batch: Any, batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        if not isinstance(outputs, Mapping) or "cited_evidence" not in outputs:
            raise ValueError(
                f"ExplanationFaithfulness: the test step of {type(pl_module).__name__} must return a dict "
                "with 'cited_evidence' (a list of CitedEvidence)"
            )
        items = outputs["cited_evidence"]
        scores = measure_faithfulness(
            pl_module.score_with_evidence, batch, items, self.draws, self.seed * 100_003 + batch_idx
        )
        choice = len(_KEYS) + 2
        for s in scores:
            self._totals[: len(_KEYS)] += torch.tensor([float(getattr(s, key)) for key in _KEYS])
            if s.cited_units < s.candidate_units:
                self._totals[choice : choice + len(_SCORE_KEYS)] += torch.tensor(
                    [float(getattr(s, key)) for key in _SCORE_KEYS]
                )
                self._totals[-1] += 1
        self._totals[len(_KEYS)] += len(scores)
        self._totals[len(_KEYS) + 1] += len(items) - len(scores)

    def on_test_epoch_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        totals = trainer.strategy.reduce(self._totals.to(trainer.strategy.root_device), reduce_op="sum").cpu()
        scored, uncited = float(totals[len(_KEYS)]), float(totals[len(_KEYS) + 1])
        summary = {key: float(totals[i]) / scored for i, key in enumerate(_KEYS)} if scored else {}
        summary.update(explanations=scored, uncited=uncited)
        with_choice = float(totals[-1])
        if with_choice:
            choice = len(_KEYS) + 2
            for i, key in enumerate(_SCORE_KEYS):
                summary[f"choice_{key}"] = float(totals[choice + i]) / with_choice
            summary["choice_explanations"] = with_choice
        self.summary = summary
        for key, value in summary.items():
            pl_module.log(f"test/faithfulness_{key}", value, rank_zero_only=True)
        if trainer.is_global_zero:
            if self.output_path is not None:
                self.output_path.parent.mkdir(parents=True, exist_ok=True)
                self.output_path.write_text(json.dumps(summary, indent=1, sort_keys=True) + "\n")
            figures = ", ".join(f"{key}={value:.3f}" for key, value in summary.items())
            rank_zero_info(f"Explanation faithfulness: {figures}")
