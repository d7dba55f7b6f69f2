"""`make ablation`: a row of the LaIAR tables is a real CLI run with the row's switches."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import pytest

from datamodules.synthetic.scene_graphs import write_synthetic_scene_graphs
from experiments.ablation import (
    EXPERIMENT,
    SCHEME_ROWS,
    SELECTION_ROWS,
    AblationRow,
    RowJob,
    _run_jobs,
    render,
    sweep_keep_threshold,
)


def test_rows_switch_what_their_table_says() -> None:
    assert SELECTION_ROWS["DT-Former w/o S,T"].overrides() == [
        "--model.init_args.model.dtformer.spatial_selection",
        "false",
        "--model.init_args.model.dtformer.temporal_selection",
        "false",
        "--model.init_args.loss.use_sim",
        "true",
        "--model.init_args.loss.use_tss",
        "true",
        "--model.init_args.loss.use_xm",
        "true",
    ]
    assert SCHEME_ROWS[(True, True, True)] is SELECTION_ROWS["DT-Former"]
    assert len({row.name for row in [*SELECTION_ROWS.values(), *SCHEME_ROWS.values()]}) == 9


def test_a_row_fits_tests_and_scores_its_explanations(tmp_path: Path) -> None:
    # the experiment's own model and loader on a 48-video set of the same generator: two training batches
    write_synthetic_scene_graphs(tmp_path / "data", seed=0, num_videos=48)
    row = AblationRow("no_scheme", sim=False, tss=False, xm=False)
    job = RowJob(row, str(tmp_path / "data"), tmp_path, 1, EXPERIMENT, threads=1)
    assert job.finished() is None
    result = job()
    # saved with what it was fitted with: --resume reads it back, another epoch count fits again
    assert job.finished() == result
    assert RowJob(row, str(tmp_path / "data"), tmp_path, 2, EXPERIMENT).finished() is None
    assert 0.0 <= result["test/mAP"] <= 1.0
    assert 0.0 < result["test/tokens_kept"] <= result["test/tokens_total"]
    assert 0.0 <= result["explanation_rate"] <= 1.0
    assert (tmp_path / "no_scheme" / "explanations.jsonl").stat().st_size > 0
    assert (tmp_path / "no_scheme" / "faithfulness.json").is_file() and "test/faithfulness_uncited" in result
    sweep = sweep_keep_threshold(result["checkpoint"], thresholds=(None, 0.999999))
    assert sweep[0]["mAP"] == pytest.approx(result["test/mAP"])
    assert sweep[0]["num"] == pytest.approx(result["test/tokens_kept"])
    assert sweep[1]["num"] < sweep[0]["num"]
    rows = {"mAP": result["test/mAP"], "num": result["test/tokens_kept"]}
    columns = {
        "explanation_rate": 0.5,
        "comprehensiveness": 0.4,
        "random_comprehensiveness": 0.1,
        "sufficiency": 0.8,
    }
    text = render(
        {
            "table1": [
                {
                    "method": "DT-Former",
                    **rows,
                    "tokens_total": result["test/tokens_total"],
                    **columns,
                }
            ],
            "table2": [{"sim": False, "tss": False, "xm": False, **rows, **columns}],
            "table3": sweep,
        }
    )
    assert f"{100 * result['test/mAP']:.1f}" in text and "50.0%" in text and "0.40 (0.10)" in text


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--epochs", "0"], "--epochs must be >= 1, got 0"),
        (["--jobs", "0"], "--jobs must be >= 1, got 0"),
        (["--experiment", "no/such.yaml"], "--experiment no/such.yaml: no such file"),
    ],
)
def test_bad_options_are_refused(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    from experiments.ablation import main

    with pytest.raises(SystemExit):
        main(argv)
    assert message in capsys.readouterr().err


def test_rows_run_in_parallel_processes_keep_their_names() -> None:
    jobs = {"a": partial(pow, 2, 3), "b": partial(pow, 3, 2), "c": partial(pow, 5, 1)}
    assert _run_jobs(jobs, 2) == {"a": 8, "b": 9, "c": 5} == _run_jobs(jobs, 1)
