"""Are the VST's code names true? Name accuracy and codebook health of the last synthetic VST run.

Reads ``runs/synthetic_vst/checkpoints/vst.ckpt`` (written by ``make demo``), tokenizes the synthetic
NTU-60 X-Sub test split and measures, per narrative segment, whether the named moving part is the part
with the largest speed in that segment of the input clip and whether the named direction matches its
displacement
(:mod:`lvlm_var.vst.name_accuracy`; targets 90 % and 80 %), with the codebook's test-split usage
(perplexity, dead codes), the calibrated speed thresholds and how many codes say nothing moves.

Run ``python -m experiments.bench_names``; ``run(data_root)`` returns the table row for ``make bench``.
"""

from __future__ import annotations

from pathlib import Path

import torch

from datamodules import NTUSkeletonDataModule
from datamodules.synthetic.ntu import NTU_MISSING_LIST
from lvlm_var.vst import codebook_usage, load_vst_tokenizer, name_accuracy

__all__ = ["DEFAULT_CHECKPOINT", "run", "print_table"]

DEFAULT_CHECKPOINT = Path("runs/synthetic_vst/checkpoints/vst.ckpt")


@torch.no_grad()
def run(
    data_root: str | Path = Path("data/synthetic"), checkpoint: str | Path = DEFAULT_CHECKPOINT
) -> list[dict]:
    """Name accuracy and codebook usage of ``checkpoint`` on the synthetic X-Sub test split.

    Raises:
        FileNotFoundError: no checkpoint (run ``make demo`` first).
    """
    checkpoint = Path(checkpoint)
    if not checkpoint.is_file():
        raise FileNotFoundError(f"{checkpoint}: no synthetic VST checkpoint; run `make demo` first")
    model = load_vst_tokenizer(checkpoint).eval()
    ntu = Path(data_root) / "ntu"
    data = NTUSkeletonDataModule(
        ntu,
        benchmark="ntu60-xsub",
        clip_length=model.config.num_frames,
        batch_size=64,
        missing_skeletons_file=ntu / NTU_MISSING_LIST,
    )
    data.prepare_data()
    data.setup("test")
    names, thresholds = model.code_name_records, model.code_calibration.thresholds()
    counts = torch.zeros(model.config.codebook_size)
    part = both = total = 0
    for batch in data.test_dataloader():
        codes = model.encode(batch["skeleton"])
        counts += torch.bincount(codes.flatten(), minlength=len(counts)).float()
        narratives = model.narratives(codes, model.config.frame_rate)
        kinematics = model.code_calibration.kinematics(batch["skeleton"])
        result = name_accuracy(narratives, names, kinematics, thresholds)
        part, both, total = part + result.part, both + result.part_and_direction, total + result.total
    usage = codebook_usage(counts)
    used = [names[k] for k in range(len(names)) if counts[k] > 0]
    return [
        {
            "segments": total,
            "name_part_accuracy": round(part / total, 3),
            "name_part_direction_accuracy": round(both / total, 3),
            "test_perplexity": round(usage.perplexity, 1),
            "test_dead_codes": f"{usage.dead_codes} of {len(names)}",
            "used_codes_named_still": sum(name.part is None for name in used),
            "distinct_names_of_used_codes": len({name.text for name in used}),
            "speed_thresholds_torso_lengths_per_s": [round(v, 3) for v in thresholds],
        }
    ]


def print_table(rows: list[dict]) -> None:
    for key, value in rows[0].items():
        print(f"  {key:<40} {value}")


if __name__ == "__main__":
    print_table(run())
