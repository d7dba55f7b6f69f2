"""LLM class scoring throughput: one prompt forward shared by all classes vs one forward per class.

Model: the in-code tiny LLaVA (2-layer Llama, hidden 64) loaded through the real path (NF4, LoRA r=4,
action tokens), so the numbers compare the two scoring algorithms, not LLaVA-13B speed. Data:
``NUM_CLIPS`` synthetic narratives of 4-12 segments over a 64-code vocabulary of body-part names, scored
against the first ``NUM_CLASSES`` NTU RGB+D action names, ``BATCH`` clips per call.

* ``batched``: :func:`~lvlm_var.lvlm.scoring.score_classes` (prompt cache copied per (clip, class)).
* ``naive``: :func:`~lvlm_var.lvlm.scoring.score_classes_naive` (prompt + class, one forward each).

Both give the same scores (checked before timing; that run is the untimed warm-up). Each timing is
the fastest of ``REPEATS`` runs. Also reported: narrative length in LLM tokens per clip, with one
token per action code (``<act_i>``) and as plain text tokenized without action tokens.

Run: ``python -m experiments.bench_lvlm``.
"""

from __future__ import annotations

import random
import tempfile
import time
from collections.abc import Callable
from statistics import mean

import torch

from datamodules.formats.class_names import NTU_ACTION_NAMES
from lvlm_var.lvlm.config import LLMClassifierConfig
from lvlm_var.lvlm.loading import load_backbone, load_tokenizer
from lvlm_var.lvlm.prompts import PromptBuilder
from lvlm_var.lvlm.scoring import score_classes, score_classes_naive
from lvlm_var.lvlm.tiny_llava import ensure_tiny_llava
from lvlm_var.vst.narrative import ActionNarrative, merge_token_runs

__all__ = ["synthetic_narratives", "run", "print_table"]

NUM_CLIPS = 8
NUM_CLASSES = 8
NUM_CODES = 64
BATCH = 8
# naive is the slow reference: one timed run of it keeps the benchmark under a minute
REPEATS = {"batched": 3, "naive": 1}
_PARTS = ["right hand", "left hand", "right arm", "left arm", "head", "torso", "both legs", "right foot"]
_MOTIONS = [
    "rises",
    "lowers",
    "moves forward",
    "moves back",
    "moves sideways",
    "rises fast",
    "stands still",
    "lowers slowly",
]


def synthetic_narratives(num_clips: int, num_codes: int = NUM_CODES, seed: int = 0) -> list[ActionNarrative]:
    """``num_clips`` narratives of 4-12 segments over ``num_codes`` named codes (fixed seed)."""
    rng = random.Random(seed)
    names = [
        f"{_PARTS[c % len(_PARTS)]} {_MOTIONS[(c // len(_PARTS)) % len(_MOTIONS)]}" for c in range(num_codes)
    ]
    narratives = []
    for _ in range(num_clips):
        codes: list[int] = []
        for _ in range(rng.randint(4, 12)):
            codes += [rng.randrange(num_codes)] * rng.randint(1, 4)
        narratives.append(merge_token_runs(codes, names, seconds_per_step=0.13))
    return narratives


def _best_seconds(step: Callable[[], object], repeats: int) -> float:
    """Fastest of ``repeats`` timed runs; the caller has run ``step`` once untimed (warm-up)."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        best = min(best, time.perf_counter() - start)
    return best


def run(cache_dir: str | None = None) -> list[dict]:
    """Time batched vs naive scoring and measure narrative lengths; returns one dict per table row."""
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as scratch:
        config = LLMClassifierConfig.tiny(str(ensure_tiny_llava(cache_dir or scratch)))
        narratives = synthetic_narratives(NUM_CLIPS)
        code_names = [
            s.name
            for s in sorted(
                {s.code: s for n in narratives for s in n.segments}.values(), key=lambda s: s.code
            )
        ]
        code_names += [f"code {c}" for c in range(len(code_names), NUM_CODES)]
        backbone = load_backbone(config, code_names)
        plain_tokenizer = load_tokenizer(config)
    model, tokenizer = backbone.model.eval(), backbone.tokenizer
    builder = PromptBuilder(tokenizer, backbone.vocabulary, config.instruction, config.question)
    prompts = [builder.encode_prompt(n) for n in narratives]
    labels = [builder.encode_label(name) for name in NTU_ACTION_NAMES[:NUM_CLASSES]]
    batches = [[p.ids for p in prompts[i : i + BATCH]] for i in range(0, len(prompts), BATCH)]

    def batched() -> list[torch.Tensor]:
        return [
            score_classes(model, b, labels, tokenizer.pad_token_id, config.score_chunk_size) for b in batches
        ]

    def naive() -> list[torch.Tensor]:
        return [score_classes_naive(model, b, labels) for b in batches]

    # the correctness check is also the untimed warm-up of both
    max_error = max((a - b).abs().max().item() for a, b in zip(batched(), naive(), strict=True))
    seconds = {
        name: _best_seconds(step, REPEATS[name]) for name, step in (("batched", batched), ("naive", naive))
    }
    rows = [
        {
            "row": f"scoring {name}",
            "clips": NUM_CLIPS,
            "classes": NUM_CLASSES,
            "seconds": s,
            "clips_per_s": NUM_CLIPS / s,
            "speedup": seconds["naive"] / s,
            "max_abs_diff": max_error,
        }
        for name, s in seconds.items()
    ]
    with_codes = [p.narrative_tokens for p in prompts]
    as_text = [len(plain_tokenizer(n.text, add_special_tokens=False).input_ids) for n in narratives]
    rows += [
        {
            "row": "narrative tokens, <act_i> tokens",
            "mean": mean(with_codes),
            "max": max(with_codes),
            "segments": mean(len(n.segments) for n in narratives),
        },
        {
            "row": "narrative tokens, plain text",
            "mean": mean(as_text),
            "max": max(as_text),
            "segments": mean(len(n.segments) for n in narratives),
        },
        {
            "row": "prompt tokens (instruction + narrative + question)",
            "mean": mean(len(p.ids) for p in prompts),
            "max": max(len(p.ids) for p in prompts),
        },
    ]
    return rows


def print_table(rows: list[dict]) -> None:
    print(f"{'':52s} {'clips/s':>9s} {'seconds':>8s} {'speed-up':>8s}")
    for row in rows:
        if "clips_per_s" in row:
            print(f"{row['row']:52s} {row['clips_per_s']:9.1f} {row['seconds']:8.3f} {row['speedup']:7.1f}x")
    print(
        f"scores agree to {max(r.get('max_abs_diff', 0.0) for r in rows):.1e}; "
        f"{NUM_CLIPS} clips x {NUM_CLASSES} classes, batch {BATCH}"
    )
    print(f"\n{'LLM tokens per clip':52s} {'mean':>9s} {'max':>8s}")
    for row in rows:
        if "mean" in row:
            print(f"{row['row']:52s} {row['mean']:9.1f} {row['max']:8d}")


if __name__ == "__main__":
    print_table(run())
