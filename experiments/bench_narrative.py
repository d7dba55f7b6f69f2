"""Action-narrative length in LLM tokens per clip, from the last synthetic LVLM-VAR test run.

The narratives are what LVLM-VAR hands the LLM instead of visual tokens; their length is counted by the
classifier's own tokenizer when it builds each prompt and written to every explanation record
(``tokens``). This benchmark reads the records of ``runs/synthetic_lvlm/explanations.jsonl`` (written by
``make demo``; one per synthetic X-Sub test clip) and sets the lengths against the targets (80 tokens,
stretch 32) and the visual-token budgets they replace.

Run ``python -m experiments.bench_narrative``; ``run()`` returns the table rows for ``make bench``.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path

__all__ = ["DEFAULT_EXPLANATIONS", "run", "print_table"]

DEFAULT_EXPLANATIONS = Path("runs/synthetic_lvlm/explanations.jsonl")
_REFERENCES = (
    ("target", 80),
    ("stretch target", 32),
    ("LLaVA-1.5, one frame (576 visual tokens)", 576),
    ("Video-LLaVA, one clip (~2,048 visual tokens)", 2048),
)


def run(explanations: str | Path = DEFAULT_EXPLANATIONS) -> list[dict]:
    """Narrative lengths of a test run.

    Args:
        explanations: an ``ExplanationWriter`` JSONL of LVLM-VAR records.

    Returns:
        One row: ``clips``, ``mean_tokens``, ``median_tokens``, ``p95_tokens``, ``max_tokens``, then one
        ``vs <reference>`` column per reference budget (the reference over the mean).

    Raises:
        FileNotFoundError: no such file (run ``make demo`` first).
        ValueError: the file holds no records.
    """
    path = Path(explanations)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no LVLM-VAR explanations to measure; run `make demo` first")
    tokens = sorted(json.loads(line)["tokens"] for line in path.read_text().splitlines() if line.strip())
    if not tokens:
        raise ValueError(f"{path}: holds no explanation records")
    mean = statistics.fmean(tokens)
    row = {
        "clips": len(tokens),
        "mean_tokens": round(mean, 1),
        "median_tokens": statistics.median(tokens),
        "p95_tokens": tokens[min(len(tokens) - 1, round(0.95 * (len(tokens) - 1)))],
        "max_tokens": tokens[-1],
    }
    row.update({f"vs {name}": f"{budget / mean:.1f}x fewer" for name, budget in _REFERENCES[2:]})
    row.update({f"meets {name} ({budget})": mean <= budget for name, budget in _REFERENCES[:2]})
    return [row]


def print_table(rows: list[dict]) -> None:
    for key, value in rows[0].items():
        print(f"  {key:<52} {value}")


if __name__ == "__main__":
    print_table(run())
