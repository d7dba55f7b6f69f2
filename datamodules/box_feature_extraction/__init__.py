"""``lvlm-var extract-features``: Action Genome RGB frames -> person, object and union RoI features.

One idea a module: :mod:`.detectors` (the Faster R-CNNs, loaded offline, and their classes in Action
Genome's terms), :mod:`.roi` (RoI pooling of a batch of frames' boxes), :mod:`.config` (the settings),
:mod:`.extract` (the loop over videos and the command).

Reads the frames in the layout the Action Genome toolkit dumps them (``frames/<VIDEO>.mp4/<FRAME>.png``)
and writes one :mod:`~datamodules.formats.box_features` ``.npz`` a video, which
:class:`~datamodules.ActionGenomeDataModule` reads through ``features_dir``.

- Boxes: ``mode="oracle"`` takes the person and object boxes of the Action Genome pickles (the paper's
  oracle setting); ``mode="predicted"`` detects them with a torchvision Faster R-CNN (the paper's RGB
  setting). A detection gets its Action Genome class from its COCO class through :data:`AG_FROM_COCO`
  when Action Genome has that object, else from the annotated object box it overlaps most (IoU at least
  ``match_iou``, class-agnostic), else it is dropped; one box per class and frame (the highest score),
  the highest-scoring person as the subject. A frame without a person box is left out of the video
  (the format allows a subset of frames) and counted; a video left without frames is reported.
- Features: ``torchvision.ops.MultiScaleRoIAlign`` (``roi_align`` on the FPN level that suits the box's
  size) over the detector's backbone feature maps, averaged over the ``roi_size x roi_size`` grid:
  ``F`` = the FPN width, 256. The union box is the smallest box holding the person and the object.
- Weights: from ``weights`` (a local ``state_dict`` file), else torchvision's cache
  (``torch.hub.get_dir()/checkpoints``); nothing is downloaded. ``random_init=True`` builds the detector
  with random weights, for tests and the RGB demo only: its features and detections mean nothing.
- Batched on the GPU when there is one; a progress bar over videos; resumable (a video whose ``.npz``
  exists is skipped, and files appear only complete, by rename); ``rank`` / ``world_size`` give each
  process every ``world_size``-th video; a frame that cannot be read is a
  :class:`~datamodules.formats.errors.FrameFormatError` naming the file, or with
  ``on_bad_sample="skip"`` its video is skipped and reported.
"""

from .config import ExtractionConfig
from .detectors import AG_FROM_COCO, DETECTORS, ag_classes_of_detections, build_detector
from .extract import extract_features, main
from .roi import BoxFeatureExtractor, roi_features

__all__ = [
    "AG_FROM_COCO",
    "DETECTORS",
    "ExtractionConfig",
    "BoxFeatureExtractor",
    "build_detector",
    "roi_features",
    "ag_classes_of_detections",
    "extract_features",
    "main",
]
