"""LaIAR configs, relation encoders (Eqs. 1-2), GPO joint space and explanations."""

from __future__ import annotations

from dataclasses import asdict, replace

import pytest
import torch
from laiar_batches import one_cpu_thread

from lvlm_var.dtformer import (
    DTFormerConfig,
    ExplainConfig,
    GeneralizedPooling,
    JointSpaceEncoder,
    LaIARConfig,
    LaIARLossConfig,
    OptimConfig,
    RelationEncoderConfig,
    SemanticRelationEncoder,
    TripletVocabulary,
    VisualRelationEncoder,
    explain_video,
    rasterize_box_pair,
)

# ``one_cpu_thread`` is imported as a fixture.
pytestmark = pytest.mark.usefixtures(one_cpu_thread.__name__)

TINY_ENCODER = LaIARConfig.preset("tiny", num_classes=3).encoder


def test_presets_and_overrides() -> None:
    charades = LaIARConfig.preset("charades", num_classes=157)
    assert (charades.dtformer.num_frames, charades.dtformer.max_pairs, charades.dtformer.dim) == (16, 8, 512)
    assert charades.encoder.num_relations == 26 and charades.encoder.feature_dim == 2048
    custom = LaIARConfig.preset("tiny", num_classes=3, embed_dim=32, num_heads=4, share_weights=True)
    assert custom.dtformer.dim == 32 and custom.encoder.joint_dim == 16 and custom.share_weights
    with pytest.raises(
        ValueError, match="unknown LaIAR preset 'kinetics'; valid presets: charades, cad120, tiny"
    ):
        LaIARConfig.preset("kinetics", num_classes=3)
    with pytest.raises(ValueError, match=r"unknown LaIAR override\(s\) \['layers'\]"):
        LaIARConfig.preset("tiny", num_classes=3, layers=3)


def test_config_checks_name_the_field() -> None:
    with pytest.raises(ValueError, match=r"DTFormerConfig.dim \(30\) must be divisible by num_heads \(4\)"):
        DTFormerConfig(dim=30, num_heads=4)
    with pytest.raises(ValueError, match="RelationEncoderConfig.embed_dim must be even, got 15"):
        RelationEncoderConfig(embed_dim=15)
    with pytest.raises(ValueError, match=r"DTFormerConfig.eval_keep_threshold must be in \(0, 1\), got 1.0"):
        DTFormerConfig(eval_keep_threshold=1.0)
    with pytest.raises(ValueError, match="DTFormerConfig.selection_gradient must be 'attention_policy' or"):
        DTFormerConfig(selection_gradient="ste")
    with pytest.raises(ValueError, match="DTFormerConfig.selector_context must be 'class_token' or 'mean'"):
        DTFormerConfig(selector_context="cls")
    with pytest.raises(ValueError, match=r"encoder.embed_dim \(16\) must equal dtformer.dim \(32\)"):
        LaIARConfig(
            num_classes=2, encoder=RelationEncoderConfig(embed_dim=16), dtformer=DTFormerConfig(dim=32)
        )


def test_laiar_config_vocabularies_and_dict_round_trip() -> None:
    config = LaIARConfig.preset("tiny", num_classes=2, object_class_names=["cup", "box"])
    assert config.encoder.num_object_classes == 2 and config.class_names == ["class_0", "class_1"]
    assert config.relation_names == [f"relation_{i}" for i in range(config.encoder.num_relations)]
    assert LaIARConfig(**asdict(config)) == config
    with pytest.raises(ValueError, match="LaIARConfig.class_names has 1 names, expected num_classes=2"):
        LaIARConfig(num_classes=2, class_names=["a"])


def test_training_and_explanation_config_checks() -> None:
    with pytest.raises(ValueError, match=r"OptimConfig.warmup_fraction must be in \[0, 1\), got 1.0"):
        OptimConfig(warmup_fraction=1.0)
    with pytest.raises(ValueError, match="OptimConfig.lr must be > 0, got 0"):
        OptimConfig(lr=0)
    with pytest.raises(ValueError, match="OptimConfig.weight_decay must be >= 0, got -1"):
        OptimConfig(weight_decay=-1)
    with pytest.raises(ValueError, match="OptimConfig.language_warmup_epochs must be >= 0, got -2"):
        OptimConfig(language_warmup_epochs=-2)
    with pytest.raises(ValueError, match="LaIARLossConfig.selection_supervision must be 'samples' or"):
        LaIARLossConfig(selection_supervision="soft")
    with pytest.raises(ValueError, match="ExplainConfig.top_k must be >= 1, got 0"):
        ExplainConfig(top_k=0)


