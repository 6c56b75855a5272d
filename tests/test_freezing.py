"""GlotPooling trained through sentence-transformers' own trainer and loss, with the backbone frozen."""

from __future__ import annotations

import pytest
import torch
from sentence_transformers import SentenceTransformer

from sentence_transformers_glot import GlotPooling, freeze_backbone
from sentence_transformers_glot._compat import Transformer

datasets = pytest.importorskip("datasets")


def test_trainer_updates_only_the_pooling_and_keeps_the_backbone_in_eval(tiny_bert_dir, tmp_path):
    from sentence_transformers import SentenceTransformerTrainer, SentenceTransformerTrainingArguments
    from sentence_transformers.losses import MultipleNegativesRankingLoss

    torch.manual_seed(0)
    transformer = Transformer(tiny_bert_dir)
    transformer.auto_model.config.hidden_dropout_prob = 0.5  # dropout that would show if train mode leaked
    model = SentenceTransformer(modules=[transformer, GlotPooling(32, threshold=0.2, hidden_dim=16)], device="cpu")
    freeze_backbone(model)
    backbone_before = {k: v.clone() for k, v in model[0].state_dict().items()}
    pooling_before = {k: v.clone() for k, v in model[1].state_dict().items()}
    words = [f"w{i}" for i in range(40)]
    anchors = [" ".join(words[i : i + 4]) for i in range(32)]
    positives = [" ".join(words[i + 1 : i + 5]) for i in range(32)]
    train = datasets.Dataset.from_dict({"anchor": anchors, "positive": positives})
    args = SentenceTransformerTrainingArguments(
        output_dir=str(tmp_path), num_train_epochs=1, per_device_train_batch_size=8, learning_rate=1e-2,
        report_to=[], save_strategy="no", use_cpu=True, seed=0,
    )
    trainer = SentenceTransformerTrainer(model=model, args=args, train_dataset=train,
                                         loss=MultipleNegativesRankingLoss(model))
    trainer.train()
    assert all(torch.equal(v, model[0].state_dict()[k]) for k, v in backbone_before.items())
    assert any(not torch.equal(v, model[1].state_dict()[k]) for k, v in pooling_before.items())
    model.train()  # what the HF Trainer does each step: the backbone must still run without dropout
    texts = anchors[:4]
    features = model.preprocess(texts) if hasattr(model, "preprocess") else model.tokenize(texts)
    with torch.no_grad():
        first = model[0](dict(features))["token_embeddings"]
        second = model[0](dict(features))["token_embeddings"]
    assert torch.equal(first, second), "dropout must stay off in the frozen backbone"
    assert not any(m.training for m in model[0].modules())
    assert model[1].training
    import pickle

    clone = pickle.loads(pickle.dumps(model))  # multi-process encoding pickles the model
    assert torch.equal(clone.encode(texts, convert_to_tensor=True), model.encode(texts, convert_to_tensor=True))


def test_freeze_backbone_needs_a_glot_module(tiny_bert_dir):
    try:
        from sentence_transformers.sentence_transformer.modules import Pooling
    except ImportError:  # sentence-transformers 5.x
        from sentence_transformers.models import Pooling

    model = SentenceTransformer(modules=[Transformer(tiny_bert_dir), Pooling(32)], device="cpu")
    with pytest.raises(ValueError, match="no GlotPooling"):
        freeze_backbone(model)
