"""LightningDataModules for skeleton clips and scene graphs, and the file formats they read."""

from .scene_graph_datamodule import ActionGenomeDataModule
from .skeleton_datamodule import NTUSkeletonDataModule

__all__ = ["ActionGenomeDataModule", "NTUSkeletonDataModule"]
