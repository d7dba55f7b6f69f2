"""RGB frames for the synthetic scene graphs, so that frames -> ``extract-features`` -> LaIAR runs end to end.

Each annotated frame becomes ``frames/<VIDEO>.mp4/<FRAME>.png`` at the annotation's frame size, in the
Action Genome toolkit's layout. The look encodes the annotation: the person and every visible object are
filled boxes whose colour is their class's; a band across the middle of an object box has the colour of
its contacting relation with the person, so a relation change is visible. Nuisance: a per-video
background colour and brightness, and pixel noise in every frame.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..formats.action_genome import ActionGenomeAnnotations, AGFrame
from ..formats.class_names import AG_CONTACTING_RELATIONSHIPS, AG_OBJECT_CLASSES, AG_RELATIONSHIP_CLASSES
from ..formats.frames import frame_path, write_frame

__all__ = ["render_synthetic_frames"]

_PALETTE_SEED = 36  # class and relation colours are constants of the renderer, not of the data seed
_CONTACTING = {AG_RELATIONSHIP_CLASSES.index(r) for r in AG_CONTACTING_RELATIONSHIPS}


def render_synthetic_frames(
    annotations: ActionGenomeAnnotations, frames_dir: str | Path, seed: int = 0, noise: float = 12.0
) -> int:
    """Write one PNG for every annotated frame; return how many were written.

    Args:
        annotations: the synthetic Action Genome annotations (boxes in pixels of ``frame_size``).
        frames_dir: the ``frames/`` folder to fill.
        seed: the nuisance seed.
        noise: std of the per-pixel noise, in 0-255 units.
    """
    palette = np.random.default_rng(_PALETTE_SEED)
    class_colour = palette.integers(0, 256, size=(len(AG_OBJECT_CLASSES), 3))
    relation_colour = palette.integers(0, 256, size=(len(AG_RELATIONSHIP_CLASSES), 3))
    rng = np.random.default_rng(seed)
    written = 0
    for video_id in sorted(annotations.videos):
        background = rng.integers(0, 256, size=3)
        brightness = rng.uniform(0.7, 1.3)
        for frame in annotations.videos[video_id]:
            image = _render(frame, background, class_colour, relation_colour)
            image = image * brightness + noise * rng.standard_normal(image.shape)
            write_frame(frame_path(frames_dir, frame.key), np.clip(image, 0, 255).astype(np.uint8))
            written += 1
    return written


def _render(
    frame: AGFrame, background: np.ndarray, class_colour: np.ndarray, relation_colour: np.ndarray
) -> np.ndarray:
    width, height = frame.frame_size
    image = np.empty((height, width, 3), np.float64)
    image[:] = background
    if frame.person_box is not None:
        _fill(image, frame.person_box, class_colour[AG_OBJECT_CLASSES.index("person")])
    for obj in frame.objects:
        if not obj.visible or obj.box_xyxy is None:
            continue
        _fill(image, obj.box_xyxy, class_colour[obj.class_index])
        contacting = [r for r in obj.relation_indices if r in _CONTACTING]
        if contacting:
            x1, y1, x2, y2 = obj.box_xyxy
            band = (x1, y1 + 0.35 * (y2 - y1), x2, y1 + 0.65 * (y2 - y1))
            _fill(image, band, relation_colour[contacting[0]])
    return image


def _fill(image: np.ndarray, box: tuple[float, ...], colour: np.ndarray) -> None:
    height, width = image.shape[:2]
    x1, y1, x2, y2 = (int(round(v)) for v in box)
    image[max(0, y1) : min(height, y2), max(0, x1) : min(width, x2)] = colour
