"""Tables 1 and 2 of LaIAR (Wang et al., CVPR 2024) re-run on the synthetic scene graphs.

Every cell comes from a real run of ``experiments/synthetic_laiar.yaml`` through the Lightning CLI, with the
row's switches given as command-line overrides, tested (video branch only) on the test split:

* Table 1, DT-Former token selection: w/o S,T; w/o S; w/o T; full (S = spatial, T = temporal), all with the
  full learning scheme: test mAP, "Num" (the relation tokens kept per video), the explanation score and
  the faithfulness of the cited evidence (``callbacks.ExplanationFaithfulness``: comprehensiveness against
  that of as many random kept tokens, and sufficiency);
* Table 2, learning scheme: the paper's six rows of ``L_sim`` / ``L_tss`` / ``L_xm`` switches (full
  DT-Former): test mAP, Num, how often the explanations name the true relation transition
  (:mod:`experiments.explanation_score`) and the same faithfulness columns. Its first row, no scheme term,
  is the video branch trained alone (the language branch then shares nothing with it); its last row is
  Table 1's full row and runs once.
  The YAML's keep-ratio target stays on in every row: it belongs to the DT-Former's selection, not to the
  learning scheme, so each row is compared at about the same token budget;
* Table 3, the full model tested again at several inference keep thresholds (``eval_keep_threshold``):
  how mAP trades against tokens kept without retraining.

Usage (``make ablation``)::

    python -m experiments.ablation --data data/synthetic [--epochs N] [--jobs N] [--resume]
        [--experiment experiments/synthetic_laiar.yaml] [--out bench_results/ablation.json]

The rows are independent fits: ``--jobs N`` runs N of them at once, each in its own process with its share
of the CPU threads; every finished row is written to ``<runs>/<row>/row.json``, and ``--resume`` takes a
row from there instead of fitting it again (same experiment and epochs), so a long ablation cut off
halfway loses only the rows in flight.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import torch
from lightning import Trainer

from callbacks import TokenRetentionLogger
from datamodules import ActionGenomeDataModule
from experiments.explanation_score import score_explanations
from experiments.runner import fit_and_test
from lvlm_var.dtformer import LaIARConfig, LaIARModule

__all__ = [
    "AblationRow",
    "SELECTION_ROWS",
    "SCHEME_ROWS",
    "KEEP_THRESHOLDS",
    "run_row",
    "RowJob",
    "sweep_keep_threshold",
    "run_ablation",
    "render",
    "main",
]

EXPERIMENT = Path(__file__).with_name("synthetic_laiar.yaml")
# None: the default, each video keeps its expected training count of tokens
KEEP_THRESHOLDS: tuple[float | None, ...] = (None, 0.5, 0.6, 0.7, 0.8)


@dataclass(frozen=True)
class AblationRow:
    """One configuration of the ablation.

    Attributes:
        name: short id, also the run folder.
        spatial: spatial token selection (Table 1 "S").
        temporal: temporal token selection (Table 1 "T").
        sim: ``L_sim``.
        tss: ``L_tss``.
        xm: ``L_xm``.
    """

    name: str
    spatial: bool = True
    temporal: bool = True
    sim: bool = True
    tss: bool = True
    xm: bool = True

    def overrides(self) -> list[str]:
        """The CLI overrides that select this row."""
        switches = {
            "model.dtformer.spatial_selection": self.spatial,
            "model.dtformer.temporal_selection": self.temporal,
            "loss.use_sim": self.sim,
            "loss.use_tss": self.tss,
            "loss.use_xm": self.xm,
        }
        return [
            part
            for key, value in switches.items()
            for part in (f"--model.init_args.{key}", str(value).lower())
        ]


SELECTION_ROWS: dict[str, AblationRow] = {
    "DT-Former w/o S,T": AblationRow("no_selection", spatial=False, temporal=False),
    "DT-Former w/o S": AblationRow("temporal_only", spatial=False),
    "DT-Former w/o T": AblationRow("spatial_only", temporal=False),
    "DT-Former": AblationRow("full"),
}
SCHEME_ROWS: dict[tuple[bool, bool, bool], AblationRow] = {
    (False, False, False): AblationRow("no_scheme", sim=False, tss=False, xm=False),
    (True, False, False): AblationRow("sim", tss=False, xm=False),
    (False, True, False): AblationRow("tss", sim=False, xm=False),
    (False, False, True): AblationRow("xm", sim=False, tss=False),
    (True, False, True): AblationRow("sim_xm", tss=False),
    (True, True, True): SELECTION_ROWS["DT-Former"],
}


def run_row(
    row: AblationRow, data_dir: str, root: Path, epochs: int | None, experiment: Path = EXPERIMENT
) -> dict[str, Any]:
    """Fit ``experiment`` with the row's switches and test the last weights.

    Returns:
        the test metrics (``test/mAP``, ``test/tokens_kept``, ``test/tokens_total``,
        ``test/faithfulness_*`` ...), the share of
        correctly predicted actions whose explanation names the true transition (``explanation_rate``) and
        ``seconds`` (fit and test) and the ``checkpoint`` path.
    """
    run_dir = root / row.name
    callbacks = [
        {"class_path": "callbacks.TokenRetentionLogger"},
        {
            "class_path": "callbacks.ExplanationWriter",
            "init_args": {"output_path": "explanations.jsonl"},  # under default_root_dir: run_dir
        },
        {
            "class_path": "callbacks.ExplanationFaithfulness",
            "init_args": {"output_path": "faithfulness.json"},
        },
    ]
    overrides = [
        "--data.init_args.data_dir",
        data_dir,
        "--trainer.default_root_dir",
        str(run_dir),
        "--trainer.callbacks",
        json.dumps(callbacks),
        *row.overrides(),
    ]
    if epochs is not None:
        overrides += ["--trainer.max_epochs", str(epochs)]
    result = fit_and_test(experiment, overrides)
    truth = Path(data_dir) / "action_genome" / "synthetic_truth.json"
    explanations = score_explanations(run_dir / "explanations.jsonl", truth)
    return {
        **result.metrics,
        "explanation_rate": explanations.rate,
        "seconds": result.seconds,
        "checkpoint": result.cli.trainer.checkpoint_callback.best_model_path,
    }


@dataclass(frozen=True)
class RowJob:
    """One row to fit, where, and with how many CPU threads (``row.json`` under its run folder)."""

    row: AblationRow
    data_dir: str
    root: Path
    epochs: int | None
    experiment: Path
    threads: int | None = None

    @property
    def result_path(self) -> Path:
        return self.root / self.row.name / "row.json"

    def stamp(self) -> dict[str, Any]:
        return {"experiment": str(self.experiment), "epochs": self.epochs, "row": asdict(self.row)}

    def finished(self) -> dict[str, Any] | None:
        """The row's saved result if it was fitted with the same experiment, epochs and switches."""
        if not self.result_path.is_file():
            return None
        saved = json.loads(self.result_path.read_text())
        return saved["result"] if saved.get("stamp") == self.stamp() else None

    def __call__(self) -> dict[str, Any]:
        if self.threads is not None:
            torch.set_num_threads(self.threads)
        result = run_row(self.row, self.data_dir, self.root, self.epochs, self.experiment)
        self.result_path.write_text(json.dumps({"stamp": self.stamp(), "result": result}, indent=1) + "\n")
        return result


