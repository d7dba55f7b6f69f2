"""Readers and writers of the real data-set file formats (one file per format); no model knowledge."""

from .action_genome import (
    ActionGenomeAnnotations,
    ActionGenomeClasses,
    AGFrame,
    AGObject,
    read_action_genome,
    read_action_genome_classes,
    write_action_genome,
)
from .box_features import BoxFeatures, read_box_features, write_box_features
from .charades import (
    CharadesAction,
    CharadesClass,
    CharadesVideo,
    read_charades_classes,
    read_charades_csv,
    write_charades_classes,
    write_charades_csv,
)
from .errors import (
    ActionGenomeFormatError,
    BoxFeatureFormatError,
    CAD120FormatError,
    CharadesFormatError,
    DataFormatError,
    NWUCLAFormatError,
    PysklFormatError,
    SkeletonFormatError,
    UnsafePickleError,
)
from .ntu_skeleton import (
    NTUSampleName,
    NTUSkeletonFile,
    parse_ntu_name,
    read_ntu_skeleton,
    write_ntu_skeleton,
)
from .nwucla import parse_nwucla_name, read_nwucla, write_nwucla
from .pyskl import PysklAnnotations, read_pyskl, write_pyskl
from .safe_pickle import load_untrusted_pickle
from .skeleton_benchmarks import get_skeleton_benchmark, read_missing_skeletons
from .skeleton_clip import SkeletonClip

__all__ = [
    "AGFrame", "AGObject", "ActionGenomeAnnotations", "ActionGenomeClasses", "read_action_genome",
    "read_action_genome_classes", "write_action_genome",
    "BoxFeatures", "read_box_features", "write_box_features",
    "CharadesAction", "CharadesClass", "CharadesVideo", "read_charades_classes", "read_charades_csv",
    "write_charades_classes", "write_charades_csv",
    "DataFormatError", "SkeletonFormatError", "NWUCLAFormatError", "PysklFormatError",
    "ActionGenomeFormatError", "CharadesFormatError", "BoxFeatureFormatError", "CAD120FormatError",
    "UnsafePickleError",
    "NTUSampleName", "NTUSkeletonFile", "parse_ntu_name", "read_ntu_skeleton", "write_ntu_skeleton",
    "parse_nwucla_name", "read_nwucla", "write_nwucla",
    "PysklAnnotations", "read_pyskl", "write_pyskl",
    "load_untrusted_pickle", "get_skeleton_benchmark", "read_missing_skeletons", "SkeletonClip",
]
