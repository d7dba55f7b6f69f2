"""CAD-120's label vocabularies: subjects, activities, sub-activities, object types and their Action
Genome classes."""

from __future__ import annotations

from ..class_names import AG_OBJECT_CLASSES

__all__ = [
    "CAD120_SUBJECTS",
    "CAD120_ACTIVITIES",
    "CAD120_SUB_ACTIVITIES",
    "CAD120_OBJECT_TYPES",
    "CAD120_TO_AG_OBJECT",
    "CAD120_OBJECT_CLASSES",
]

CAD120_SUBJECTS: tuple[int, ...] = (1, 3, 4, 5)
CAD120_ACTIVITIES: tuple[str, ...] = (
    "arranging_objects",
    "cleaning_objects",
    "having_meal",
    "making_cereal",
    "microwaving_food",
    "picking_objects",
    "stacking_objects",
    "taking_food",
    "taking_medicine",
    "unstacking_objects",
)
# The official sub-activity order (labels 1-10 of the CAD-120 readme), 0-based here.
CAD120_SUB_ACTIVITIES: tuple[str, ...] = (
    "reaching",
    "moving",
    "pouring",
    "eating",
    "drinking",
    "opening",
    "placing",
    "closing",
    "null",
    "cleaning",
)
CAD120_OBJECT_TYPES: tuple[str, ...] = (
    "book",
    "bowl",
    "box",
    "cloth",
    "cup",
    "medcinebox",  # sic, the dataset's spelling
    "microwave",
    "milk",
    "plate",
    "remote",
)
# Nearest Action Genome class of each CAD-120 object type; microwave and remote have none and extend
# the vocabulary (a cleaning cloth is a towel, not AG's "clothes"; a milk carton is a bottle-like container).
CAD120_TO_AG_OBJECT: dict[str, str] = {
    "book": "book",
    "bowl": "dish",
    "box": "box",
    "cloth": "towel",
    "cup": "cup/glass/bottle",
    "medcinebox": "medicine",
    "microwave": "microwave",
    "milk": "cup/glass/bottle",
    "plate": "dish",
    "remote": "remote",
}
# The object vocabulary of CAD-120 tokens: the 36 Action Genome classes, then the two extensions.
CAD120_OBJECT_CLASSES: tuple[str, ...] = AG_OBJECT_CLASSES + tuple(
    sorted(set(CAD120_TO_AG_OBJECT.values()) - set(AG_OBJECT_CLASSES))
)
