"""The official train/test protocols of the skeleton data sets, and the official lists of NTU
samples with missing skeletons.

=============  =========================================================================
benchmark      rule (a sample is in the training set when ...)
=============  =========================================================================
ntu60-xsub     its performer is one of the 20 NTU-60 training subjects; actions A001-A060
ntu60-xview    it was filmed by camera 2 or 3; actions A001-A060
ntu120-xsub    its performer is one of the 53 NTU-120 training subjects; actions A001-A120
ntu120-xset    its setup id is even; actions A001-A120
nwucla-xview   it was filmed from view 1 or 2 (view 3 is the test set)
=============  =========================================================================
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from .class_names import NTU_ACTION_NAMES, NWUCLA_ACTION_NAMES
from .errors import SkeletonFormatError
from .ntu_skeleton import NTUSampleName, parse_ntu_name
from .nwucla import NWUCLASampleName, parse_nwucla_name
from .skeleton_clip import SkeletonClip

__all__ = [
    "NTU60_TRAIN_SUBJECTS",
    "NTU120_TRAIN_SUBJECTS",
    "SkeletonBenchmark",
    "SKELETON_BENCHMARKS",
    "get_skeleton_benchmark",
    "benchmark_split",
    "in_benchmark",
    "split_samples",
    "read_missing_skeletons",
]

NTU60_TRAIN_SUBJECTS = frozenset({1, 2, 4, 5, 8, 9, 13, 14, 15, 16, 17, 18, 19, 25, 27, 28, 31, 34, 35, 38})
NTU120_TRAIN_SUBJECTS = NTU60_TRAIN_SUBJECTS | frozenset(
    {
        45,
        46,
        47,
        49,
        50,
        52,
        53,
        54,
        55,
        56,
        57,
        58,
        59,
        70,
        74,
        78,
        80,
        81,
        82,
        83,
        84,
        85,
        86,
        89,
        91,
        92,
        93,
        94,
        95,
        97,
        98,
        100,
        103,
    }
)

Split = Literal["train", "test"]
Sample = SkeletonClip | NTUSampleName | NWUCLASampleName | str | Path


@dataclass(frozen=True)
class SkeletonBenchmark:
    """One evaluation protocol.

    Attributes:
        name: e.g. ``"ntu60-xsub"``.
        dataset: ``"ntu"`` (sample names ``SsssCcccPpppRrrrAaaa``) or ``"nwucla"`` (``aXX_sYY_eZZ_vWW``).
        num_classes: 60, 120 or 10; NTU samples with a larger action id are not in the benchmark.
        protocol: which id decides the split: ``"subject"``, ``"camera"``, ``"setup"`` or ``"view"``.
        train_ids: the values of that id that go to the training set.
    """

    name: str
    dataset: Literal["ntu", "nwucla"]
    num_classes: int
    protocol: Literal["subject", "camera", "setup", "view"]
    train_ids: frozenset[int]

    @property
    def class_names(self) -> list[str]:
        """The class names in label order (60 or 120 NTU names, or the 10 NW-UCLA names)."""
        names = NWUCLA_ACTION_NAMES if self.dataset == "nwucla" else NTU_ACTION_NAMES
        return list(names[: self.num_classes])

    def parse(self, sample: Sample) -> NTUSampleName | NWUCLASampleName:
        """The sample's ids, from a clip's name, a name or a file path."""
        if isinstance(sample, NTUSampleName | NWUCLASampleName):
            parsed = sample
        else:
            name = sample.name if isinstance(sample, SkeletonClip) else sample
            parsed = parse_ntu_name(name) if self.dataset == "ntu" else parse_nwucla_name(name)
        expected = NTUSampleName if self.dataset == "ntu" else NWUCLASampleName
        if not isinstance(parsed, expected):
            raise ValueError(f"{self.name} takes {self.dataset} samples, got {parsed}")
        return parsed

    def contains(self, sample: Sample) -> bool:
        """Whether the sample's action belongs to this benchmark (always true for NW-UCLA)."""
        parsed = self.parse(sample)
        return not isinstance(parsed, NTUSampleName) or parsed.action <= self.num_classes

    def split_of(self, sample: Sample) -> Split:
        """``"train"`` or ``"test"``.

        Raises:
            ValueError: the sample is not part of this benchmark (e.g. A061 in NTU-60).
        """
        parsed = self.parse(sample)
        if not self.contains(parsed):
            raise ValueError(f"{parsed} is not in {self.name} (actions 1-{self.num_classes})")
        key = "performer" if self.protocol == "subject" else self.protocol
        return "train" if getattr(parsed, key) in self.train_ids else "test"


