"""CAD-120 (Cornell Activity Dataset): readers and writers of the released annotation files.

One module a file kind: :mod:`.labels` (``activityLabel.txt``, ``labeling.txt``), :mod:`.skeleton`
(``<id>.txt``), :mod:`.objects` (``<id>_obj<k>.txt``), :mod:`.folders` (a video, an activity folder, the
data set and its layout), :mod:`.paths` (the checked path of every file an id names), :mod:`.relations`
(our optional per-token relation csv); :mod:`.vocabulary` holds the label sets and :mod:`.camera` the
Kinect v1 projection. Every reader raises :class:`~datamodules.formats.errors.CAD120FormatError` naming
the file, the 1-based line (or the video) and what was expected.
"""

# Each module's public names are listed once, in its own __all__; the package re-exports them all.
from . import camera, folders, labels, objects, paths, relations, skeleton, vocabulary
from .camera import *  # noqa: F403
from .folders import *  # noqa: F403
from .labels import *  # noqa: F403
from .objects import *  # noqa: F403
from .paths import *  # noqa: F403
from .relations import *  # noqa: F403
from .skeleton import *  # noqa: F403
from .vocabulary import *  # noqa: F403

__all__ = [
    *camera.__all__,
    *folders.__all__,
    *labels.__all__,
    *objects.__all__,
    *paths.__all__,
    *relations.__all__,
    *skeleton.__all__,
    *vocabulary.__all__,
]
