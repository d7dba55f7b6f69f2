"""Action Genome RGB frames as its toolkit dumps them: ``frames/<VIDEO_ID>.mp4/<FRAME>.png``.

The frame key of the annotation pickles (``"001YG.mp4/000089.png"``) is the path under ``frames/``.
A frame is read as an ``(H, W, 3)`` uint8 RGB array; a missing, truncated or undecodable file is a
:class:`~datamodules.formats.errors.FrameFormatError` naming it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from .errors import FrameFormatError

__all__ = ["frame_path", "read_frame", "write_frame"]

# A 4K frame is about 8.3 Mpixels; anything far above is a decompression bomb, not a video frame.
_MAX_PIXELS = 64_000_000


def frame_path(frames_dir: str | Path, key: str) -> Path:
    """The image of a frame key: ``frames_dir / "001YG.mp4/000089.png"``."""
    return Path(frames_dir) / key


def read_frame(path: str | Path) -> np.ndarray:
    """Read one frame as ``(H, W, 3)`` uint8 RGB.

    Raises:
        FrameFormatError: the file is missing, not an image, truncated, or implausibly large.
    """
    path = Path(path)
    if not path.is_file():
        raise FrameFormatError(path, "", "expected an image file, found none")
    try:
        with Image.open(path) as image:
            width, height = image.size
            if width * height > _MAX_PIXELS:
                raise FrameFormatError(
                    path, "", f"image of {width}x{height} pixels exceeds the {_MAX_PIXELS} a frame may have"
                )
            return np.array(image.convert("RGB"))
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        if isinstance(error, FrameFormatError):
            raise
        raise FrameFormatError(path, "", f"expected a readable PNG/JPEG image: {error}") from None


def write_frame(path: str | Path, image: np.ndarray) -> None:
    """Write an ``(H, W, 3)`` uint8 RGB array as PNG, creating the video's folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.ascontiguousarray(image, dtype=np.uint8), "RGB").save(path, format="PNG")
