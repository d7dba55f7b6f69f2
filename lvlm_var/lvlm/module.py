"""LVLMClassifierModule: frozen VST -> action narrative -> 4-bit LLaVA + LoRA -> class scores + why."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any, Protocol

import torch
import torch.nn.functional as F
from lightning.pytorch import LightningModule
from torch import Tensor
from torchmetrics.classification import MulticlassAccuracy

from lvlm_var.batches import SkeletonBatch
from lvlm_var.explanation import CitedEvidence, ClassExplanation, EvidenceStep, ExplanationRecord
from lvlm_var.lvlm.attribution import cite_attributed, segment_attribution, segment_evidence
from lvlm_var.lvlm.config import LLMClassifierConfig
from lvlm_var.lvlm.generation import generate_continuations
from lvlm_var.lvlm.loading import load_backbone
from lvlm_var.lvlm.prompts import LABEL_END, EncodedPrompt, PromptBuilder
from lvlm_var.lvlm.scoring import pad_sequences, score_classes
from lvlm_var.random_state import RandomStateCheckpointing
from lvlm_var.schedule import WarmupCosine
from lvlm_var.vst.module import load_vst_probe, load_vst_tokenizer
from lvlm_var.vst.narrative import ActionNarrative, cited_segments

__all__ = ["NarrativeSource", "LVLMClassifierModule"]

_IGNORE = -100


class NarrativeSource(Protocol):
    """What the classifier needs from the VST: code names and skeleton -> narratives."""

    code_names: list[str]

    def tokenize(self, skeleton: Tensor) -> list[ActionNarrative]:
        """``(B, C, T, V, M)`` skeletons -> ``B`` narratives."""
        ...


class LVLMClassifierModule(RandomStateCheckpointing, LightningModule):
    """LVLM-VAR's classifier: reads VST action narratives, classifies by class likelihood, explains.

    The VST is loaded frozen from ``vst_checkpoint`` and tokenizes every skeleton batch on the fly.
    The LLaVA backbone (quantized, LoRA, action tokens) is built in :meth:`configure_model`, on this
    rank's device. Checkpoints hold only the LoRA adapters and the new action-token rows (plus the
    VST path in the hyperparameters); reloading rebuilds the base model from ``config.model_id``.

    Step outputs (for callbacks): in every stage ``tokens_kept`` ``(B,)`` float, the narrative length
        in LLM tokens, and ``tokens_total`` ``(B,)``, the prompt length in LLM tokens; in val / test /
        predict also ``preds`` ``(B,)`` predicted class and ``scores`` ``(B, C)`` class log-likelihoods;
        in test / predict also ``explanations``: ``B`` :class:`ExplanationRecord`.

    Logged keys: ``train/loss``, ``val/loss``, ``val/acc``, ``test/acc``, ``*/narrative_tokens``.

    Args:
        vst_checkpoint: path of the trained VSTModule checkpoint.
        class_names: class names, indexed by label; the strings the LLM scores.
        config: backbone, quantization, LoRA and prompt settings (a dict when read back from a checkpoint).
    """

    strict_loading = False

    def __init__(
        self,
        vst_checkpoint: str,
        class_names: list[str],
        config: LLMClassifierConfig | dict[str, Any] | None = None,
    ):
        super().__init__()
        if len(class_names) < 2 or len(set(class_names)) != len(class_names):
            raise ValueError(f"class_names must hold at least 2 distinct names, got {class_names}")
        if isinstance(config, dict):
            config = LLMClassifierConfig(**config)
        self.config = config or LLMClassifierConfig()
        self.save_hyperparameters(ignore=["config"])
        # A plain dict, so checkpoints load with torch.load(weights_only=True).
        self.hparams["config"] = asdict(self.config)
        self.class_names = list(class_names)
        self.vst: torch.nn.Module | None = None
        self.llm: torch.nn.Module | None = None
        self.val_accuracy = MulticlassAccuracy(num_classes=len(class_names), average="micro")
        self.test_accuracy = MulticlassAccuracy(num_classes=len(class_names), average="micro")

    # ----------------------------------------------------------------- construction

    def load_narrative_source(self) -> NarrativeSource:
        """The VST tokenizer alone (no decoder-training parts), loaded from ``vst_checkpoint`` on CPU
        (Lightning moves it with this module).

        Raises:
            FileNotFoundError: no file at ``vst_checkpoint``.
        """
        return load_vst_tokenizer(self.hparams.vst_checkpoint, map_location="cpu")

    def load_code_class_evidence(self) -> Tensor | None:
        """``(K, C)`` how much each code speaks for each class: the VST's bag-of-codes probe weights from
        ``vst_checkpoint`` (``None`` when it holds no fitted probe; training explanations then cite the
        longest segments)."""
        probe = load_vst_probe(self.hparams.vst_checkpoint, map_location="cpu")
        return None if probe is None else probe.weights[:-1].float()  # the last row is the bias

    def _load_device(self) -> torch.device:
        # 4-bit weights cannot move after loading: build them where this rank will run.
        return self._trainer.strategy.root_device if self._trainer is not None else torch.device("cpu")

    def configure_model(self) -> None:
        """Load the VST and build the LLaVA backbone once (a second call does nothing)."""
        if self.llm is not None:
            return
        vst = self.load_narrative_source()
        vst.requires_grad_(False)
        self.vst = vst.eval()
        backbone = load_backbone(self.config, list(vst.code_names), self._load_device())
        self.llm = backbone.model
        self.tokenizer = backbone.tokenizer
        self.vocabulary = backbone.vocabulary
        self.parameter_counts = backbone.parameters
        self.prompts = PromptBuilder(
            self.tokenizer,
            self.vocabulary,
            self.config.instruction,
            self.config.question,
            self.config.explanation_segments,
            self.load_code_class_evidence(),
        )
        self.label_ids = [self.prompts.encode_label(name) for name in self.class_names]

    def train(self, mode: bool = True) -> LVLMClassifierModule:
        super().train(mode)
        if self.vst is not None:
            self.vst.eval()  # frozen: no dropout / batch-norm updates while the LLM trains
        return self

    def configure_optimizers(self) -> dict[str, Any]:
        """AdamW with a cosine decay to zero over the fit: at a constant rate the last steps of a short run
        moved the synthetic test accuracy by up to 6 points between validations."""
        cfg = self.config
        trainable = [(n, p) for n, p in self.named_parameters() if p.requires_grad]
        rows = [p for n, p in trainable if n.endswith(".new_rows")]
        adapters = [p for n, p in trainable if not n.endswith(".new_rows")]
        groups = [{"params": adapters, "weight_decay": cfg.weight_decay}]
        if rows:
            groups.append({"params": rows, "lr": cfg.lr * cfg.action_row_lr_scale, "weight_decay": 0.0})
        optimizer = torch.optim.AdamW(groups, lr=cfg.lr)
        scheduler = WarmupCosine(optimizer, max(int(self.trainer.estimated_stepping_batches), 1), 0)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}

    # ----------------------------------------------------------------- shared step pieces

    def narratives(self, skeleton: Tensor) -> list[ActionNarrative]:
        """``(B, C, T, V, M)`` skeletons -> ``B`` action narratives from the frozen VST."""
        with torch.no_grad():
            return self.vst.tokenize(skeleton)

    def lm_loss(
        self, prompts: list[EncodedPrompt], narratives: list[ActionNarrative], labels: Tensor
    ) -> Tensor:
        """Cross-entropy of the target given the prompt: the mean over the label tokens (class name,
        "because") plus the mean over the explanation tokens (citations, EOS), so the class is not drowned
        by the longer explanation it shares the loss with."""
        targets = [
            self.prompts.encode_target(self.class_names[y], y, n)
            for y, n in zip(labels.tolist(), narratives, strict=True)
        ]
        sequences = [p.ids + t for p, t in zip(prompts, targets, strict=True)]
        ids, mask = pad_sequences(sequences, self.tokenizer.pad_token_id, self.device, "right")
        target_ids = torch.full_like(ids, _IGNORE)
        is_label = torch.zeros_like(ids, dtype=torch.bool)
        for row, (prompt, target, y) in enumerate(zip(prompts, targets, labels.tolist(), strict=True)):
            start = len(prompt.ids)
            target_ids[row, start : start + len(target)] = torch.as_tensor(target)
            is_label[row, start : start + len(self.label_ids[y])] = True
        logits = self.llm(input_ids=ids, attention_mask=mask, use_cache=False).logits
        losses = F.cross_entropy(
            logits[:, :-1].flatten(0, 1).float(),
            target_ids[:, 1:].flatten(),
            ignore_index=_IGNORE,
            reduction="none",
        )
        scored = target_ids[:, 1:].flatten() != _IGNORE
        label = is_label[:, 1:].flatten()
        return losses[scored & label].mean() + losses[scored & ~label].mean()

    def score(self, prompts: list[EncodedPrompt]) -> Tensor:
        """``(B, C)`` log-likelihood of every class name after every prompt."""
        return score_classes(
            self.llm,
            [p.ids for p in prompts],
            self.label_ids,
            self.tokenizer.pad_token_id,
            self.config.score_chunk_size,
        )

    @torch.no_grad()
    def score_with_evidence(self, batch: SkeletonBatch, keep_mask: Tensor) -> Tensor:
        """``(B, C)`` float64 class probabilities (softmax of the class log-likelihoods; float64 so that
        their logs stay exact for a confident class) when the LLM reads only the narrative segments of
        ``keep_mask`` (``(B, S)`` bool, segment order; ``S`` at least the longest narrative): the
        :class:`~lvlm_var.explanation.EvidenceScorer` interface, a narrative segment being the unit.

        Raises:
            ValueError: ``keep_mask`` has fewer columns than a narrative has segments.
        """
        narratives = self.narratives(batch["skeleton"])
        longest = max(len(n.segments) for n in narratives)
        if keep_mask.ndim != 2 or keep_mask.shape[1] < longest:
            raise ValueError(
                f"keep_mask must be (B, S) with S >= {longest} (the longest narrative), got "
                f"{tuple(keep_mask.shape)}"
            )
        kept = [
            ActionNarrative(tuple(s for s, keep in zip(n.segments, row.tolist(), strict=False) if keep))
            for n, row in zip(narratives, keep_mask, strict=True)
        ]
        return self.score_narratives(kept).double().softmax(-1)

    def score_narratives(self, narratives: list[ActionNarrative]) -> Tensor:
        """``(N, C)`` class log-likelihoods after the prompts of ``narratives``."""
        return self.score([self.prompts.encode_prompt(n) for n in narratives])

    def cite(
        self, narratives: list[ActionNarrative], prompts: list[EncodedPrompt], scores: Tensor
    ) -> tuple[list[list[int]], list[Tensor] | None]:
        """The segments each clip's explanation of its predicted class cites (``config.explanation_source``).

        Returns:
            per clip the cited 0-based segment indices (attribution: temporal order; generation: order of
            citation), and per clip the ``(S,)`` attributions in nats (``None`` for generation).
        """
        if self.config.explanation_source == "generation":
            return self.generated_citations(narratives, prompts, scores), None
        drops = segment_attribution(self.score_narratives, narratives, scores, scores.argmax(-1).tolist())
        cfg = self.config
        return [cite_attributed(d, cfg.min_attribution, cfg.max_cited_segments) for d in drops], drops

    def generated_citations(
        self, narratives: list[ActionNarrative], prompts: list[EncodedPrompt], scores: Tensor
    ) -> list[list[int]]:
        """Per clip, the segments the LLM's "because ..." generated after its predicted label cites."""
        generated = generate_continuations(
            self.llm,
            self.tokenizer,
            [p.ids + self.label_ids[y] for p, y in zip(prompts, scores.argmax(-1).tolist(), strict=True)],
            self.config.explanation_max_new_tokens,
        )
        return [cited_segments(text, n) for text, n in zip(generated, narratives, strict=True)]

    def explain(
        self,
        batch: SkeletonBatch,
        narratives: list[ActionNarrative],
        prompts: list[EncodedPrompt],
        scores: Tensor,
    ) -> tuple[list[ExplanationRecord], list[CitedEvidence]]:
        """Cite the segments behind each predicted label (:meth:`cite`) and pack one record per clip.

        Returns:
            The records (text and evidence: the cited segments, ``[N] (a.b-c.d s) name``, with their
            attribution when ``explanation_source`` is ``"attribution"``) and, per clip, the
            :class:`~lvlm_var.explanation.CitedEvidence` of its predicted class over ``(S,)`` narrative
            segments, ``S`` the batch's longest narrative.
        """
        preds = scores.argmax(-1).tolist()
        citations, drops = self.cite(narratives, prompts, scores)
        probabilities = scores.float().softmax(-1)
        top = probabilities.topk(min(self.config.top_k, len(self.class_names)), dim=-1)
        labels = batch["label"].tolist() if "label" in batch else [None] * len(prompts)
        records, cited_evidence = [], []
        width = max(len(n.segments) for n in narratives)
        for row, (narrative, prompt, cited) in enumerate(zip(narratives, prompts, citations, strict=True)):
            # The text is rendered from the cited segments: text and evidence are the same by construction.
            because = self.prompts.explanation_text(narrative, cited)
            steps = [
                EvidenceStep(
                    s.cited(i + 1),
                    s.start,
                    s.start + s.length - 1,
                    attribution=None if drops is None else float(drops[row][i]),
                )
                for i, s in ((i, narrative.segments[i]) for i in cited)
            ]
            cited_evidence.append(segment_evidence(row, preds[row], cited, narrative, width))
            name, probability = self.class_names[preds[row]], float(probabilities[row, preds[row]])
            sentence = f"{name} ({probability:.2f}): {because}"
            records.append(
                ExplanationRecord(
                    sample_id=batch["name"][row],
                    method="lvlm-var",
                    predictions=[
                        (self.class_names[c], float(p))
                        for p, c in zip(top.values[row], top.indices[row], strict=True)
                    ],
                    ground_truth=[] if labels[row] is None else [self.class_names[labels[row]]],
                    evidence=steps,
                    text=f"{name} {LABEL_END} {because}".strip(),
                    tokens=prompt.narrative_tokens,
                    classes=[ClassExplanation(name, probability, list(steps), sentence)],
                )
            )
        return records, cited_evidence

    def _token_counts(self, prompts: list[EncodedPrompt]) -> dict[str, Tensor]:
        return {
            "tokens_kept": torch.tensor([float(p.narrative_tokens) for p in prompts], device=self.device),
            "tokens_total": torch.tensor([float(len(p.ids)) for p in prompts], device=self.device),
        }

    # ----------------------------------------------------------------- steps

    def training_step(self, batch: SkeletonBatch, batch_idx: int) -> dict[str, Tensor]:
        narratives = self.narratives(batch["skeleton"])
        prompts = [self.prompts.encode_prompt(n) for n in narratives]
        loss = self.lm_loss(prompts, narratives, batch["label"])
        self.log("train/loss", loss, prog_bar=True, batch_size=len(prompts))
        return {"loss": loss, **self._token_counts(prompts)}

    def _evaluate(self, batch: SkeletonBatch, stage: str, metric: MulticlassAccuracy) -> dict[str, Any]:
        narratives = self.narratives(batch["skeleton"])
        prompts = [self.prompts.encode_prompt(n) for n in narratives]
        scores = self.score(prompts)
        preds = scores.argmax(-1)
        size = len(prompts)
        metric(preds, batch["label"])
        self.log(f"{stage}/acc", metric, prog_bar=True, batch_size=size)
        counts = self._token_counts(prompts)
        self.log(f"{stage}/narrative_tokens", counts["tokens_kept"].mean(), batch_size=size, sync_dist=True)
        outputs = {"preds": preds, "scores": scores, **counts}
        if stage == "val":
            loss = self.lm_loss(prompts, narratives, batch["label"])
            self.log("val/loss", loss, batch_size=size, sync_dist=True)
        else:
            explanations, cited_evidence = self.explain(batch, narratives, prompts, scores)
            outputs.update(explanations=explanations, cited_evidence=cited_evidence)
        return outputs

    def validation_step(self, batch: SkeletonBatch, batch_idx: int) -> dict[str, Any]:
        return self._evaluate(batch, "val", self.val_accuracy)

    def test_step(self, batch: SkeletonBatch, batch_idx: int) -> dict[str, Any]:
        return self._evaluate(batch, "test", self.test_accuracy)

    def predict_step(self, batch: SkeletonBatch, batch_idx: int) -> dict[str, Any]:
        narratives = self.narratives(batch["skeleton"])
        prompts = [self.prompts.encode_prompt(n) for n in narratives]
        scores = self.score(prompts)
        explanations, cited_evidence = self.explain(batch, narratives, prompts, scores)
        return {
            "preds": scores.argmax(-1),
            "scores": scores,
            **self._token_counts(prompts),
            "explanations": explanations,
            "cited_evidence": cited_evidence,
        }

    # ----------------------------------------------------------------- adapter-only checkpoints

    @staticmethod
    def _is_adapter_key(key: str) -> bool:
        return key.startswith("llm.") and (".lora_" in key or key.endswith(".new_rows"))

    def state_dict(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """Only the LoRA adapters and the action-token rows; never base or VST weights."""
        full = super().state_dict(*args, **kwargs)
        prefix = kwargs.get("prefix", "")
        return OrderedDict((k, v) for k, v in full.items() if self._is_adapter_key(k[len(prefix) :]))

    def load_state_dict(
        self, state_dict: Mapping[str, Any], strict: bool = True, assign: bool = False
    ) -> Any:
        """Load adapter weights; base weights come from ``config.model_id``.

        Raises:
            ValueError: a key is not an adapter of this model, an adapter is missing, or a shape differs
                (e.g. a VST codebook of another size).
        """
        own = super().state_dict()
        expected = {k for k in own if self._is_adapter_key(k)}
        unexpected = sorted(set(state_dict) - expected)
        missing = sorted(expected - set(state_dict))
        if unexpected or missing:
            raise ValueError(
                f"checkpoint does not match this LVLM classifier: unexpected keys {unexpected[:5]}, "
                f"missing adapter keys {missing[:5]}; was it trained with another LoRA config, "
                "token route or model?"
            )
        for key, value in state_dict.items():
            if value.shape != own[key].shape:
                raise ValueError(
                    f"checkpoint tensor {key} has shape {tuple(value.shape)}, this model expects "
                    f"{tuple(own[key].shape)} (another VST codebook size or LoRA rank?)"
                )
        result = super().load_state_dict(state_dict, strict=False, assign=assign)
        return result._replace(missing_keys=[])  # base weights are absent by design, not missing

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["lvlm_classifier"] = {
            "vst_checkpoint": self.hparams.vst_checkpoint,
            "model_id": self.config.model_id,
            "token_route": self.config.token_route,
            "action_token_ids": list(self.vocabulary.token_ids),
        }

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        saved = checkpoint.get("lvlm_classifier")
        if saved is not None and list(saved["action_token_ids"]) != list(self.vocabulary.token_ids):
            ours = list(self.vocabulary.token_ids)
            raise ValueError(
                f"checkpoint places the action tokens at ids {saved['action_token_ids'][:3]}... "
                f"({len(saved['action_token_ids'])} codes, route {saved['token_route']}, "
                f"model {saved['model_id']}) but this model at {ours[:3]}... ({len(ours)} codes, "
                f"route {self.config.token_route}, model {self.config.model_id})"
            )
