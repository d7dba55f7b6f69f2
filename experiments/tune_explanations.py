"""Choose LaIAR's attribution threshold (``explain.min_attribution``) on the validation split, not on test.

The threshold decides which runs of kept tokens an explanation cites (see
:mod:`lvlm_var.dtformer.explain`). This step explains the validation videos of a trained checkpoint once
per candidate threshold (``Trainer.predict`` over the validation loader, so nothing is fitted and the test
split is never read), scores each set against the synthetic ground truth
(:mod:`experiments.explanation_score`) and picks the threshold with the highest named-change rate (ties:
the larger threshold, which cites less). It needs a validation split that is not the test split: the data
module's ``val_fraction`` must be above 0 (``experiments/synthetic_laiar.yaml`` holds out 10% of the
training videos). Real data sets carry no ground-truth transition, so this is a synthetic-data step: use
its value there, or the default.

Usage::

    python -m experiments.tune_explanations runs/synthetic_laiar/checkpoints/laiar.ckpt \\
        [--thresholds 0 0.02 0.1 0.5] [--truth data/synthetic/action_genome/synthetic_truth.json]

then test with the chosen value: ``lvlm-var test ... --model.init_args.explain.min_attribution VALUE``.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from lightning import Trainer

from datamodules import ActionGenomeDataModule
from datamodules.synthetic.scene_graphs import read_synthetic_truth
from experiments.explanation_score import score_records
from lvlm_var.dtformer import LaIARModule
from lvlm_var.explanation import ExplanationRecord

__all__ = ["THRESHOLDS", "explain_validation", "tune_min_attribution", "main"]

THRESHOLDS: tuple[float, ...] = (0.0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5)


def explain_validation(module: LaIARModule, datamodule: ActionGenomeDataModule) -> list[ExplanationRecord]:
    """The module's explanation records of every validation video (its predict step, on the val loader)."""
    datamodule.prepare_data()
    datamodule.setup("validate")
    trainer = Trainer(accelerator="cpu", devices=1, logger=False, enable_progress_bar=False,
                      enable_model_summary=False)
    outputs = trainer.predict(module, dataloaders=datamodule.val_dataloader())
    return [record for batch in outputs for record in batch["explanations"]]


def tune_min_attribution(
    checkpoint: str | Path, thresholds: Sequence[float] = THRESHOLDS, truth: str | Path | None = None
) -> dict[str, object]:
    """Explain the validation split at each threshold and pick the best.

    Args:
        checkpoint: a ``LaIARModule`` checkpoint written by the CLI (its data module is restored from it).
        thresholds: the candidate ``explain.min_attribution`` values.
        truth: ``synthetic_truth.json``; default ``<ag_dir>/synthetic_truth.json`` of the checkpoint's data.

    Returns:
        ``rows`` (per threshold: ``threshold``, ``rate``, ``named``, ``correct``, ``cited_steps`` per
        explained class) and ``chosen`` (the threshold).

    Raises:
        ValueError: no thresholds, or the data module validates on the test split (``val_fraction`` 0).
    """
    if not thresholds:
        raise ValueError("tune_min_attribution: give at least one threshold")
    datamodule = ActionGenomeDataModule.load_from_checkpoint(checkpoint)
    if datamodule.val_fraction == 0.0:
        raise ValueError(
            f"{checkpoint}: its data module has val_fraction 0, so its validation split is the test split; "
            "tuning there would tune on test. Fit with --data.init_args.val_fraction 0.1 (or similar)"
        )
    transitions = read_synthetic_truth(truth or datamodule.ag_dir / "synthetic_truth.json")
    module = LaIARModule.load_from_checkpoint(checkpoint)
    rows = []
    for threshold in sorted(thresholds):
        module.explain_config.min_attribution = threshold
        records = explain_validation(module, datamodule)
        score = score_records(records, transitions)
        explained = [c for record in records for c in record.classes]
        rows.append(
            {
                "threshold": threshold,
                "rate": score.rate,
                "named": score.named,
                "correct": score.correct,
                "cited_steps": sum(len(c.evidence) for c in explained) / max(1, len(explained)),
            }
        )
    best = max(rows, key=lambda row: (row["rate"], row["threshold"]))
    return {"rows": rows, "chosen": best["threshold"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("--thresholds", type=float, nargs="+", default=list(THRESHOLDS))
    parser.add_argument("--truth", type=Path, default=None, help="synthetic_truth.json (default: the data's)")
    options = parser.parse_args(argv)
    report = tune_min_attribution(options.checkpoint, options.thresholds, options.truth)
    print(f"{'min_attribution':>16}{'named (val)':>14}{'cited steps':>13}")
    for row in report["rows"]:
        named = f"{100 * row['rate']:.1f}% of {row['correct']}"
        print(f"{row['threshold']:>16g}{named:>14}{row['cited_steps']:>13.2f}")
    print(f"chosen: explain.min_attribution = {report['chosen']:g}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