def test_rasterize_box_pair_marks_each_box_in_its_channel() -> None:
    boxes = torch.tensor([0.0, 0.0, 0.5, 0.5, 0.5, 0.75, 1.0, 1.0])
    grid = rasterize_box_pair(boxes, size=4)
    assert grid.shape == (2, 4, 4)
    assert grid[0].tolist() == [[1, 1, 0, 0], [1, 1, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]
    assert grid[1].tolist() == [[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 1, 1]]
    tiny_box = rasterize_box_pair(torch.tensor([0.6, 0.1, 0.61, 0.11, 0, 0, 1, 1.0]), size=4)
    assert tiny_box[0].sum() == 1 and tiny_box[0, 0, 2] == 1


def test_visual_and_semantic_encoders_shapes() -> None:
    config = TINY_ENCODER
    visual = VisualRelationEncoder(config)
    features = [torch.randn(2, 4, 3, config.feature_dim) for _ in range(3)]
    out = visual(*features, torch.rand(2, 4, 3, 8))
    assert out.shape == (2, 4, 3, 3 * config.part_dim) == (2, 4, 3, visual.out_dim)
    semantic = SemanticRelationEncoder(replace(config, semantic_norm=False))  # Eq. 2's raw parts
    relations = torch.zeros(2, 4, 3, config.num_relations)
    relations[0, 0, 0, :2] = 1.0
    s = semantic(torch.randint(config.num_object_classes, (2, 4, 3)), relations)
    assert s.shape == (2, 4, 3, semantic.out_dim)
    part = config.part_dim
    expected_relation = semantic.relation[:2].mean(0)
    torch.testing.assert_close(s[0, 0, 0, part : 2 * part], expected_relation)
    assert torch.equal(s[1, 0, 0, part : 2 * part], torch.zeros(part))  # no relation -> zeros


@pytest.mark.parametrize(("std", "low", "high"), [(0.02, 0.9, 1.0), (1.0, 0.0, 0.7)])
def test_semantic_init_std_sets_how_far_apart_triplets_start(std: float, low: float, high: float) -> None:
    # without the LayerNorm before the joint-space projection, at BERT's std 0.02 its bias dominates and
    # every (object, relation) triplet starts in one direction; at std 1 they differ
    assert _mean_triplet_cosine(replace(TINY_ENCODER, semantic_init_std=std, semantic_norm=False)) > low
    assert _mean_triplet_cosine(replace(TINY_ENCODER, semantic_init_std=std, semantic_norm=False)) < high


@pytest.mark.parametrize("std", [0.02, 1.0])
def test_semantic_norm_makes_the_start_independent_of_the_embedding_scale(std: float) -> None:
    config = replace(TINY_ENCODER, semantic_init_std=std, semantic_norm=True)
    assert _mean_triplet_cosine(config) < 0.7
    features = SemanticRelationEncoder(config)(torch.tensor([1]), torch.eye(config.num_relations)[:1])
    torch.testing.assert_close(features.std(-1, unbiased=False), torch.ones(1), atol=0.05, rtol=0)


def _mean_triplet_cosine(config: RelationEncoderConfig) -> float:
    """Mean cosine between the initial joint-space embeddings of every (object, relation) triplet."""
    torch.manual_seed(0)
    semantic = SemanticRelationEncoder(config)
    joint = JointSpaceEncoder(semantic.out_dim, config.embed_dim, 4, 4)
    object_class = torch.arange(config.num_object_classes).repeat_interleave(config.num_relations)
    multi_hot = torch.eye(config.num_relations).repeat(config.num_object_classes, 1)
    with torch.no_grad():
        tokens = torch.nn.functional.normalize(joint.embed_tokens(semantic(object_class, multi_hot)), dim=-1)
    count = len(tokens)
    return float(((tokens @ tokens.T).sum() - count) / (count * count - count))


def test_semantic_encoder_rejects_bad_vocabulary() -> None:
    semantic = SemanticRelationEncoder(TINY_ENCODER)
    with pytest.raises(ValueError, match=r"object_class: expected indices in \[0, 5\), got range \[0, 7\]"):
        semantic(torch.tensor([0, 7]), torch.zeros(2, TINY_ENCODER.num_relations))
    with pytest.raises(ValueError, match="relations: expected 4 relation channels"):
        semantic(torch.tensor([0]), torch.zeros(1, 26))


def test_gpo_weights_and_padding_invariance() -> None:
    torch.manual_seed(0)
    pool = GeneralizedPooling(pe_dim=4, hidden=4)
    weights = pool.pooling_weights(torch.tensor([3, 5]), max_length=5)
    torch.testing.assert_close(weights.sum(1), torch.ones(2))
    assert torch.all(weights[0, 3:] == 0)
    features = torch.randn(2, 5, 6)
    mask = torch.tensor([[True, False, True, True, False], [True] * 5])
    pooled = pool(features, mask)
    garbage = features.clone()
    garbage[~mask] = 1e3
    torch.testing.assert_close(pool(garbage, mask), pooled)
    # one element: every pooling weight is on it -> the element itself
    torch.testing.assert_close(pool(features[:, :1], mask[:, :1] | True), features[:, 0])
    assert torch.equal(pool(features, torch.zeros_like(mask)), torch.zeros(2, 6))


def test_joint_space_encoder_concatenates_global_vector() -> None:
    encoder = JointSpaceEncoder(in_dim=6, embed_dim=8, pe_dim=4, hidden=4)
    relations = torch.randn(2, 3, 2, 6)
    mask = torch.rand(2, 3, 2) > 0.3
    mask[:, 0, 0] = True
    tokens, joint = encoder(relations, mask)
    assert tokens.shape == (2, 3, 2, 8) and joint.shape == (2, 3, 2, 4)
    torch.testing.assert_close(tokens[..., :4], joint)
    torch.testing.assert_close(tokens[0, 0, 0, 4:], tokens[0, 2, 1, 4:])  # same global half in a video
    torch.testing.assert_close(encoder.embed_tokens(relations), joint)


def test_joint_space_encoder_without_global_context_zeros_the_global_half() -> None:
    encoder = JointSpaceEncoder(in_dim=6, embed_dim=8, pe_dim=4, hidden=4, global_context=False)
    relations = torch.randn(2, 3, 2, 6)
    tokens, joint = encoder(relations, torch.ones(2, 3, 2, dtype=torch.bool))
    assert encoder.pool is None and tokens.shape == (2, 3, 2, 8)
    torch.testing.assert_close(tokens[..., :4], joint)
    assert torch.equal(tokens[..., 4:], torch.zeros(2, 3, 2, 4))


def test_joint_norm_puts_every_token_on_one_sphere_in_the_direction_of_the_projection() -> None:
    torch.manual_seed(0)
    plain = JointSpaceEncoder(in_dim=6, embed_dim=8, pe_dim=4, hidden=4)
    normalized = JointSpaceEncoder(in_dim=6, embed_dim=8, pe_dim=4, hidden=4, normalize=True)
    normalized.load_state_dict(plain.state_dict())
    relations = torch.randn(2, 3, 2, 6)
    mask = torch.ones(2, 3, 2, dtype=torch.bool)
    tokens, joint = normalized(relations, mask)
    torch.testing.assert_close(joint.norm(dim=-1), torch.full((2, 3, 2), 2.0))  # sqrt(D / 2)
    torch.testing.assert_close(
        torch.nn.functional.cosine_similarity(joint, plain(relations, mask)[1], dim=-1), torch.ones(2, 3, 2)
    )
    torch.testing.assert_close(tokens[..., :4], joint)
    torch.testing.assert_close(normalized.embed_tokens(relations), joint)


def test_visual_encoder_without_box_map_ignores_the_boxes() -> None:
    visual = VisualRelationEncoder(replace(TINY_ENCODER, box_map=False))
    features = [torch.randn(1, 2, 3, TINY_ENCODER.feature_dim) for _ in range(3)]
    assert visual.box is None
    torch.testing.assert_close(
        visual(*features, torch.rand(1, 2, 3, 8)), visual(*features, torch.rand(1, 2, 3, 8))
    )
    with_map = VisualRelationEncoder(TINY_ENCODER)
    assert not torch.allclose(
        with_map(*features, torch.zeros(1, 2, 3, 8)), with_map(*features, torch.ones(1, 2, 3, 8))
    )


def _fixed_vocabulary() -> TripletVocabulary:
    # 2 objects x 2 relations, unit vectors along the axes: row o * 2 + r
    return TripletVocabulary(torch.eye(4), ["box", "bed"], ["holding", "not_contacting"])


def test_vocabulary_build_covers_every_triplet() -> None:
    encoder = SemanticRelationEncoder(TINY_ENCODER)
    joint = JointSpaceEncoder(encoder.out_dim, TINY_ENCODER.embed_dim, 4, 4)
    objects = [f"o{i}" for i in range(TINY_ENCODER.num_object_classes)]
    relations = [f"r{i}" for i in range(TINY_ENCODER.num_relations)]
    vocabulary = TripletVocabulary.build(encoder, joint, objects, relations)
    assert vocabulary.embeddings.shape == (5 * 4, TINY_ENCODER.joint_dim)
    torch.testing.assert_close(vocabulary.embeddings.norm(dim=-1), torch.ones(20))
    obj, rel, score = vocabulary.nearest(vocabulary.embeddings[[7, 13]] * 3)
    assert obj.tolist() == [1, 3] and rel.tolist() == [3, 1]
    torch.testing.assert_close(score, torch.ones(2))
    with pytest.raises(ValueError, match="got 2 object names and 4 relation names"):
        TripletVocabulary.build(encoder, joint, ["a", "b"], relations)


def test_explain_video_orders_transitions_per_pair() -> None:
    vocabulary = _fixed_vocabulary()
    joint = torch.zeros(4, 2, 4)
    keep = torch.zeros(4, 2)
    # pair slot 0 is the box: holding in frames 0-1, not_contacting in frame 3; frame 2 dropped
    joint[0, 0, 0] = joint[1, 0, 0] = joint[2, 0, 1] = joint[3, 0, 1] = 1.0
    keep[[0, 1, 3], 0] = 1.0
    # slot 1 is the bed in frame 1 only; only the bed's own triplets are searched
    joint[1, 1, 1] = 1.0
    joint[1, 1, 3] = 0.5
    keep[1, 1] = 1.0
    object_class = torch.tensor([[0, 1]] * 4)
    record = explain_video(
        "vid",
        vocabulary,
        joint,
        keep,
        object_class,
        frame_index=torch.tensor([2, 5, 8, 10]),
        probabilities=torch.tensor([0.1, 0.9, 0.4]),
        class_names=["sit", "place", "open"],
        ground_truth=["place"],
        top_k=2,
        relations_per_token=1,
    )
    assert record.method == "laiar" and record.tokens == 4
    assert record.predictions == [("place", pytest.approx(0.9)), ("open", pytest.approx(0.4))]
    assert record.text == (
        "person-box: holding (frames 2-5), not_contacting (frames 10-10); "
        "person-bed: not_contacting (frames 5-5)"
    )
    assert [(step.text, step.start, step.end) for step in record.evidence] == [
        ("person-box: holding", 2, 5),
        ("person-bed: not_contacting", 5, 5),
        ("person-box: not_contacting", 10, 10),
    ]
    assert record.evidence[0].score == pytest.approx(1.0)
    assert record.evidence[1].score == pytest.approx(0.5 / 1.25**0.5)


def test_explain_video_names_several_relations_per_token() -> None:
    # one object, three relations: looking_at throughout, holding then not_contacting
    vocabulary = TripletVocabulary(torch.eye(3), ["box"], ["looking_at", "holding", "not_contacting"])
    joint = torch.tensor([[[1.0, 1.0, 0.0]], [[1.0, 1.0, 0.0]], [[1.0, 0.0, 1.0]]])
    record = explain_video(
        "vid",
        vocabulary,
        joint,
        keep=torch.ones(3, 1),
        object_class=torch.zeros(3, 1, dtype=torch.long),
        frame_index=torch.tensor([1, 4, 9]),
        probabilities=torch.tensor([1.0]),
        class_names=["put"],
        ground_truth=["put"],
        relations_per_token=2,
    )
    assert [(step.text, step.start, step.end) for step in record.evidence] == [
        ("person-box: holding", 1, 4),
        ("person-box: looking_at", 1, 9),
        ("person-box: not_contacting", 9, 9),
    ]


def test_explain_video_min_run_drops_flicker_and_bridges_gaps() -> None:
    # one object over 8 frames: holding x2, a one-token flicker to not_contacting, holding x2, then
    # not_contacting x3; min_run=2 drops the blip and bridges the gap it leaves in holding
    vocabulary = TripletVocabulary(torch.eye(2), ["box"], ["holding", "not_contacting"])
    relation = [0, 0, 1, 0, 0, 1, 1, 1]
    joint = torch.nn.functional.one_hot(torch.tensor(relation), 2).float().unsqueeze(1)
    arguments = dict(
        vocabulary=vocabulary,
        joint=joint,
        keep=torch.ones(8, 1),
        object_class=torch.zeros(8, 1, dtype=torch.long),
        frame_index=torch.arange(8),
        probabilities=torch.tensor([1.0]),
        class_names=["put"],
        ground_truth=["put"],
        relations_per_token=1,
    )
    raw = explain_video("vid", **arguments)
    assert [(s.text, s.start, s.end) for s in raw.evidence] == [
        ("person-box: holding", 0, 1),
        ("person-box: not_contacting", 2, 2),
        ("person-box: holding", 3, 4),
        ("person-box: not_contacting", 5, 7),
    ]
    smooth = explain_video("vid", **arguments, min_run=2)
    assert [(s.text, s.start, s.end) for s in smooth.evidence] == [
        ("person-box: holding", 0, 4),
        ("person-box: not_contacting", 5, 7),
    ]
    assert smooth.text == "person-box: holding (frames 0-4), not_contacting (frames 5-7)"
    assert smooth.evidence[0].score == pytest.approx(1.0)  # the bridged token adds no score


def test_explain_video_contrast_naming_brings_out_the_change() -> None:
    # the box: looking_at dominates every token, holding then not_contacting underneath; the bed has a
    # single kept token, which has nothing to contrast with and keeps its nearest relation
    vocabulary = TripletVocabulary(
        torch.eye(6), ["box", "bed"], ["looking_at", "holding", "not_contacting"]
    )
    box = torch.tensor([[2.0, 1.0, 0.0], [2.0, 1.0, 0.0], [2.0, 0.0, 1.0], [2.0, 0.0, 1.0]])
    joint = torch.zeros(4, 2, 6)
    joint[:, 0, :3] = box
    joint[0, 1, 3:] = torch.tensor([0.0, 1.0, 0.5])
    keep = torch.zeros(4, 2)
    keep[:, 0] = 1.0
    keep[0, 1] = 1.0
    arguments = dict(
        vocabulary=vocabulary,
        joint=joint,
        keep=keep,
        object_class=torch.tensor([[0, 1]] * 4),
        frame_index=torch.arange(4),
        probabilities=torch.tensor([1.0]),
        class_names=["put"],
        ground_truth=["put"],
        relations_per_token=1,
    )
    nearest = explain_video("vid", **arguments)
    assert {step.text for step in nearest.evidence} == {"person-box: looking_at", "person-bed: holding"}
    contrast = explain_video("vid", **arguments, naming="contrast")
    assert [(s.text, s.start, s.end) for s in contrast.evidence] == [
        ("person-bed: holding", 0, 0),
        ("person-box: holding", 0, 1),
        ("person-box: not_contacting", 2, 3),
    ]
    assert contrast.evidence[1].score == pytest.approx(1 / 5**0.5)  # the plain cosine similarity
