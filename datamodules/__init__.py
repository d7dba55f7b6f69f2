"""LightningDataModules for skeleton clips and scene graphs, and the file formats they read."""

from .cad120_datamodule import CAD120DataModule
from .scene_graph_datamodule import ActionGenomeDataModule
from .skeleton_datamodule import NTUSkeletonDataModule

__all__ = ["ActionGenomeDataModule", "CAD120DataModule", "NTUSkeletonDataModule"]