SKELETON_BENCHMARKS: dict[str, SkeletonBenchmark] = {
    b.name: b
    for b in (
        SkeletonBenchmark("ntu60-xsub", "ntu", 60, "subject", NTU60_TRAIN_SUBJECTS),
        SkeletonBenchmark("ntu60-xview", "ntu", 60, "camera", frozenset({2, 3})),
        SkeletonBenchmark("ntu120-xsub", "ntu", 120, "subject", NTU120_TRAIN_SUBJECTS),
        SkeletonBenchmark("ntu120-xset", "ntu", 120, "setup", frozenset(range(2, 33, 2))),
        SkeletonBenchmark("nwucla-xview", "nwucla", 10, "view", frozenset({1, 2})),
    )
}


def get_skeleton_benchmark(name: str) -> SkeletonBenchmark:
    """Look a benchmark up by name.

    Raises:
        ValueError: unknown name; the message lists the valid ones.
    """
    try:
        return SKELETON_BENCHMARKS[name]
    except KeyError:
        raise ValueError(
            f"unknown skeleton benchmark '{name}'; valid: {', '.join(sorted(SKELETON_BENCHMARKS))}"
        ) from None


def benchmark_split(benchmark: str, sample: Sample) -> Split:
    """``"train"`` or ``"test"`` for ``sample`` under the named benchmark (see the module table)."""
    return get_skeleton_benchmark(benchmark).split_of(sample)


def in_benchmark(benchmark: str, sample: Sample, missing: set[str] | None = None) -> bool:
    """Whether ``sample`` is used by the benchmark: its action is in range and, when the official
    missing-skeleton list is given, it is not on it."""
    spec = get_skeleton_benchmark(benchmark)
    parsed = spec.parse(sample)
    return spec.contains(parsed) and not (missing and str(parsed) in missing)


def split_samples(
    benchmark: str, samples: Iterable[Sample], missing: set[str] | None = None
) -> dict[Split, list[Sample]]:
    """Partition ``samples`` into the benchmark's ``{"train": [...], "test": [...]}`` (input order
    kept), leaving out samples outside the benchmark and those on the ``missing`` list."""
    spec = get_skeleton_benchmark(benchmark)
    out: dict[Split, list[Sample]] = {"train": [], "test": []}
    for sample in samples:
        if in_benchmark(benchmark, sample, missing):
            out[spec.split_of(sample)].append(sample)
    return out


_NAME_LIKE = re.compile(r"S\d+C\d+P\d+R\d+A\d+")


def read_missing_skeletons(path: str | Path) -> set[str]:
    """Read an official list of samples with missing skeletons
    (``NTU_RGBD_samples_with_missing_skeletons.txt``: 302 names,
    ``NTU_RGBD120_samples_with_missing_skeletons.txt``: 535 names).

    The official files open with two lines of prose and a blank line, then one sample name per
    line; lines that are not a name (prose, blank) are skipped, any line ending is accepted.

    Returns:
        The sample names, e.g. ``{"S001C002P005R002A008", ...}``.

    Raises:
        SkeletonFormatError: a line shaped like a sample name (``S..C..P..R..A..``) that is not a
            valid one, e.g. ``S1C2P5R2A8``.
    """
    path = Path(path)
    names: set[str] = set()
    for number, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), start=1):
        text = line.strip()
        if not _NAME_LIKE.fullmatch(text):
            continue
        try:
            names.add(str(parse_ntu_name(text)))
        except SkeletonFormatError as exc:
            raise SkeletonFormatError(path, f"line {number}", exc.message) from None
    return names
