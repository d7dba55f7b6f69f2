"""Action narratives: run-length merged semantic action tokens with names and time spans.

A narrative reads ``<act_17> right hand rises (0.0-0.4 s) <act_3> stands still (0.4-1.2 s)``; an
explanation cites its segments by index (1-based) and time span: ``[1] (0.0-0.4 s) right hand rises``
(:meth:`NarrativeSegment.citation`, parsed back by :func:`cited_segments`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "NarrativeSegment",
    "ActionNarrative",
    "token_runs",
    "merge_token_runs",
    "act_token",
    "cited_segments",
]

_SEGMENT_PATTERN = re.compile(r"<act_(\d+)> (.+?) \((\d+(?:\.\d+)?)-(\d+(?:\.\d+)?) s\)")
_CITATION_PATTERN = re.compile(r"\[(\d+)\] \((\d+(?:\.\d+)?)-(\d+(?:\.\d+)?) s\)")


def act_token(code: int) -> str:
    """The LLM vocabulary token of codebook entry ``code``, e.g. ``<act_17>``."""
    return f"<act_{code}>"


@dataclass(frozen=True)
class NarrativeSegment:
    """A run of one semantic action token.

    Attributes:
        code: codebook index.
        name: human-readable name of the code, e.g. ``"right hand rises fast"``.
        start: first token step of the run (in quantizer steps, not frames).
        length: number of token steps in the run.
        seconds: duration of the run in seconds of the source clip.
        offset: when the run starts, in seconds of the source clip.
    """

    code: int
    name: str
    start: int
    length: int
    seconds: float
    offset: float = 0.0

    @property
    def span(self) -> str:
        """The run's time span, ``"0.4-1.2 s"``."""
        return f"{self.offset:.1f}-{self.offset + self.seconds:.1f} s"

    @property
    def description(self) -> str:
        """The words after the segment's ``<act_i>`` token: its name and time span, ``"name (0.4-1.2 s)"``."""
        return f"{self.name} ({self.span})"

    def citation(self, index: int) -> str:
        """How an explanation cites this segment, the ``index``-th (1-based): ``"[2] (0.4-1.2 s)"``."""
        return f"[{index}] ({self.span})"

    def cited(self, index: int) -> str:
        """This segment as an explanation states it, the ``index``-th: ``"[2] (0.4-1.2 s) name"``."""
        return f"{self.citation(index)} {self.name}"


@dataclass(frozen=True)
class ActionNarrative:
    """The ordered segments of one clip; ``text`` is what the LLM reads."""

    segments: tuple[NarrativeSegment, ...]

    @property
    def codes(self) -> list[int]:
        return [segment.code for segment in self.segments]

    @property
    def text(self) -> str:
        return " ".join(f"{act_token(s.code)} {s.description}" for s in self.segments)

    @classmethod
    def from_text(cls, text: str) -> ActionNarrative:
        """Parse ``text`` back into segments (start/length in token steps are not in the text and are
        rebuilt as consecutive unit runs; names, start times and durations are).

        Raises:
            ValueError: ``text`` is not a sequence of ``<act_i> name (a.b-c.d s)`` segments.
        """
        matches = list(_SEGMENT_PATTERN.finditer(text))
        if " ".join(m.group(0) for m in matches) != text.strip():
            raise ValueError(f"not an action narrative: {text!r}; expected '<act_i> name (a.b-c.d s) ...'")
        return cls(
            tuple(
                NarrativeSegment(
                    int(m.group(1)),
                    m.group(2),
                    start=i,
                    length=1,
                    seconds=round(float(m.group(4)) - float(m.group(3)), 6),
                    offset=float(m.group(3)),
                )
                for i, m in enumerate(matches)
            )
        )


def cited_segments(text: str, narrative: ActionNarrative) -> list[int]:
    """The 0-based indices of the segments of ``narrative`` that ``text`` cites, in order of citation.

    A citation is ``[N] (a.b-c.d s)``; it counts when segment ``N`` (1-based) exists and has that time
    span, and a span that matches another segment exactly cites that one (a model may miscount but copy
    the time right). Citations of nothing in the narrative are ignored; repeats count once.
    """
    spans = [segment.span for segment in narrative.segments]
    cited: list[int] = []
    for match in _CITATION_PATTERN.finditer(text):
        index, span = int(match.group(1)) - 1, f"{match.group(2)}-{match.group(3)} s"
        if not (0 <= index < len(spans) and spans[index] == span):
            index = spans.index(span) if span in spans else -1
        if index >= 0 and index not in cited:
            cited.append(index)
    return cited


def token_runs(codes: Sequence[int], min_run: int = 1) -> list[tuple[int, int, int]]:
    """The runs ``(code, start, length)`` of ``codes``, with flicker absorbed (see :func:`merge_token_runs`).

    Raises:
        ValueError: ``min_run < 1``.
    """
    if min_run < 1:
        raise ValueError(f"min_run must be >= 1, got {min_run}")
    runs: list[list[int]] = []  # [code, start, length]
    for step, code in enumerate(int(c) for c in codes):
        if runs and runs[-1][0] == code:
            runs[-1][2] += 1
        else:
            runs.append([code, step, 1])

    def long_run(index: int) -> list[int] | None:
        return runs[index] if 0 <= index < len(runs) and runs[index][2] >= min_run else None

    while len(runs) > 1:
        short = [
            i for i, run in enumerate(runs) if run[2] < min_run and (long_run(i - 1) or long_run(i + 1))
        ]
        if not short:
            break
        i = min(short, key=lambda j: (runs[j][2], j))
        before, after = long_run(i - 1), long_run(i + 1)
        target = before if after is None or (before is not None and before[2] >= after[2]) else after
        target[2] += runs[i][2]
        target[1] = min(target[1], runs[i][1])
        del runs[i]
        merged: list[list[int]] = []
        for run in runs:
            if merged and merged[-1][0] == run[0]:
                merged[-1][2] += run[2]
            else:
                merged.append(run)
        runs = merged
    return [(code, start, length) for code, start, length in runs]


def merge_token_runs(
    codes: Sequence[int],
    names: Sequence[str],
    seconds_per_step: float,
    min_run: int = 1,
) -> ActionNarrative:
    """Merge repeated codes into segments and absorb flicker.

    A run shorter than ``min_run`` steps next to a run of at least ``min_run`` steps is flicker: it is
    merged into the longer of its neighbours (the previous one on ties), and neighbours left equal are
    merged again, so the narrative is temporally consistent. Short runs with no long neighbour are kept:
    a clip that changes code every step is a sequence of motions, not flicker around one (absorbing them
    one into the next left a single segment naming one of eight codes, and lost the class the other seven
    carried).

    Args:
        codes: per-step codebook indices of one clip, ``(S,)``.
        names: name of every codebook entry (indexed by code).
        seconds_per_step: duration of one quantizer step in seconds.
        min_run: minimum run length in steps; ``1`` keeps every run.

    Returns:
        The clip's narrative.

    Raises:
        ValueError: ``min_run < 1`` or a code has no name.
    """
    runs = token_runs(codes, min_run)
    for code, _, _ in runs:
        if not 0 <= code < len(names):
            raise ValueError(f"code {code} has no name: the codebook has {len(names)} names")
    return ActionNarrative(
        tuple(
            NarrativeSegment(
                code,
                names[code],
                start,
                length,
                round(length * seconds_per_step, 6),
                round(start * seconds_per_step, 6),
            )
            for code, start, length in runs
        )
    )
