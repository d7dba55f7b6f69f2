"""`lvlm-var report`: the HTML page of a real tiny run, its cards, and the page in headless Chromium."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from callbacks.report import ReportInputError, read_run, write_report
from callbacks.report.clip_view import clip_view
from lvlm_var.cli import main, run_lightning_cli

EXPERIMENTS = Path(__file__).resolve().parents[1] / "experiments"


@pytest.fixture(scope="module")
def laiar_run(synthetic_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-epoch LaIAR fit + test on the synthetic scene graphs, everything under one default_root_dir."""
    run_dir = tmp_path_factory.mktemp("laiar_run")
    common = [
        "--config",
        str(EXPERIMENTS / "synthetic_laiar.yaml"),
        "--data.init_args.data_dir",
        str(synthetic_root),
        "--trainer.default_root_dir",
        str(run_dir),
        "--trainer.enable_progress_bar",
        "false",
    ]
    run_lightning_cli(
        [
            "fit",
            *common,
            "--trainer.max_epochs",
            "2",
            "--trainer.limit_train_batches",
            "2",
            "--trainer.limit_val_batches",
            "1",
        ]
    )
    run_lightning_cli(["test", *common, "--trainer.limit_test_batches", "1"])
    return run_dir


def test_report_of_a_laiar_run_holds_every_section(
    laiar_run: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", str(laiar_run)]) == 0
    path = laiar_run / "report.html"
    assert f"report: {path}" in capsys.readouterr().out
    html = path.read_text()
    records = (laiar_run / "explanations.jsonl").read_text().splitlines()
    assert html.count('<div class="card ') == len(records) > 0
    for section in (
        "Test metrics",
        "Metrics over epochs",
        "Average precision per class",
        "Token retention",
        "Clips",
    ):
        assert f"<h2>{section}</h2>" in html
    assert "worst classes: " in html and "a lower bound: the records list 5 predictions each" in html
    assert html.count("data:image/svg+xml;base64,") == 3  # metrics, per-class AP, token retention
    assert 'class="run cited"' in html and 'class="kept"' in html  # relation timelines with a transition
    assert "test/mAP" in html and "lvlm_var.dtformer.LaIARModule" in html
    # Self-contained: no resource is fetched at view time.
    assert not re.search(r'(src|href)="(https?:)?//', html)


def test_report_reads_schema_2_records_and_draws_key_poses(synthetic_root: Path, tmp_path: Path) -> None:
    """Single-label LVLM-VAR records over real synthetic NTU files: confusion matrix, key poses, cited
    segments (schema 2 names them per predicted class)."""
    names = sorted(p.stem for p in (synthetic_root / "ntu").rglob("*.skeleton"))[:2]
    segments = [
        {"text": "right hand rises", "start": 0, "end": 3},
        {"text": "right hand waves", "start": 4, "end": 7},
    ]
    records = [
        {
            "schema": 2,
            "sample_id": names[0],
            "method": "lvlm-var",
            "ground_truth": ["wave"],
            "predictions": [
                {"name": "wave", "score": 0.9, "evidence": segments[1:], "sentence": "wave because it waves"},
                {"name": "salute", "score": 0.1, "evidence": segments[:1]},
            ],
        },
        {
            "sample_id": names[1],
            "method": "lvlm-var",
            "ground_truth": ["salute"],
            "evidence": segments,
            "predictions": [["wave", 0.6], ["salute", 0.4]],
            "text": "wave because right hand waves",
        },
    ]
    (tmp_path / "explanations.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    (tmp_path / "config.yaml").write_text(f"data:\n  init_args:\n    data_dir: {synthetic_root / 'ntu'}\n")
    html = write_report(tmp_path).read_text()
    assert "<h2>Confusion matrix</h2>" in html and "worst classes (top-1 correct / clips): salute 0/1" in html
    assert html.count('class="pose"') == 16  # 8 key poses per clip
    assert html.count('<li class="cited">right hand waves') == 2
    assert "cited by the explanation of the top prediction" in html
    assert "segments the explanation text names" in html
    view = clip_view(records[0])
    assert view.sentence == "wave because it waves" and view.correct and len(view.steps) == 2


def test_report_names_the_file_and_line_of_a_bad_record(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "explanations.jsonl").write_text('{"predictions": []}\n[1, 2]\n')
    with pytest.raises(
        ReportInputError, match=r"explanations.jsonl line 2: expected a JSON object, got list"
    ):
        read_run(tmp_path)
    assert main(["report", str(tmp_path / "missing")]) == 1
    assert "run folder" in capsys.readouterr().err


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def test_report_loads_in_headless_chromium(laiar_run: Path, tmp_path: Path) -> None:
    """The page opens without console errors, its script runs (the filter line is filled) and the
    screenshot is not blank."""
    browser = _chromium()
    if browser is None:
        pytest.skip("no chromium on PATH (Debian: apt-get install chromium; .ci/run installs it)")
    from PIL import Image

    page = write_report(laiar_run, tmp_path / "report.html").as_uri()
    flags = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        "--enable-logging=stderr",
        "--v=0",
        "--window-size=1200,1600",
    ]
    dom = subprocess.run([*flags, "--dump-dom", page], capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    console = [line for line in dom.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    assert not console, "\n".join(console)
    shown = re.search(r'<span id="shown">(\d+) of (\d+) clips shown</span>', dom.stdout)
    assert shown and shown.group(1) == shown.group(2) != "0"
    screenshot = tmp_path / "report.png"
    shot = subprocess.run(
        [*flags, f"--screenshot={screenshot}", page], capture_output=True, text=True, timeout=120
    )
    assert shot.returncode == 0 and screenshot.is_file(), shot.stderr[-2000:]
    image = Image.open(screenshot).convert("L")
    low, high = image.getextrema()
    assert (
        high - low > 100 and sum(1 for count in image.histogram() if count) > 20
    )  # text and plots, not blank
