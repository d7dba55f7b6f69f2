"""Action Genome class vocabularies and the name normalisation that matches their spellings.

The official ``object_classes.txt`` / ``relationship_classes.txt`` strip ``/`` and ``_`` from the
names (``closetcabinet ``, ``cupglassbottle``, ``lookingat``) while the annotation pickles keep them
(``closet/cabinet``, ``looking_at``); :func:`normalise_class_name` maps both to one key.
"""

from __future__ import annotations

__all__ = [
    "AG_OBJECT_CLASSES",
    "AG_ATTENTION_RELATIONSHIPS",
    "AG_SPATIAL_RELATIONSHIPS",
    "AG_CONTACTING_RELATIONSHIPS",
    "AG_RELATIONSHIP_CLASSES",
    "normalise_class_name",
]

# The 36 object classes in the order of the official object_classes.txt, spelled as in the pickles.
AG_OBJECT_CLASSES: tuple[str, ...] = (
    "person",
    "bag",
    "bed",
    "blanket",
    "book",
    "box",
    "broom",
    "chair",
    "closet/cabinet",
    "clothes",
    "cup/glass/bottle",
    "dish",
    "door",
    "doorknob",
    "doorway",
    "floor",
    "food",
    "groceries",
    "laptop",
    "light",
    "medicine",
    "mirror",
    "paper/notebook",
    "phone/camera",
    "picture",
    "pillow",
    "refrigerator",
    "sandwich",
    "shelf",
    "shoe",
    "sofa/couch",
    "table",
    "television",
    "towel",
    "vacuum",
    "window",
)
AG_ATTENTION_RELATIONSHIPS: tuple[str, ...] = ("looking_at", "not_looking_at", "unsure")
AG_SPATIAL_RELATIONSHIPS: tuple[str, ...] = (
    "above",
    "beneath",
    "in_front_of",
    "behind",
    "on_the_side_of",
    "in",
)
AG_CONTACTING_RELATIONSHIPS: tuple[str, ...] = (
    "carrying",
    "covered_by",
    "drinking_from",
    "eating",
    "have_it_on_the_back",
    "holding",
    "leaning_on",
    "lying_on",
    "not_contacting",
    "other_relationship",
    "sitting_on",
    "standing_on",
    "touching",
    "twisting",
    "wearing",
    "wiping",
    "writing_on",
)
# The 26 relationships in the order of the official relationship_classes.txt: attention, spatial, contacting.
AG_RELATIONSHIP_CLASSES: tuple[str, ...] = (
    AG_ATTENTION_RELATIONSHIPS + AG_SPATIAL_RELATIONSHIPS + AG_CONTACTING_RELATIONSHIPS
)


def normalise_class_name(name: str) -> str:
    """The matching key of an Action Genome class or relationship name.

    Args:
        name: a name as spelled in a class file (``"closetcabinet "``) or a pickle (``"closet/cabinet"``).

    Returns:
        The name lowercased with ``/``, ``_`` and whitespace removed, e.g. ``"closetcabinet"``.
    """
    return "".join(name.lower().replace("/", "").replace("_", "").split())
