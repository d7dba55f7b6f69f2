"""VST (Video-to-Semantic-Tokens): skeleton clips -> discrete semantic action tokens -> action narratives."""

from .config import VSTConfig
from .decoder import DecodedMotion, VSTDecoder
from .encoder import VSTEncoder
from .graph import spatial_adjacency
from .head import TokenClassifierHead
from .module import VSTModule, VSTOutput, load_vst_tokenizer
from .naming import describe_pose_motion, name_codes
from .narrative import ActionNarrative, NarrativeSegment, act_token, merge_token_runs
from .probe import BagOfCodesProbe, code_histogram
from .quantizer import CodebookUsage, QuantizerOutput, VSTQuantizer, codebook_usage
from .tokenizer import VSTTokenizer

__all__ = [
    "VSTConfig",
    "VSTTokenizer",
    "VSTModule",
    "load_vst_tokenizer",
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
    "describe_pose_motion",
    "name_codes",
    "NarrativeSegment",
    "ActionNarrative",
    "merge_token_runs",
    "act_token",
]
