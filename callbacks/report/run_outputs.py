"""What a run folder holds, read back for the report: metrics CSVs, resolved configs, explanation and
narrative JSONL.

Read defensively: the files come from any version of the callbacks (explanation schema 1 has one
``evidence`` list; schema 2 adds ``schema``, per predicted class evidence and a sentence), so a field
that is missing is left out of the report, and a line that is not a JSON object is a
:class:`ReportInputError` naming the file and the line.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = ["ReportInputError", "RunOutputs", "read_run"]


class ReportInputError(ValueError):
    """A run output that the report cannot read: the file, the place in it and what was expected."""


@dataclass
class RunOutputs:
    """Everything the report draws, read from one run folder.

    Attributes:
        run_dir: the folder (a ``trainer.default_root_dir``).
        metrics: ``{key: [(epoch, value), ...]}`` of every fit / validate version, in epoch order; the last
            value logged in an epoch wins.
        test_metrics: ``{key: value}`` of the newest version that logged ``test/...`` keys.
        config: the newest resolved ``config.yaml`` (``{}`` when there is none).
        explanations: the explanation records (dicts as written by ``ExplanationWriter``).
        narratives: the VST narrative records (dicts as written by ``NarrativeWriter``).
        sources: the files read, for the report's footer.
    """

    run_dir: Path
    metrics: dict[str, list[tuple[int, float]]] = field(default_factory=dict)
    test_metrics: dict[str, float] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    explanations: list[dict[str, Any]] = field(default_factory=list)
    narratives: list[dict[str, Any]] = field(default_factory=list)
    sources: list[Path] = field(default_factory=list)


def _version_number(path: Path) -> tuple[int, str]:
    name = path.parent.name
    number = name.removeprefix("version_")
    return (int(number) if number.isdigit() else -1, str(path))


def _read_metrics_csv(path: Path) -> list[dict[str, float]]:
    rows = []
    with path.open(newline="", encoding="utf-8") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            values: dict[str, float] = {}
            for key, text in row.items():
                if key is None or text in (None, ""):
                    continue
                try:
                    values[key] = float(text)
                except ValueError:
                    raise ReportInputError(
                        f"{path} line {line}: column {key!r} is {text!r}, not a number"
                    ) from None
            rows.append(values)
    return rows


def _add_metrics(outputs: RunOutputs, rows: list[dict[str, float]]) -> None:
    per_key: dict[str, dict[int, float]] = {}
    for row in rows:
        epoch = row.get("epoch")
        for key, value in row.items():
            if (
                key in ("epoch", "step")
                or key.startswith("test/")
                or epoch is None
                or not math.isfinite(value)
            ):
                continue
            per_key.setdefault(key, {})[int(epoch)] = value
    for key, by_epoch in per_key.items():
        merged = dict(outputs.metrics.get(key, []))
        merged.update(by_epoch)
        outputs.metrics[key] = sorted(merged.items())


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    records = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise ReportInputError(f"{path} line {number}: not JSON ({error.msg})") from None
            if not isinstance(record, dict):
                raise ReportInputError(
                    f"{path} line {number}: expected a JSON object, got {type(record).__name__}"
                )
            records.append(record)
    return records


def read_run(run_dir: str | Path) -> RunOutputs:
    """Read every output of the run in ``run_dir``.

    Metrics come from ``**/metrics.csv`` (Lightning's ``CSVLogger``, the default logger), the config from
    the newest ``**/config.yaml``; a ``.jsonl`` file is an explanation file when its records have
    ``predictions`` and a narrative file when they have ``narrative``.

    Raises:
        FileNotFoundError: ``run_dir`` is not a folder.
        ReportInputError: an unreadable metrics CSV, JSONL line or config.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise FileNotFoundError(f"run folder {run_dir} does not exist (give a trainer.default_root_dir)")
    outputs = RunOutputs(run_dir)
    for path in sorted(run_dir.rglob("metrics.csv"), key=_version_number):
        rows = _read_metrics_csv(path)
        test = {key: value for row in rows for key, value in row.items() if key.startswith("test/")}
        if test:
            outputs.test_metrics = test
        _add_metrics(outputs, rows)
        outputs.sources.append(path)
    configs = sorted(run_dir.rglob("config.yaml"), key=_version_number)
    if configs:
        try:
            loaded = yaml.safe_load(configs[-1].read_text(encoding="utf-8"))
        except yaml.YAMLError as error:
            raise ReportInputError(f"{configs[-1]}: not YAML ({error})") from None
        outputs.config = loaded if isinstance(loaded, dict) else {}
        outputs.sources.append(configs[-1])
    for path in sorted(run_dir.rglob("*.jsonl")):
        records = _read_jsonl(path)
        if records and all("predictions" in record for record in records):
            outputs.explanations.extend(records)
        elif records and all("narrative" in record for record in records):
            outputs.narratives.extend(records)
        else:
            continue
        outputs.sources.append(path)
    return outputs
