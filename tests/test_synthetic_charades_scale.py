"""The Charades-scale preset is learnable by LaIAR's language branch: what it reads decides every label."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import torch

from datamodules import ActionGenomeDataModule
from datamodules.formats.class_names import AG_CONTACTING_RELATIONSHIPS
from datamodules.synthetic.charades_scale import (
    CharadesScaleConfig,
    charades_scale_actions,
    main,
    write_synthetic_charades_scale,
)


def test_classes_come_in_reversed_pairs_per_object() -> None:
    """Only the order of an object's two relations tells most classes from their twin (at most one class
    an object, the last of an odd count, has no twin)."""
    transitions = {(a.objects[0], a.relation_before, a.relation_after) for a in charades_scale_actions()}
    assert len(transitions) == 157
    twinless: dict[str, int] = {}
    for obj, before, after in transitions:
        if (obj, after, before) not in transitions:
            twinless[obj] = twinless.get(obj, 0) + 1
    assert max(twinless.values(), default=0) <= 1


def test_first_and_last_relation_of_each_object_give_exactly_the_labels(tmp_path: Path) -> None:
    """The rule the language branch has to learn: each object's contacting relation in its first and last
    sampled frame, looked up in the class table, names every label of the test batch and no other."""
    write_synthetic_charades_scale(
        tmp_path, seed=5, num_videos=40, feature_dim=8, config=CharadesScaleConfig.cpu()
    )
    datamodule = ActionGenomeDataModule(tmp_path, frames_per_video=8, max_pairs=11, batch_size=64)
    datamodule.prepare_data()
    datamodule.setup("test")
    table = {
        (a.objects[0], a.relation_before, a.relation_after): i for i, a in enumerate(charades_scale_actions())
    }
    contacting = torch.tensor([datamodule.relationship_classes.index(r) for r in AG_CONTACTING_RELATIONSHIPS])
    videos = 0
    for batch in datamodule.test_dataloader():
        for row, labels in enumerate(batch["labels"]):
            tracks: dict[str, list[str]] = {}
            for t, k in batch["mask"][row].nonzero().tolist():
                (relation,) = contacting[batch["relations"][row, t, k, contacting] > 0.5].tolist()
                name = datamodule.object_classes[int(batch["object_class"][row, t, k])]
                tracks.setdefault(name, []).append(datamodule.relationship_classes[relation])
            named = {table[(o, r[0], r[-1])] for o, r in tracks.items() if r[0] != r[-1]}
            assert named == set(labels.nonzero().flatten().tolist())
            videos += 1
    assert videos == 8


def test_command_line_feature_noise_is_the_config_field(tmp_path: Path) -> None:
    main(["--out", str(tmp_path / "cli"), "--videos", "3", "--feature-noise", "3"])
    config = replace(CharadesScaleConfig.cpu(), feature_noise=3.0)
    write_synthetic_charades_scale(tmp_path / "api", num_videos=3, config=config)
    written = sorted((tmp_path / "api" / "action_genome" / "features").iterdir())
    assert written
    for path in written:
        cli = tmp_path / "cli" / "action_genome" / "features" / path.name
        assert cli.read_bytes() == path.read_bytes()
    with pytest.raises(ValueError, match="feature_noise"):
        main(["--out", str(tmp_path / "bad"), "--videos", "3", "--feature-noise", "-1"])
