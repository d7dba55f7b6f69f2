"""Compare the LVLM classifier's citation rules on training clips (never the test split): which segments an
explanation should cite so that they are the evidence the classifier used.

For each rule the script cites segments of the same batches and measures, with
``callbacks.explanation_faithfulness.measure_faithfulness`` (the ``ExplanationFaithfulness`` measure),
how much the predicted class's log-probability drops when the cited segments are removed against as many
random segments, over all clips and over the clips whose narrative leaves a segment uncited. The rules:
the LLM's generated citations (``explanation_source: generation``) and leave-one-segment-out attribution
(:mod:`lvlm_var.lvlm.attribution`) on the raw class log-likelihood or on the class log-probability, the
latter at several ``min_attribution`` / ``max_cited_segments`` (a probability drop ranks the segments of one
class exactly as the log-probability drop does, so it is not a rule of its own). The synthetic YAML
validates on the test split (``val_fraction: 0``), so the training clips (augmented, as in training) are
the clips that are not test.

Usage (in a run folder of ``make seeds``, whose YAML paths are relative to it)::

    python -m experiments.lvlm_citations runs/synthetic_lvlm/checkpoints/lvlm.ckpt \\
        --data.init_args.data_dir data/synthetic/ntu [--clips 128]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

import torch
from lightning import seed_everything

from callbacks.explanation_faithfulness import FaithfulnessScore, measure_faithfulness
from lvlm_var.cli import run_lightning_cli
from lvlm_var.lvlm.attribution import cite_attributed, segment_attribution, segment_evidence
from lvlm_var.lvlm.module import LVLMClassifierModule

__all__ = ["RULES", "compare_citations", "main"]

LVLM_CONFIG = Path(__file__).resolve().parent / "synthetic_lvlm.yaml"
# name -> (attributed quantity, min_attribution, max_cited_segments); None: the generated citations
RULES: dict[str, tuple[str, float, int] | None] = {
    "generation": None,
    "log-likelihood, top 1": ("log_likelihood", 0.0, 1),
    "log-probability, top 1": ("log_probability", 0.0, 1),
    "log-probability > 0.1, at most 3": ("log_probability", 0.1, 3),
    "log-probability > 0.5, at most 3": ("log_probability", 0.5, 3),
    "log-probability > 1.0, at most 3": ("log_probability", 1.0, 3),
}
_QUANTITIES = {
    "log_likelihood": lambda s: s,
    "log_probability": lambda s: s.log_softmax(-1),
}

_KEYS = ("log_comprehensiveness", "random_log_comprehensiveness", "comprehensiveness",
         "random_comprehensiveness", "log_sufficiency", "sufficiency", "cited_units")
_NAN = float("nan")


def _summary(scores: list[FaithfulnessScore]) -> dict[str, float]:
    out: dict[str, float] = {"explanations": len(scores)}
    with_choice = [s for s in scores if s.cited_units < s.candidate_units]
    for prefix, subset in (("", scores), ("choice_", with_choice)):
        out[f"{prefix}explanations"] = len(subset)
        for key in _KEYS:
            out[f"{prefix}{key}"] = statistics.fmean(getattr(s, key) for s in subset) if subset else _NAN
        random = out[f"{prefix}random_log_comprehensiveness"]
        out[f"{prefix}log_ratio"] = out[f"{prefix}log_comprehensiveness"] / random if random else _NAN
    return out


@torch.no_grad()
def compare_citations(
    module: LVLMClassifierModule, batches: list[dict[str, Any]], draws: int = 3, seed: int = 0
) -> dict[str, dict[str, float]]:
    """Faithfulness of every rule of :data:`RULES` on ``batches`` (the same random draws for all)."""
    scores: dict[str, list[FaithfulnessScore]] = {name: [] for name in RULES}
    seconds = dict.fromkeys(RULES, 0.0)
    for index, batch in enumerate(batches):
        narratives = module.narratives(batch["skeleton"])
        prompts = [module.prompts.encode_prompt(n) for n in narratives]
        full = module.score(prompts)
        preds = full.argmax(-1).tolist()
        width = max(len(n.segments) for n in narratives)
        for name, rule in RULES.items():
            start = time.perf_counter()
            if rule is None:
                citations = module.generated_citations(narratives, prompts, full)
            else:
                quantity, threshold, most = rule
                drops = segment_attribution(
                    module.score_narratives, narratives, full, preds, _QUANTITIES[quantity]
                )
                citations = [cite_attributed(d, threshold, most) for d in drops]
            seconds[name] += time.perf_counter() - start
            items = [
                segment_evidence(row, preds[row], cited, narrative, width)
                for row, (narrative, cited) in enumerate(zip(narratives, citations, strict=True))
            ]
            score = module.score_with_evidence
            scores[name] += measure_faithfulness(score, batch, items, draws, seed + index)
    return {name: {**_summary(scores[name]), "seconds": seconds[name]} for name in RULES}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("--clips", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    options, overrides = parser.parse_known_args(argv)
    seed_everything(options.seed, workers=True)
    cli = run_lightning_cli(["--config", str(LVLM_CONFIG), *overrides], run=False)
    module, datamodule = cli.model, cli.datamodule
    module.configure_model()
    state = torch.load(options.checkpoint, map_location="cpu", weights_only=True)["state_dict"]
    module.load_state_dict(state)
    module.eval()
    datamodule.prepare_data()
    datamodule.setup("fit")
    batches = []
    for batch in datamodule.train_dataloader():
        batches.append(batch)
        if sum(len(b["name"]) for b in batches) >= options.clips:
            break
    report = compare_citations(module, batches, seed=options.seed)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
