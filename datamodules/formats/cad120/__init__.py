"""CAD-120 (Cornell Activity Dataset): readers and writers of the released annotation files.

One module a file kind: :mod:`.labels` (``activityLabel.txt``, ``labeling.txt``), :mod:`.skeleton`
(``<id>.txt``), :mod:`.objects` (``<id>_obj<k>.txt``), :mod:`.folders` (a video, an activity folder, the
data set and its layout), :mod:`.paths` (the checked path of every file an id names), :mod:`.relations`
(our optional per-token relation csv); :mod:`.vocabulary` holds the label sets and :mod:`.camera` the
Kinect v1 projection. Every reader raises :class:`~datamodules.formats.errors.CAD120FormatError` naming
the file, the 1-based line (or the video) and what was expected.
"""

from .camera import IMAGE_SIZE, KINECT_FOCAL, KINECT_PRINCIPAL_POINT, project_to_image, unproject_from_image
from .folders import (
    CAD120Video,
    find_cad120_activity_dirs,
    read_cad120,
    read_cad120_activity,
    read_cad120_labels,
    read_cad120_video,
    write_cad120_activity,
)
from .labels import (
    CAD120Activity,
    CAD120Segment,
    read_cad120_activity_labels,
    read_cad120_labeling,
    write_cad120_activity_labels,
    write_cad120_labeling,
)
from .objects import CAD120ObjectTrack, read_cad120_objects, write_cad120_objects
from .paths import ACTIVITY_LABEL_FILE, LABELING_FILE, OBJECT_FILE_PATTERN, object_file, skeleton_file
from .relations import RELATION_FILE_HEADER, read_cad120_relations, write_cad120_relations
from .skeleton import (
    CAD120_JOINTS,
    CAD120_ORIENTED_JOINTS,
    CAD120_SKELETON_VALUES,
    CAD120Skeleton,
    read_cad120_skeleton,
    write_cad120_skeleton,
)
from .vocabulary import (
    CAD120_ACTIVITIES,
    CAD120_OBJECT_CLASSES,
    CAD120_OBJECT_TYPES,
    CAD120_SUB_ACTIVITIES,
    CAD120_SUBJECTS,
    CAD120_TO_AG_OBJECT,
)

__all__ = [
    "CAD120_JOINTS",
    "CAD120_ORIENTED_JOINTS",
    "CAD120_SKELETON_VALUES",
    "CAD120_SUBJECTS",
    "CAD120_ACTIVITIES",
    "CAD120_SUB_ACTIVITIES",
    "CAD120_OBJECT_TYPES",
    "CAD120_TO_AG_OBJECT",
    "CAD120_OBJECT_CLASSES",
    "IMAGE_SIZE",
    "KINECT_FOCAL",
    "KINECT_PRINCIPAL_POINT",
    "ACTIVITY_LABEL_FILE",
    "LABELING_FILE",
    "OBJECT_FILE_PATTERN",
    "RELATION_FILE_HEADER",
    "project_to_image",
    "unproject_from_image",
    "skeleton_file",
    "object_file",
    "CAD120Activity",
    "CAD120Segment",
    "CAD120Skeleton",
    "CAD120ObjectTrack",
    "CAD120Video",
    "read_cad120_activity_labels",
    "write_cad120_activity_labels",
    "read_cad120_labeling",
    "write_cad120_labeling",
    "read_cad120_skeleton",
    "write_cad120_skeleton",
    "read_cad120_objects",
    "write_cad120_objects",
    "read_cad120_labels",
    "read_cad120_video",
    "read_cad120_activity",
    "write_cad120_activity",
    "find_cad120_activity_dirs",
    "read_cad120",
    "read_cad120_relations",
    "write_cad120_relations",
]
