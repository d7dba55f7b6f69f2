"""`make bench`: every benchmark in turn; each prints its table and its rows go to
``bench_results/<name>.json`` (warm-up excluded inside each benchmark)."""

from __future__ import annotations

import argparse
import json
import platform
import time
from collections.abc import Callable
from pathlib import Path

import torch

from experiments import (
    bench_dtformer,
    bench_extract,
    bench_lvlm,
    bench_names,
    bench_narrative,
    bench_skeleton_parsing,
    bench_store,
    bench_vst,
)

__all__ = ["main"]


def _benchmarks(data: Path) -> dict[str, tuple[Callable[[], list[dict]], Callable[[list[dict]], None]]]:
    return {
        "skeleton_parsing": (
            lambda: bench_skeleton_parsing.run(data / "ntu"), bench_skeleton_parsing.print_table
        ),
        "store": (bench_store.run, bench_store.print_table),
        "dtformer": (bench_dtformer.run, bench_dtformer.print_table),
        "vst": (bench_vst.run, bench_vst.print_table),
        "narrative_length": (bench_narrative.run, bench_narrative.print_table),
        "vst_names": (lambda: bench_names.run(data), bench_names.print_table),
        "lvlm_scoring": (bench_lvlm.run, bench_lvlm.print_table),
        "feature_extraction": (bench_extract.run, bench_extract.print_table),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("data/synthetic"))
    parser.add_argument("--out", type=Path, default=Path("bench_results"))
    parser.add_argument("--only", nargs="*", default=None, help="run only these benchmarks")
    options = parser.parse_args(argv)
    benchmarks = _benchmarks(options.data)
    unknown = set(options.only or ()) - set(benchmarks)
    if unknown:
        raise SystemExit(f"unknown benchmark(s) {sorted(unknown)}; valid: {', '.join(benchmarks)}")
    options.out.mkdir(parents=True, exist_ok=True)
    machine = {"platform": platform.platform(), "processor": platform.processor(),
               "torch": torch.__version__, "threads": torch.get_num_threads()}
    for name, (run, print_table) in benchmarks.items():
        if options.only and name not in options.only:
            continue
        print(f"\n== {name}")
        started = time.perf_counter()
        try:
            rows = run()
        except FileNotFoundError as error:  # an input another target writes (e.g. `make demo`)
            print(f"  skipped: {error}")
            continue
        print_table(rows)
        seconds = time.perf_counter() - started
        record = {"benchmark": name, "machine": machine, "seconds": seconds, "rows": rows}
        (options.out / f"{name}.json").write_text(json.dumps(record, indent=2, default=str))


if __name__ == "__main__":
    main()
