"""Per-clip drawings of the report as inline SVG: a LaIAR relation timeline per human-object pair, an
LVLM-VAR narrative timeline under a key-pose strip of the clip's skeleton."""

from __future__ import annotations

import zlib
from html import escape

import numpy as np

from .clip_view import ClipView, Step

__all__ = ["relation_timeline", "narrative_timeline", "pose_strip", "highlighted_steps"]

_WIDTH = 640
_LABEL = 150
_LANE = 22
_PALETTE = (
    "#8dd3c7",
    "#bebada",
    "#fb8072",
    "#80b1d3",
    "#fdb462",
    "#b3de69",
    "#fccde5",
    "#bc80bd",
    "#ccebc5",
    "#ffed6f",
    "#d9d9d9",
    "#a6cee3",
)


def _colour(name: str) -> str:
    return _PALETTE[zlib.crc32(name.encode("utf-8")) % len(_PALETTE)]


def _pair_and_relation(step: Step) -> tuple[str, str]:
    pair, separator, relation = step.text.rpartition(": ")
    return (pair, relation) if separator else ("", step.text)


def _transitions(steps: list[Step]) -> list[tuple[Step, Step]]:
    """Consecutive runs of one pair that name different relations: the changes an explanation cites."""
    by_pair: dict[str, list[Step]] = {}
    for step in steps:
        by_pair.setdefault(_pair_and_relation(step)[0], []).append(step)
    changes = []
    for runs in by_pair.values():
        runs.sort(key=lambda s: (s.start, s.end))
        pairs = zip(runs, runs[1:], strict=False)
        changes += [(a, b) for a, b in pairs if _pair_and_relation(a)[1] != _pair_and_relation(b)[1]]
    return changes


def highlighted_steps(view: ClipView) -> tuple[set[Step], str]:
    """The steps a card highlights and the legend that says why.

    The cited steps when the record names them (schema 2); otherwise, for LaIAR, the relation transition
    with the highest mean similarity, and for LVLM-VAR the segments whose names the explanation text uses.
    """
    if view.cited:
        return set(view.cited), "cited by the explanation of the top prediction"
    if view.method == "laiar":
        scored = [(((a.score or 0.0) + (b.score or 0.0)) / 2, a, b) for a, b in _transitions(view.steps)]
        if not scored:
            return set(), "no relation changes within a pair"
        _, a, b = max(scored, key=lambda item: item[0])
        return {a, b}, "the transition with the highest similarity (the record cites no steps)"
    _, _, reason = view.sentence.partition(" because ")
    text = (reason or view.sentence).lower()
    named = {step for step in view.steps if step.text and step.text.lower() in text}
    return named, "segments the explanation text names"


def _x(frame: float, frames: int) -> float:
    return _LABEL + (_WIDTH - _LABEL - 10) * frame / max(frames, 1)


def _run(step: Step, label: str, row: int, frames: int, highlight: bool, title: str) -> str:
    x0, x1 = _x(step.start, frames), _x(step.end + 1, frames)
    y = 18 + row * _LANE
    classes = "run cited" if highlight else "run"
    parts = [
        f'<g class="{classes}"><title>{escape(title)}</title>',
        f'<rect x="{x0:.1f}" y="{y}" width="{max(x1 - x0, 2):.1f}" height="{_LANE - 6}" rx="3" '
        f'fill="{_colour(label)}"/>',
    ]
    if x1 - x0 > 7 * len(label):
        parts.append(f'<text x="{x0 + 3:.1f}" y="{y + 12}" font-size="10">{escape(label)}</text>')
    return "".join(parts) + "</g>"


def _axis(frames: int, rows: int, unit: str) -> str:
    y = 18 + rows * _LANE
    ticks = sorted({0, frames // 2, frames})
    labels = "".join(
        f'<text x="{_x(t, frames):.1f}" y="{y + 12}" font-size="9" text-anchor="middle">{t}</text>'
        for t in ticks
    )
    return (
        f'<line x1="{_LABEL}" y1="{y}" x2="{_x(frames, frames):.1f}" y2="{y}" stroke="#999"/>{labels}'
        f'<text x="{_WIDTH - 10}" y="{y + 24}" font-size="9" text-anchor="end">{unit}</text>'
    )


def _svg(body: str, rows: int) -> str:
    height = 18 + rows * _LANE + 30
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_WIDTH}" height="{height}" '
        f'viewBox="0 0 {_WIDTH} {height}">{body}</svg>'
    )