def _run_jobs(jobs: dict[str, Callable[[], Any]], processes: int) -> dict[str, dict[str, Any]]:
    """Every job's result, ``processes`` at a time (in this process when 1)."""
    if processes == 1:
        return {name: job() for name, job in jobs.items()}
    # spawn: a fresh interpreter per worker, so no torch thread pool or CLI state is inherited
    with ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = {name: pool.submit(job) for name, job in jobs.items()}
        return {name: future.result() for name, future in futures.items()}


def sweep_keep_threshold(
    checkpoint: str | Path, thresholds: Sequence[float | None] = KEEP_THRESHOLDS
) -> list[dict]:
    """Test one LaIAR checkpoint (with the data module it was trained on) at several inference keep
    thresholds: the accuracy / retention trade-off a user can choose after training.

    Returns:
        One row per threshold: ``threshold``, ``mAP``, ``num`` (tokens kept per video), ``tokens_total``.
    """
    datamodule = ActionGenomeDataModule.load_from_checkpoint(checkpoint)
    hparams = torch.load(checkpoint, map_location="cpu", weights_only=True)["hyper_parameters"]
    trained = LaIARConfig(**hparams["model"])
    rows = []
    for threshold in thresholds:
        config = replace(trained, dtformer=replace(trained.dtformer, eval_keep_threshold=threshold))
        # as plain data: a CLI checkpoint re-parses its arguments with the typed CLI parser
        model = LaIARModule.load_from_checkpoint(checkpoint, model=asdict(config))
        retention = TokenRetentionLogger()
        trainer = Trainer(
            accelerator="cpu",
            devices=1,
            logger=False,
            callbacks=[retention],
            enable_progress_bar=False,
            enable_model_summary=False,
        )
        metrics = trainer.test(model, datamodule=datamodule, verbose=False)[0]
        kept = retention.summary["test"]
        rows.append(
            {
                "threshold": threshold,
                "mAP": float(metrics["test/mAP"]),
                "num": kept["tokens_kept"],
                "tokens_total": kept["tokens_total"],
            }
        )
    return rows


