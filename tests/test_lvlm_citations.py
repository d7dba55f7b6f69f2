"""experiments/lvlm_citations.py: every citation rule measured on the same batches."""

from __future__ import annotations

from lvlm_helpers import VST_FRAMES, tiny_config
from vst_synthetic_motions import CLASS_NAMES, synthetic_batches

from experiments.lvlm_citations import RULES, compare_citations
from lvlm_var.lvlm.module import LVLMClassifierModule

pytest_plugins = ["lvlm_helpers"]  # the tiny_llava_dir and vst_checkpoint fixtures


def test_every_rule_is_measured_on_every_clip(tiny_llava_dir, vst_checkpoint) -> None:
    module = LVLMClassifierModule(str(vst_checkpoint), list(CLASS_NAMES), tiny_config(tiny_llava_dir))
    module.configure_model()
    module.eval()
    batches = list(synthetic_batches(6, 3, frames=VST_FRAMES, seed=2))
    report = compare_citations(module, batches, draws=2)
    assert list(report) == list(RULES)
    for name, rule in RULES.items():
        row = report[name]
        assert row["seconds"] > 0 and row["choice_explanations"] <= row["explanations"]
        if rule is not None:  # attribution always cites, at most max_cited_segments
            assert row["explanations"] == 6 and 1 <= row["cited_units"] <= rule[2]
