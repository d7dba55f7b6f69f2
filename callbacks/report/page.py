"""``write_report``: one self-contained HTML page (inline SVG, CSS and a few lines of JS) of a run."""

from __future__ import annotations

import json
from html import escape
from pathlib import Path
from typing import Any

from .cards import narrative_timeline, pose_strip, relation_timeline
from .class_scores import class_average_precision, confusion, is_single_label
from .clip_view import ClipView, clip_view
from .plots import class_ap_plot, confusion_plot, metrics_plot, retention_plot
from .run_outputs import RunOutputs, read_run

__all__ = ["write_report", "render_report"]

_STYLE = """
body{font-family:system-ui,sans-serif;margin:24px;max-width:1100px;color:#222}
h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:13px}
td,th{padding:2px 10px;border-bottom:1px solid #eee;text-align:left}
img{max-width:100%}.muted{color:#777}.legend{font-size:11px;color:#555;margin:2px 0}
.card{border:1px solid #ddd;border-radius:6px;padding:8px 12px;margin:10px 0}
.card.wrong{border-left:5px solid #d62728}.card.correct{border-left:5px solid #2ca02c}
.card h3{font-size:14px;margin:2px 0}.run.cited rect{stroke:#d62728;stroke-width:2.5}
.kept{fill:#333}.transition{stroke:#d62728;stroke-width:2;stroke-dasharray:3 2}
.pose line{stroke:#444;stroke-width:1.5}.segments{font-size:12px;columns:2}
.segments .cited{font-weight:bold;color:#d62728}
#controls{position:sticky;top:0;background:#fff;padding:6px 0;border-bottom:1px solid #eee}
"""

# Filters the cards by class and by correct / wrong; the counts line says what is shown.
_SCRIPT = """
function applyFilter(){
  var cls=document.getElementById('class-filter').value, ok=document.getElementById('correct-filter').value;
  var cards=document.querySelectorAll('.card'), shown=0;
  cards.forEach(function(card){
    var classes=JSON.parse(card.dataset.classes);
    var visible=(cls===''||classes.indexOf(cls)>=0)&&(ok===''||card.dataset.correct===ok);
    card.style.display=visible?'':'none'; if(visible){shown++;}
  });
  document.getElementById('shown').textContent=shown+' of '+cards.length+' clips shown';
}
document.getElementById('class-filter').addEventListener('change',applyFilter);
document.getElementById('correct-filter').addEventListener('change',applyFilter);
applyFilter();
"""


def _model_name(config: dict[str, Any]) -> str:
    model = config.get("model")
    return str(model.get("class_path", "?")) if isinstance(model, dict) else "?"


def _data_dir(config: dict[str, Any]) -> Path | None:
    data = config.get("data")
    init = data.get("init_args") if isinstance(data, dict) else None
    value = init.get("data_dir") if isinstance(init, dict) else None
    return Path(value) if isinstance(value, str) else None


def _skeleton_files(data_dir: Path | None, views: list[ClipView]) -> dict[str, Path]:
    if data_dir is None or not data_dir.is_dir() or not any(v.method == "lvlm-var" for v in views):
        return {}
    wanted = {view.sample_id for view in views}
    return {path.stem: path for path in data_dir.rglob("*.skeleton") if path.stem in wanted}


def _pose_html(path: Path | None) -> str:
    if path is None:
        return '<p class="muted">skeleton file not found under the run\'s data_dir</p>'
    from datamodules.body_selection import load_ntu_clip
    from datamodules.formats.errors import DataFormatError
    from lvlm_var.skeleton_layout import layout_for_num_joints

    try:
        clip = load_ntu_clip(path)
        return pose_strip(clip.joints, layout_for_num_joints(clip.joints.shape[2]).bones)
    except (DataFormatError, KeyError) as error:
        return f'<p class="muted">{escape(str(error))}</p>'


def _card(view: ClipView, skeletons: dict[str, Path]) -> str:
    predictions = ", ".join(f"{escape(name)} ({score:.2f})" for name, score in view.predictions[:3])
    verdict = "correct" if view.correct else "wrong"
    if view.method == "laiar":
        drawing = relation_timeline(view)
    else:
        drawing = _pose_html(skeletons.get(view.sample_id)) + narrative_timeline(view)
    classes = json.dumps(sorted(set(view.ground_truth) | ({view.predicted} if view.predicted else set())))
    return (
        f'<div class="card {verdict}" data-classes="{escape(classes)}" data-correct="{verdict}">'
        f'<h3>{escape(view.sample_id)} <span class="muted">({verdict})</span></h3>'
        f"<div>predicted: {predictions}</div><div>truth: {escape(', '.join(view.ground_truth) or '-')}</div>"
        f'<div class="muted">{escape(view.sentence)}</div>{drawing}</div>'
    )


