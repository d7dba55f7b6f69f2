"""Prompt and target token ids: instruction + action narrative + question -> class name + "because ...".

Every piece is encoded on its own and the ids are concatenated, so the prompt, the class-name
continuation scored at inference and the training target tokenize identically wherever they meet.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor
from transformers import PreTrainedTokenizerBase

from lvlm_var.lvlm.vocabulary import ActionVocabulary
from lvlm_var.vst.narrative import ActionNarrative

__all__ = ["LABEL_END", "EncodedPrompt", "PromptBuilder"]

# Said right after the class name: it ends the name (so "sit" cannot win by being a prefix of
# "sit down") and opens the explanation.
LABEL_END = "because"


@dataclass(frozen=True)
class EncodedPrompt:
    """Token ids of one clip's prompt.

    Attributes:
        ids: the whole prompt, BOS first, ending with the assistant turn.
        narrative_tokens: how many of ``ids`` are the action narrative.
    """

    ids: list[int]
    narrative_tokens: int


class PromptBuilder:
    """Builds LLaVA-1.5 chat prompts (``USER: ... ASSISTANT:``) around action narratives.

    Args:
        tokenizer: the LLM tokenizer.
        vocabulary: where action codes live in the LLM vocabulary.
        instruction: the task description before the narrative.
        question: the question after the narrative.
        max_evidence: segments cited in a training explanation.
        code_class_evidence: ``(K, C)`` how much each code speaks for each class (the VST's bag-of-codes
            probe weights); a training explanation cites the segments whose codes speak most for the true
            class. ``None``: the longest segments.
    """

    def __init__(
        self,
        tokenizer: PreTrainedTokenizerBase,
        vocabulary: ActionVocabulary,
        instruction: str,
        question: str,
        max_evidence: int = 1,
        code_class_evidence: Tensor | None = None,
    ) -> None:
        self.tokenizer = tokenizer
        self.vocabulary = vocabulary
        self._head = self._encode(f"USER: {instruction}\nAction narrative:")
        self._tail = self._encode(f"\n{question} ASSISTANT:")
        self.max_evidence = max_evidence
        self.code_class_evidence = code_class_evidence

    def _encode(self, text: str) -> list[int]:
        return self.tokenizer(text, add_special_tokens=False).input_ids

    def encode_narrative(self, narrative: ActionNarrative) -> list[int]:
        """``<act_i> name (x.y s)`` per segment: the action token id, then its name and duration."""
        ids: list[int] = []
        for segment in narrative.segments:
            ids.append(self.vocabulary.token_id(segment.code))
            ids.extend(self._encode(segment.description))
        return ids

    def encode_prompt(self, narrative: ActionNarrative) -> EncodedPrompt:
        """The prompt of one clip."""
        narrative_ids = self.encode_narrative(narrative)
        bos = [self.tokenizer.bos_token_id] if self.tokenizer.bos_token_id is not None else []
        return EncodedPrompt(bos + self._head + narrative_ids + self._tail, len(narrative_ids))

    def encode_label(self, class_name: str) -> list[int]:
        """The scored continuation of a class: ``"<class name> because"``."""
        return self._encode(f"{class_name} {LABEL_END}")

    def evidence(self, narrative: ActionNarrative, label: int) -> list[int]:
        """Indices of the ``max_evidence`` segments a training target for class ``label`` cites, in temporal
        order: those whose codes speak most for it (longer first on ties), or the longest ones."""
        segments = narrative.segments

        def weight(i: int) -> float:
            if self.code_class_evidence is None:
                return 0.0
            return float(self.code_class_evidence[segments[i].code, label])

        order = sorted(range(len(segments)), key=lambda i: (-weight(i), -segments[i].length, i))
        return sorted(order[: self.max_evidence])

    @staticmethod
    def explanation_text(narrative: ActionNarrative, cited: list[int]) -> str:
        """The explanation after ``because``, citing segments ``cited`` (0-based) of ``narrative``, e.g.
        ``"[1] (0.0-0.4 s) right arm rises, then [2] (0.4-1.6 s) right hand moves to and fro."``."""
        steps = [narrative.segments[i].cited(i + 1) for i in cited]
        return ", then ".join(steps) + "." if steps else ""

    def encode_target(self, class_name: str, label: int, narrative: ActionNarrative) -> list[int]:
        """Training target for class ``label`` named ``class_name``: the label continuation, the explanation
        and EOS."""
        return (
            self.encode_label(class_name)
            + self._encode(self.explanation_text(narrative, self.evidence(narrative, label)))
            + [self.tokenizer.eos_token_id]
        )
