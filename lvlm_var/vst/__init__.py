"""VST (Video-to-Semantic-Tokens): skeleton clips -> discrete semantic action tokens -> action narratives."""

from .code_statistics import CodeStatistics, SpeedThresholds
from .config import VSTConfig
from .decoder import DecodedMotion, VSTDecoder
from .encoder import VSTEncoder
from .graph import spatial_adjacency
from .head import TokenClassifierHead
from .kinematics import PART_GROUPS, PARTS, StepKinematics, step_kinematics
from .module import VSTModule, VSTOutput, load_vst_probe, load_vst_tokenizer
from .motion_head import StepMotionHead
from .name_accuracy import NameAccuracy, name_accuracy
from .naming import CodeName, describe_motion, name_codes
from .narrative import ActionNarrative, NarrativeSegment, act_token, cited_segments, merge_token_runs
from .probe import BagOfCodesProbe, code_histogram
from .quantizer import CodebookUsage, QuantizerOutput, VSTQuantizer, codebook_usage
from .tokenizer import VSTTokenizer

__all__ = [
    "VSTConfig",
    "VSTTokenizer",
    "VSTModule",
    "load_vst_tokenizer",
    "load_vst_probe",
    "VSTOutput",
    "VSTEncoder",
    "VSTQuantizer",
    "QuantizerOutput",
    "CodebookUsage",
    "codebook_usage",
    "VSTDecoder",
    "DecodedMotion",
    "TokenClassifierHead",
    "BagOfCodesProbe",
    "code_histogram",
    "spatial_adjacency",
    "CodeStatistics",
    "SpeedThresholds",
    "PARTS",
    "PART_GROUPS",
    "StepKinematics",
    "step_kinematics",
    "StepMotionHead",
    "NameAccuracy",
    "name_accuracy",
    "CodeName",
    "describe_motion",
    "name_codes",
    "NarrativeSegment",
    "ActionNarrative",
    "merge_token_runs",
    "act_token",
    "cited_segments",
]