def _image(uri: str | None, alt: str) -> str:
    return (
        f'<img alt="{escape(alt)}" src="{uri}">' if uri else f'<p class="muted">no {escape(alt)} logged</p>'
    )


def _class_section(views: list[ClipView]) -> str:
    if not views:
        return '<p class="muted">no explanation records (run test or predict with an ExplanationWriter)</p>'
    if is_single_label(views):
        result = confusion(views)
        worst = "; ".join(f"{escape(name)} {hits}/{total}" for name, hits, total in result.worst())
        return f"<h2>Confusion matrix</h2><p>worst classes (top-1 correct / clips): {worst}</p>" + _image(
            confusion_plot(result), "confusion matrix"
        )
    result = class_average_precision(views)
    worst = "; ".join(f"{escape(name)} {ap:.3f}" for name, ap in result.worst())
    mean = sum(result.ap.values()) / max(len(result.ap), 1)
    note = (
        "exact: every record scores every class"
        if result.complete
        else (
            f"a lower bound: the records list {result.listed} predictions each, and a class outside a clip's "
            "list counts as ranked last (write every score with a larger explain.top_k for exact APs)"
        )
    )
    return (
        f"<h2>Average precision per class</h2><p>mean over {len(result.ap)} classes {mean:.3f} "
        f"({note}); worst classes: {worst}</p>" + _image(class_ap_plot(result), "per-class AP")
    )


def render_report(outputs: RunOutputs, max_cards: int = 200) -> str:
    """The HTML text of the report of ``outputs`` (at most ``max_cards`` clip cards, wrong ones first)."""
    views = [clip_view(record) for record in outputs.explanations]
    shown = sorted(views, key=lambda v: (v.correct, v.sample_id))[:max_cards]
    skeletons = _skeleton_files(_data_dir(outputs.config), shown)
    class_names = sorted(
        {name for v in shown for name in v.ground_truth} | {v.predicted for v in shown if v.predicted}
    )
    options = "".join(f'<option value="{escape(name)}">{escape(name)}</option>' for name in class_names)
    tests = "".join(
        f"<tr><td>{escape(k)}</td><td>{v:.4f}</td></tr>" for k, v in sorted(outputs.test_metrics.items())
    )
    correct = sum(view.correct for view in views)
    sources = "".join(f"<li>{escape(str(path))}</li>" for path in outputs.sources)
    truncated = (
        f'<span class="muted">(the first {len(shown)} of {len(views)}, wrong ones first)</span>'
        if len(shown) < len(views)
        else ""
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>lvlm-var report: {escape(str(outputs.run_dir))}</title>
<style>{_STYLE}</style></head><body>
<h1>Run report: {escape(str(outputs.run_dir))}</h1>
<p>model <code>{escape(_model_name(outputs.config))}</code>; {len(views)} explained clips, top-1 among
the true classes for {correct}; {len(outputs.narratives)} narratives.</p>
<h2>Test metrics</h2>{f"<table>{tests}</table>" if tests else '<p class="muted">no test metrics logged</p>'}
<h2>Metrics over epochs</h2>{_image(metrics_plot(outputs.metrics), "metrics")}
{_class_section(views)}
<h2>Token retention</h2>{_image(retention_plot(outputs.metrics, outputs.test_metrics), "token retention")}
<h2>Clips</h2>
<div id="controls">class <select id="class-filter"><option value="">all</option>{options}</select>
 <select id="correct-filter"><option value="">correct and wrong</option>
<option value="correct">correct</option>
<option value="wrong">wrong</option></select> <span id="shown"></span>
{truncated}
</div>
{"".join(_card(view, skeletons) for view in shown)}
<h2>Sources</h2><ul class="muted">{sources}</ul>
<script>{_SCRIPT}</script></body></html>
"""


def write_report(run_dir: str | Path, output: str | Path | None = None, max_cards: int = 200) -> Path:
    """Read the run in ``run_dir`` and write its report.

    Args:
        run_dir: the run folder (a ``trainer.default_root_dir``).
        output: the HTML file (default ``RUN_DIR/report.html``).
        max_cards: at most this many clip cards (wrong predictions first).

    Returns:
        The path written.

    Raises:
        FileNotFoundError: ``run_dir`` is not a folder.
        ReportInputError: a run output that cannot be read.
    """
    outputs = read_run(run_dir)
    path = Path(output) if output is not None else Path(run_dir) / "report.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_report(outputs, max_cards), encoding="utf-8")
    return path