def relation_timeline(view: ClipView) -> str:
    """One lane per human-object pair; each run of a relation a bar from its first to its last kept token
    (dots: the kept tokens that start and end it); the highlighted transition outlined and joined."""
    highlight, legend = highlighted_steps(view)
    pairs = sorted({_pair_and_relation(step)[0] for step in view.steps})
    frames = max((step.end + 1 for step in view.steps), default=1)
    body = []
    for row, pair in enumerate(pairs):
        y = 18 + row * _LANE
        body.append(
            f'<text x="{_LABEL - 6}" y="{y + 12}" font-size="10" text-anchor="end">{escape(pair)}</text>'
        )
        for step in (s for s in view.steps if _pair_and_relation(s)[0] == pair):
            relation = _pair_and_relation(step)[1]
            score = "" if step.score is None else f", similarity {step.score:.3f}"
            body.append(
                _run(
                    step,
                    relation,
                    row,
                    frames,
                    step in highlight,
                    f"{step.text}: frames {step.start}-{step.end}{score}",
                )
            )
            for frame in {step.start, step.end}:
                body.append(
                    f'<circle class="kept" cx="{_x(frame + 0.5, frames):.1f}" cy="{y + _LANE - 6}" r="2.5"/>'
                )
    for a, b in _transitions([s for s in view.steps if s in highlight]):
        row = pairs.index(_pair_and_relation(a)[0])
        y = 18 + row * _LANE + (_LANE - 6) / 2
        body.append(
            f'<line class="transition" x1="{_x(a.end + 1, frames):.1f}" y1="{y:.1f}" '
            f'x2="{_x(b.start, frames):.1f}" y2="{y:.1f}"/>'
        )
    body.append(_axis(frames, len(pairs), "frame"))
    return (
        _svg("".join(body), max(len(pairs), 1)) + f'<p class="legend">outlined: {escape(legend)}; '
        "dots: kept relation tokens</p>"
    )


def narrative_timeline(view: ClipView) -> str:
    """The narrative's named segments on one lane over token steps, the highlighted ones outlined."""
    highlight, legend = highlighted_steps(view)
    steps = max((step.end + 1 for step in view.steps), default=1)
    body = [f'<text x="{_LABEL - 6}" y="30" font-size="10" text-anchor="end">narrative</text>']
    for index, step in enumerate(view.steps):
        body.append(
            _run(
                step,
                step.text,
                0,
                steps,
                step in highlight,
                f"segment {index + 1}: {step.text} (steps {step.start}-{step.end})",
            )
        )
    body.append(_axis(steps, 1, "token step"))
    names = "".join(
        f'<li class="{"cited" if step in highlight else ""}">{escape(step.text)} '
        f'<span class="muted">({step.start}-{step.end})</span></li>'
        for step in view.steps
    )
    return (
        _svg("".join(body), 1) + f'<ol class="segments">{names}</ol>'
        f'<p class="legend">outlined: {escape(legend)}</p>'
    )


def pose_strip(joints: np.ndarray, bones: list[tuple[int, int]], poses: int = 8) -> str:
    """``poses`` evenly spaced frames of the first body, front view (x right, y up), as one SVG row.

    Args:
        joints: ``(T, M, V, 3)`` xyz of the clip.
        bones: ``(child, parent)`` joint pairs.
    """
    body = joints[:, 0]
    present = np.abs(body).sum(axis=(1, 2)) > 0
    if body.shape[0] == 0 or not present.any():
        return '<p class="muted">no tracked body in this clip</p>'
    frames = np.flatnonzero(present)
    chosen = frames[np.linspace(0, len(frames) - 1, min(poses, len(frames))).round().astype(int)]
    xy = body[frames][..., :2]
    low, high = xy.reshape(-1, 2).min(axis=0), xy.reshape(-1, 2).max(axis=0)
    scale = 60.0 / max(float((high - low).max()), 1e-6)
    cell = (_WIDTH - _LABEL - 10) / len(chosen)
    parts = [f'<text x="{_LABEL - 6}" y="40" font-size="10" text-anchor="end">key poses</text>']
    for column, frame in enumerate(chosen):
        left = _LABEL + column * cell + (cell - scale * (high[0] - low[0])) / 2
        points = [(left + scale * (x - low[0]), 66 - scale * (y - low[1])) for x, y in body[frame, :, :2]]
        lines = "".join(
            f'<line x1="{points[c][0]:.1f}" y1="{points[c][1]:.1f}" '
            f'x2="{points[p][0]:.1f}" y2="{points[p][1]:.1f}"/>'
            for c, p in bones
        )
        parts.append(
            f'<g class="pose"><title>frame {frame}</title>{lines}</g>'
            f'<text x="{_LABEL + column * cell + cell / 2:.1f}" y="80" font-size="8" '
            f'text-anchor="middle">frame {frame}</text>'
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_WIDTH}" height="84" '
        f'viewBox="0 0 {_WIDTH} 84">{"".join(parts)}</svg>'
    )
