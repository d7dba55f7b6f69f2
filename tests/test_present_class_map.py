"""mAP over the classes with positives, the warning that names the others, and the 157-class fixes."""

from __future__ import annotations

import math
import warnings

import pytest
import torch
from torchmetrics.classification import MultilabelAveragePrecision

from lvlm_var.dtformer import LaIAR, LaIARConfig
from lvlm_var.dtformer.losses import classification_loss
from lvlm_var.present_class_map import PresentClassAveragePrecision


def test_present_classes_only_and_one_warning_naming_the_absent() -> None:
    preds = torch.tensor([[0.9, 0.1, 0.3], [0.2, 0.8, 0.6], [0.7, 0.3, 0.1]])
    target = torch.tensor([[1, 0, 0], [0, 1, 0], [0, 1, 0]])
    metric = PresentClassAveragePrecision(["open", "close", "never seen"])
    metric.update(preds, target)
    with pytest.warns(UserWarning, match=r"1 of 3 classes have no positive in the 3 evaluated.*: never seen"):
        present = metric.compute()
    everything = MultilabelAveragePrecision(num_labels=3, average="macro")(preds, target)
    # class 0: AP 1; class 1: positives ranked 1st and 2nd -> AP 1; class 2 absent
    assert present.item() == pytest.approx(1.0)
    assert everything.item() == pytest.approx(2.0 / 3.0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        metric.compute()
    assert not [w for w in caught if "mAP_present" in str(w.message)]  # warned once only


def test_a_different_set_of_absent_classes_warns_again() -> None:
    """The sanity check's few batches lack more classes than the whole split: both lists are named."""
    metric = PresentClassAveragePrecision(["open", "close", "never seen"])
    metric.update(torch.tensor([[0.9, 0.1, 0.3]]), torch.tensor([[1, 0, 0]]))
    with pytest.warns(UserWarning, match=r"2 of 3 classes .* the 1 evaluated samples.*: close, never seen"):
        metric.compute()
    metric.reset()
    metric.update(torch.tensor([[0.9, 0.1, 0.3], [0.2, 0.8, 0.6]]), torch.tensor([[1, 0, 0], [0, 1, 0]]))
    with pytest.warns(UserWarning, match=r"1 of 3 classes .* in the 2 evaluated samples.*: never seen$"):
        assert metric.compute().item() == pytest.approx(1.0)


def test_multi_label_loss_sums_over_classes() -> None:
    logits, labels = torch.zeros(4, 157), torch.zeros(4, 157)
    # a sum over classes: the loss of the 157-class task is 157 binary terms, not their mean
    assert classification_loss(logits, labels, multi_label=True).item() == pytest.approx(157 * math.log(2))


def test_head_prior_sets_the_initial_class_probability() -> None:
    model = LaIAR(LaIARConfig.preset("tiny", 157, head_prior=1.0 / 157))
    for head in (model.video_head, model.language_head, model.video_to_language_head):
        assert torch.sigmoid(head.bias).allclose(torch.full((157,), 1.0 / 157))
    with pytest.raises(ValueError, match=r"LaIARConfig.head_prior must be in \(0, 1\) or None, got 1.5"):
        LaIARConfig.preset("tiny", 157, head_prior=1.5)
