"""LightningDataModules for skeleton clips and scene graphs, and the file formats they read.

The DataModules are imported on first use, so ``datamodules.formats`` (and ``lvlm-var inspect``) never
import Lightning."""

from lvlm_var.lazy_exports import lazy_exports

__all__ = ["ActionGenomeDataModule", "CAD120DataModule", "NTUSkeletonDataModule"]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "ActionGenomeDataModule": ".scene_graph_datamodule",
        "CAD120DataModule": ".cad120_datamodule",
        "NTUSkeletonDataModule": ".skeleton_datamodule",
    },
)
