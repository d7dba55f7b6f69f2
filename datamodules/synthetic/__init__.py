"""Generators that write the embedded synthetic data sets in the real file formats."""

from __future__ import annotations

from pathlib import Path

from ..progress import progress_bar
from .cad120 import write_synthetic_cad120
from .ntu import write_synthetic_ntu
from .nwucla import write_synthetic_nwucla
from .scene_graphs import SyntheticSceneGraphConfig, write_synthetic_scene_graphs

__all__ = [
    "NOISY_SCENE_GRAPHS",
    "generate_all",
    "write_synthetic_cad120",
    "write_synthetic_ntu",
    "write_synthetic_nwucla",
    "write_synthetic_scene_graphs",
]

COMPLETE_MARKER = ".complete"
NOISY_SCENE_GRAPHS = "synthetic_ag_noisy"


def generate_all(out_dir: str | Path, seed: int = 0) -> dict[str, str]:
    """Write every synthetic data set under ``out_dir`` and mark the folder complete.

    Layout: ``ntu/`` (NTU RGB+D ``.skeleton`` files and the missing-skeleton list), ``nwucla/``
    (NW-UCLA JSON), ``action_genome/`` + ``charades/`` (scene graphs, box features, Charades csv),
    ``cad120/`` (CAD-120 annotations, skeletons and object tracks), and ``synthetic_ag_noisy/`` (the
    scene graphs again, with Action Genome's annotation noise: ``SyntheticSceneGraphConfig.ag_noisy()``).

    Returns:
        A short human-readable summary, name -> description.
    """
    out = Path(out_dir)
    with progress_bar(5, "writing the synthetic data sets", unit="data set") as bar:
        ntu = write_synthetic_ntu(out / "ntu", seed=seed)
        bar.update()
        nwucla = write_synthetic_nwucla(out / "nwucla", seed=seed)
        bar.update()
        scene_graphs = write_synthetic_scene_graphs(out, seed=seed)
        bar.update()
        noisy = write_synthetic_scene_graphs(
            out / NOISY_SCENE_GRAPHS, seed=seed, config=SyntheticSceneGraphConfig.ag_noisy()
        )
        bar.update()
        cad120 = write_synthetic_cad120(out / "cad120", seed=seed)
        bar.update()
    features = sorted(Path(scene_graphs["features"]).glob("*.npz"))
    (out / COMPLETE_MARKER).write_text(f"seed {seed}\n")
    return {
        "NTU RGB+D skeletons": f"{len(ntu)} files in {out / 'ntu'}",
        "NW-UCLA sequences": f"{len(nwucla)} files in {out / 'nwucla'}",
        "Action Genome + Charades videos": f"{len(features)} videos in {out}",
        "Action Genome + Charades videos, annotation noise": f"{len(list(noisy['features'].glob('*.npz')))} "
        f"videos in {out / NOISY_SCENE_GRAPHS}",
        "CAD-120 videos": f"{cad120['videos']} videos, {cad120['segments']} sub-activity segments in "
        f"{out / 'cad120'}",
    }
