"""LaIAR's language model trained alone on the Charades-scale preset: how fast does the teacher learn?

A plain loop over the preset's language inputs (object classes and relations; no box features, no token
selection), the model section of ``synthetic_charades_laiar.yaml`` (D=64, 2 blocks, T=8, K=11), AdamW
with the YAML's warm-up and cosine decay, the summed BCE of ``L_s``. Each epoch prints the training loss,
the language head's test mAP and its *order* accuracy: over the test positives whose class has a reversed
twin (same object, the two relations swapped), how often the true class outscores the twin. The twin is
not in the video (one action an object), so a model blind to order sits at the share the class
frequencies alone give (about 0.72 here)::

    python -m experiments.language_branch --epochs 6 [--no-semantic-norm] [--no-temporal-embedding]
        [--readout token_max] [--rotary-time]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
from torch import Tensor
from torchmetrics.classification import MultilabelAveragePrecision

from datamodules import ActionGenomeDataModule
from datamodules.synthetic.charades_scale import charades_scale_actions
from lvlm_var.batches import SceneGraphBatch
from lvlm_var.dtformer.config import LaIARConfig
from lvlm_var.dtformer.laiar import LaIAR
from lvlm_var.dtformer.losses import classification_loss
from lvlm_var.schedule import WarmupCosine

__all__ = ["twin_classes", "order_accuracy", "train_language_branch"]


def twin_classes() -> Tensor:
    """``(C,)`` long: each preset class's reversed twin (itself when it has none)."""
    actions = charades_scale_actions()
    index = {(a.objects[0], a.relation_before, a.relation_after): i for i, a in enumerate(actions)}
    return torch.tensor(
        [index.get((a.objects[0], a.relation_after, a.relation_before), i) for i, a in enumerate(actions)]
    )


def order_accuracy(scores: Tensor, labels: Tensor, twins: Tensor) -> float:
    """Share of the positives with a twin whose score beats the twin's (``(N, C)`` scores and labels)."""
    video, label = labels.nonzero().unbind(1)
    has_twin = twins[label] != label
    video, label = video[has_twin], label[has_twin]
    return float((scores[video, label] > scores[video, twins[label]]).float().mean())


def _language_logits(model: LaIAR, batch: SceneGraphBatch) -> Tensor:
    return model.forward_head(model.forward_features(batch, "language", select=False), "language")


def train_language_branch(
    datamodule: ActionGenomeDataModule,
    epochs: int,
    lr: float = 3e-3,
    semantic_norm: bool = True,
    temporal_embedding: bool = True,
    dropout: float = 0.1,
    readout: str = "class_token",
    rotary_time: bool = False,
) -> list[dict[str, float]]:
    """Train the language model alone; one record (``loss``, ``mAP``, ``order``) per epoch."""
    datamodule.prepare_data()
    datamodule.setup("fit")
    datamodule.setup("test")
    classes = len(datamodule.class_names)
    config = LaIARConfig(
        num_classes=classes,
        object_class_names=datamodule.object_classes,
        relation_names=datamodule.relationship_classes,
        encoder=dict(
            feature_dim=datamodule.feature_dim,  # unused by this branch; as the CLI links it
            part_dim=64,
            embed_dim=64,
            box_map=False,
            global_context=False,
            semantic_norm=semantic_norm,
        ),
        dtformer=dict(
            dim=64,
            depth=2,
            num_heads=4,
            num_frames=datamodule.frames_per_video,
            max_pairs=datamodule.max_pairs,
            dropout=dropout,
            readout=readout,
            rotary_time=rotary_time,
        ),
        cross_modal_head=False,
        head_prior=1.0 / classes,
    )
    model = LaIAR(config)
    if not temporal_embedding:
        model.language_former.temporal_embed.data.zero_()
        model.language_former.temporal_embed.requires_grad_(False)
    parameters = [
        p
        for name, p in model.named_parameters()
        if name.startswith(("semantic_", "language_")) and p.requires_grad
    ]
    optimizer = torch.optim.AdamW(
        [
            {"params": [p for p in parameters if p.ndim >= 2], "weight_decay": 0.05},
            {"params": [p for p in parameters if p.ndim < 2], "weight_decay": 0.0},
        ],
        lr=lr,
    )
    steps = epochs * len(datamodule.train_dataloader())
    scheduler = WarmupCosine(optimizer, steps, int(steps * 0.05))
    twins = twin_classes()
    records = []
    for _ in range(epochs):
        model.train()
        total, count = 0.0, 0
        for batch in datamodule.train_dataloader():
            loss = classification_loss(_language_logits(model, batch), batch["labels"], multi_label=True)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            total, count = total + loss.item(), count + 1
        model.eval()
        with torch.no_grad():
            test = list(datamodule.test_dataloader())
            scores = torch.cat([_language_logits(model, b) for b in test])
            labels = torch.cat([b["labels"] for b in test]).long()
        records.append(
            {
                "loss": round(total / count, 3),
                "mAP": round(float(MultilabelAveragePrecision(num_labels=classes)(scores, labels)), 3),
                "order": round(order_accuracy(scores, labels, twins), 3),
            }
        )
        print(json.dumps(records[-1]), flush=True)
    return records


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m experiments.language_branch", description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("data/synthetic_charades"))
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--dropout", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-semantic-norm", dest="semantic_norm", action="store_false")
    parser.add_argument("--no-temporal-embedding", dest="temporal_embedding", action="store_false")
    parser.add_argument("--readout", choices=("class_token", "token_max"), default="class_token")
    parser.add_argument("--rotary-time", action="store_true")
    args = parser.parse_args(argv)
    torch.manual_seed(args.seed)
    datamodule = ActionGenomeDataModule(args.data, frames_per_video=8, max_pairs=11, batch_size=32)
    train_language_branch(
        datamodule,
        args.epochs,
        args.lr,
        args.semantic_norm,
        args.temporal_embedding,
        args.dropout,
        args.readout,
        args.rotary_time,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
