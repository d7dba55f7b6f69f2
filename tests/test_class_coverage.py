"""A class list with classes that no training sample has is said once at ``setup``: how many and which.

One DataModule of every family (NTU and NW-UCLA skeletons, Action Genome + Charades scene graphs,
CAD-120) over a small synthetic set; the expected names are computed from the training items themselves.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from datamodules.cad120_datamodule import CAD120DataModule
from datamodules.scene_graph_datamodule import ActionGenomeDataModule
from datamodules.skeleton_datamodule import NTUSkeletonDataModule
from datamodules.store_datamodule import StoreDataModule
from datamodules.synthetic.cad120 import SyntheticCAD120Config, write_synthetic_cad120
from datamodules.synthetic.ntu import SyntheticNTUConfig, write_synthetic_ntu
from datamodules.synthetic.nwucla import SyntheticNWUCLAConfig, write_synthetic_nwucla
from datamodules.synthetic.scene_graphs import write_synthetic_scene_graphs


def _ntu(root: Path) -> StoreDataModule:
    config = SyntheticNTUConfig(actions=(23, 38), performers=(1, 3), cameras=(1,), num_missing=0)
    write_synthetic_ntu(root, seed=0, config=config, write_missing_list=False)
    return NTUSkeletonDataModule(root, "ntu60-xsub", clip_length=8, batch_size=2)


def _nwucla(root: Path) -> StoreDataModule:
    config = SyntheticNWUCLAConfig(actions=(1, 2), subjects=(1,), views=(1, 3), episodes=1)
    write_synthetic_nwucla(root, seed=0, config=config)
    return NTUSkeletonDataModule(root, "nwucla-xview", clip_length=8, batch_size=2)


def _scene_graphs(root: Path) -> StoreDataModule:
    paths = write_synthetic_scene_graphs(root, seed=0, num_videos=12, feature_dim=4)
    with paths["charades_classes"].open("a") as handle:  # a class that no video has
        handle.write("c157 Juggling some balls\n")
    return ActionGenomeDataModule(root, frames_per_video=4, max_pairs=3, batch_size=2)


def _cad120(root: Path) -> StoreDataModule:
    write_synthetic_cad120(root, seed=0, config=SyntheticCAD120Config(activities=("making_cereal",)))
    return CAD120DataModule(root, frames_per_clip=4, max_pairs=3, batch_size=2)


def _trained_classes(module: StoreDataModule) -> set[int]:
    """The classes of the training items, read from the items as a model gets them."""
    dataset = module.datasets["train"]
    seen: set[int] = set()
    for item in (dataset[i] for i in range(len(dataset))):
        labels = np.asarray(item["label"] if "label" in item else item["labels"])
        seen |= set(np.flatnonzero(labels).tolist()) if labels.ndim == 1 else {int(labels)}
    return seen


@pytest.mark.parametrize("family", [_ntu, _nwucla, _scene_graphs, _cad120], ids=lambda f: f.__name__[1:])
def test_classes_without_a_training_sample_are_warned_once(
    tmp_path: Path, family: Callable[[Path], StoreDataModule]
) -> None:
    module = family(tmp_path / "data")
    module.prepare_data()
    with pytest.warns(UserWarning, match=r"classes have no training sample") as record:
        module.setup("fit")
    absent = [name for i, name in enumerate(module.class_names) if i not in _trained_classes(module)]
    assert absent, "the fixture should leave some classes without a training sample"
    messages = [str(w.message) for w in record if "no training sample" in str(w.message)]
    assert messages == [
        f"{len(absent)} of {module.num_classes} classes have no training sample in the training split of "
        f"{module.store_location}, so a model cannot learn them: {', '.join(absent)}"
    ]
    with warnings.catch_warnings(record=True) as again:
        warnings.simplefilter("always")
        module.setup("test")
    assert not [w for w in again if re.search("no training sample", str(w.message))]


def test_no_warning_when_every_class_has_a_training_sample(tmp_path: Path) -> None:
    config = SyntheticNWUCLAConfig(subjects=(1,), views=(1, 3), episodes=1)  # all 10 actions, view 1 trains
    write_synthetic_nwucla(tmp_path / "data", seed=0, config=config)
    module = NTUSkeletonDataModule(tmp_path / "data", "nwucla-xview", clip_length=8, batch_size=2)
    module.prepare_data()
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        module.setup("fit")
    assert _trained_classes(module) == set(range(10))
    assert not [w for w in record if "no training sample" in str(w.message)]
