"""LVLM-VAR end to end on the embedded synthetic NTU RGB+D (X-Sub), through the ``lvlm-var`` CLI path.

Stage 1 fits the VST tokenizer (``experiments/synthetic_vst.yaml``) and tests it; stage 2 fits the tiny
LLaVA classifier on its narratives (``experiments/synthetic_lvlm.yaml``) and tests it from its adapter-only
checkpoint. :func:`run_synthetic_lvlm` returns the numbers ``make demo`` prints.

Body-part match: a test clip's explanation *names the moving body part* when its generated text (after
the predicted class and "because") or its evidence (the names of its narrative segments) contains a phrase
of one of the main moving parts of the clip's ground-truth action
(``datamodules.synthetic.ntu.NTU_SYNTHETIC_ACTIONS``): for ``right_arm`` "right hand", "right arm",
"both hands" or "both arms"; for ``left_leg`` "left foot", "left leg", "both feet" or "both legs"; for
``torso`` "torso" or "whole body"; for ``head`` "head". Both rates are reported: ``explanation`` (text or
evidence) and ``generated_text`` (the text alone).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
from pathlib import Path
from typing import Any

from datamodules.synthetic.ntu import NTU_MISSING_LIST, NTU_SYNTHETIC_ACTIONS
from experiments.runner import fit_and_test

__all__ = ["VST_CONFIG", "LVLM_CONFIG", "part_phrases", "names_moving_part", "run_synthetic_lvlm", "main"]

EXPERIMENTS = Path(__file__).resolve().parent
VST_CONFIG = EXPERIMENTS / "synthetic_vst.yaml"
LVLM_CONFIG = EXPERIMENTS / "synthetic_lvlm.yaml"
_EXPLANATIONS = Path("runs/synthetic_lvlm/explanations.jsonl")  # the ExplanationWriter path of LVLM_CONFIG


def part_phrases(part: str) -> tuple[str, ...]:
    """The phrases of the VST's code names that mean body part ``part`` of the synthetic generator.

    Args:
        part: one of ``head``, ``torso``, ``left_arm``, ``right_arm``, ``left_leg``, ``right_leg``.

    Raises:
        ValueError: an unknown part.
    """
    if part == "head":
        return ("head",)
    if part == "torso":
        return ("torso", "whole body")
    side, _, limb = part.partition("_")
    if side not in ("left", "right") or limb not in ("arm", "leg"):
        raise ValueError(
            f"unknown body part {part!r}; valid parts: head, torso, left_arm, right_arm, left_leg, right_leg"
        )
    extremity, extremities, limbs = ("hand", "hands", "arms") if limb == "arm" else ("foot", "feet", "legs")
    return (f"{side} {extremity}", f"{side} {limb}", f"both {extremities}", f"both {limbs}")


def names_moving_part(text: str, moving_parts: tuple[str, ...]) -> bool:
    """Whether ``text`` names one of ``moving_parts`` (see the module docstring)."""
    text = text.lower()
    return any(phrase in text for part in moving_parts for phrase in part_phrases(part))


def _moving_parts_of(class_name: str, class_names: list[str]) -> tuple[str, ...]:
    action = NTU_SYNTHETIC_ACTIONS[class_names.index(class_name) + 1]  # NTU action ids count from 1
    return action.moving_parts


def _examples_of_distinct_classes(records: list[dict[str, Any]], count: int) -> list[dict[str, Any]]:
    examples: dict[str, dict[str, Any]] = {}
    for record in records:
        examples.setdefault(record["ground_truth"][0], record)
        if len(examples) == count:
            break
    return list(examples.values())


def _explanation_summary(records: list[dict[str, Any]], class_names: list[str]) -> dict[str, Any]:
    named = generated = 0
    for record in records:
        parts = _moving_parts_of(record["ground_truth"][0], class_names)
        _, _, because = record["text"].partition(" because ")
        evidence = " ".join(step["text"] for step in record["evidence"])
        generated += names_moving_part(because, parts)
        named += names_moving_part(f"{because} {evidence}", parts)
    tokens = [record["tokens"] for record in records]
    return {
        "narrative_tokens_mean": statistics.fmean(tokens),
        "narrative_tokens_max": max(tokens),
        "body_part_rate": named / len(records),
        "body_part_rate_generated_text": generated / len(records),
        "examples": _examples_of_distinct_classes(records, 3),
    }


def run_synthetic_lvlm(data_root: str | Path, out_dir: str | Path, seed: int | None = None) -> dict[str, Any]:
    """Fit and test both LVLM-VAR stages on the synthetic NTU RGB+D X-Sub split.

    The experiments' relative output paths (``runs/...``) resolve under ``out_dir``: the two stages run
    with ``out_dir`` as working directory, so stage 2 finds ``runs/synthetic_vst/checkpoints/vst.ckpt`` as
    its YAML says.

    Args:
        data_root: the synthetic data root written by ``lvlm-var generate-synthetic`` (holds ``ntu/``).
        out_dir: where checkpoints, logs, narratives and explanations are written.
        seed: ``seed_everything`` of both stages (``None``: the YAMLs' own, 0).

    Returns:
        ``test_accuracy`` (VST + tiny LLM), ``vst`` (``test_accuracy`` of the VST head, ``perplexity``,
        ``dead_codes``, ``codebook_size``, ``probe_accuracy``), ``narrative_tokens_mean`` /
        ``narrative_tokens_max`` (LLM tokens per test clip), ``body_part_rate`` and
        ``body_part_rate_generated_text`` (see the module docstring), ``examples`` (explanation records,
        as dicts, of the first three ground-truth classes), ``faithfulness`` (the
        ``callbacks.ExplanationFaithfulness`` figures of the test explanations: ``comprehensiveness``,
        ``random_comprehensiveness``, ``sufficiency``, ``random_sufficiency``, ``explanations``, ``uncited``),
        ``seconds`` per stage, ``explanations`` (the JSONL path).
    """
    ntu = Path(data_root).resolve() / "ntu"
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    data = ["--data.init_args.data_dir", str(ntu),
            "--data.init_args.missing_skeletons_file", str(ntu / NTU_MISSING_LIST)]
    if seed is not None:
        data += ["--seed_everything", str(seed)]
    with contextlib.chdir(out_dir):
        vst = fit_and_test(VST_CONFIG, data)
        lvlm = fit_and_test(LVLM_CONFIG, data)
    explanations = out_dir / _EXPLANATIONS
    records = [json.loads(line) for line in explanations.read_text().splitlines()]
    prefix = "test/faithfulness_"
    faithfulness = {k[len(prefix):]: v for k, v in lvlm.metrics.items() if k.startswith(prefix)}
    return {
        "test_accuracy": lvlm.metrics["test/acc"],
        "vst": {
            "test_accuracy": vst.metrics["test/acc"],
            "perplexity": vst.metrics["test/perplexity"],
            "dead_codes": int(vst.metrics["test/dead_codes"]),
            "codebook_size": vst.cli.model.config.codebook_size,
            "probe_accuracy": vst.metrics.get("test/probe_acc"),
            "name_part_accuracy": vst.metrics.get("test/name_part_acc"),
            "name_part_direction_accuracy": vst.metrics.get("test/name_part_direction_acc"),
        },
        **_explanation_summary(records, lvlm.cli.datamodule.class_names),
        "faithfulness": faithfulness,
        "seconds": {"vst": vst.seconds, "lvlm": lvlm.seconds},
        "explanations": str(explanations),
    }


def seed_summary(results: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Mean, min, max and spread (max - min) of both stages' test accuracy over runs ``results``."""
    summary = {}
    for key, values in (
        ("vst_token_head", [r["vst"]["test_accuracy"] for r in results]),
        ("llm", [r["test_accuracy"] for r in results]),
    ):
        summary[key] = {
            "mean": statistics.fmean(values),
            "min": min(values),
            "max": max(values),
            "spread": max(values) - min(values),
        }
    return summary


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("data/synthetic"))
    parser.add_argument("--out", type=Path, default=Path("."))
    parser.add_argument("--seeds", type=int, nargs="*", default=None, help="one run per seed, in out/seed_N")
    options = parser.parse_args(argv)
    if not options.seeds:
        print(json.dumps(run_synthetic_lvlm(options.data, options.out), indent=2))
        return
    results = [run_synthetic_lvlm(options.data, options.out / f"seed_{s}", s) for s in options.seeds]
    print(json.dumps({"seeds": options.seeds, "runs": results, "summary": seed_summary(results)}, indent=2))


if __name__ == "__main__":
    main()