def run_ablation(
    data_dir: str,
    root: Path,
    epochs: int | None,
    experiment: Path = EXPERIMENT,
    processes: int = 1,
    resume: bool = False,
) -> dict[str, object]:
    """Run every distinct row once (``processes`` at a time; with ``resume`` a row already saved under
    ``root`` is read back) and assemble both tables, then sweep the full model's keep threshold."""
    rows = _rows_by_name()
    threads = max(1, (os.cpu_count() or 1) // processes) if processes > 1 else None
    jobs = {name: RowJob(row, data_dir, root, epochs, experiment, threads) for name, row in rows.items()}
    results = {name: saved for name, job in jobs.items() if resume and (saved := job.finished()) is not None}
    results.update(_run_jobs({name: job for name, job in jobs.items() if name not in results}, processes))
    table1 = [
        {
            "method": label,
            "mAP": results[row.name]["test/mAP"],
            "num": results[row.name]["test/tokens_kept"],
            "tokens_total": results[row.name]["test/tokens_total"],
            **_explanation_columns(results[row.name]),
        }
        for label, row in SELECTION_ROWS.items()
    ]
    table2 = [
        {
            "sim": sim,
            "tss": tss,
            "xm": xm,
            "mAP": results[row.name]["test/mAP"],
            "num": results[row.name]["test/tokens_kept"],
            **_explanation_columns(results[row.name]),
        }
        for (sim, tss, xm), row in SCHEME_ROWS.items()
    ]
    return {
        "experiment": str(experiment),
        "epochs": epochs,
        "table1": table1,
        "table2": table2,
        "table3": sweep_keep_threshold(results[SELECTION_ROWS["DT-Former"].name]["checkpoint"]),
        "runs": {name: {"row": asdict(row), **results[name]} for name, row in rows.items()},
    }


_FAITHFULNESS = ("comprehensiveness", "random_comprehensiveness", "sufficiency")


def _explanation_columns(result: dict[str, Any]) -> dict[str, float]:
    """The explanation score and the faithfulness figures of one run (NaN where nothing was cited)."""
    columns = {"explanation_rate": result["explanation_rate"]}
    columns.update({key: result.get(f"test/faithfulness_{key}", float("nan")) for key in _FAITHFULNESS})
    return columns


def _explanation_cells(row: dict[str, Any]) -> str:
    """``Explained  Comp (random)  Suff`` cells of a rendered row."""
    comprehensiveness = f"{row['comprehensiveness']:.2f} ({row['random_comprehensiveness']:.2f})"
    return f"{100 * row['explanation_rate']:>10.1f}%{comprehensiveness:>16}{row['sufficiency']:>7.2f}"


def _rows_by_name() -> dict[str, AblationRow]:
    """Every distinct row once (Table 2's last row is Table 1's full row)."""
    return {row.name: row for row in [*SELECTION_ROWS.values(), *SCHEME_ROWS.values()]}


def render(report: dict[str, object]) -> str:
    """The tables as text: Tables 1 and 2 in the paper's layout, then the keep-threshold sweep."""
    lines = [
        "Table 1. DT-Former token selection (synthetic test split)",
        f"{'Method':<20}{'mAP':>8}{'Num':>14}{'Explained':>11}{'Comp (random)':>16}{'Suff':>7}",
    ]
    for row in report["table1"]:
        num = f"{row['num']:.1f} / {row['tokens_total']:.1f}"
        lines.append(f"{row['method']:<20}{100 * row['mAP']:>8.1f}{num:>14}{_explanation_cells(row)}")
    lines += [
        "",
        "Table 2. Learning scheme (synthetic test split; first row = the video branch trained alone)",
        "w/ L_sim  w/ L_tss  w/ L_xm      mAP     Num  Explained   Comp (random)   Suff",
    ]
    for row in report["table2"]:
        marks = "".join(f"{'✓' if row[key] else '-':<10}" for key in ("sim", "tss", "xm"))
        lines.append(f"{marks}{100 * row['mAP']:>6.1f}{row['num']:>8.1f}{_explanation_cells(row)}")
    lines += [
        "",
        "Table 3. Inference keep threshold of the full model (no retraining)",
        f"{'threshold':<12}{'mAP':>8}{'Num':>14}",
    ]
    for row in report["table3"]:
        num = f"{row['num']:.1f} / {row['tokens_total']:.1f}"
        threshold = "expected" if row["threshold"] is None else row["threshold"]
        lines.append(f"{threshold:<12}{100 * row['mAP']:>8.1f}{num:>14}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default="data/synthetic", help="the synthetic data root")
    parser.add_argument("--epochs", type=int, default=None, help="override max_epochs of every run")
    parser.add_argument("--runs", type=Path, default=Path("runs/ablation"), help="folder of the runs")
    parser.add_argument("--out", type=Path, default=Path("bench_results/ablation.json"))
    parser.add_argument("--experiment", type=Path, default=EXPERIMENT, help="the LaIAR YAML every row fits")
    parser.add_argument("--jobs", type=int, default=1, help="rows fitted at once, each in its own process")
    parser.add_argument("--resume", action="store_true", help="reuse rows already saved under --runs")
    options = parser.parse_args(argv)
    if options.epochs is not None and options.epochs < 1:
        parser.error(f"--epochs must be >= 1, got {options.epochs}")
    if options.jobs < 1:
        parser.error(f"--jobs must be >= 1, got {options.jobs}")
    if not options.experiment.is_file():
        parser.error(f"--experiment {options.experiment}: no such file")
    report = run_ablation(
        options.data, options.runs, options.epochs, options.experiment, options.jobs, options.resume
    )
    options.out.parent.mkdir(parents=True, exist_ok=True)
    options.out.write_text(json.dumps(report, indent=1) + "\n")
    print(render(report))
    print(f"-> {options.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
