"""The BERTopic internals narrative.model._bertopic relies on are there, with the shapes it uses.

These fail first when a BERTopic release renames or reshapes a private method or attribute, before
a fit silently changes (pyproject pins bertopic>=0.17,<0.18).
"""

from __future__ import annotations

import inspect

import pytest

from narrative.model import _bertopic


def test_the_overridden_private_methods_exist_with_the_parameters_passed():
    from bertopic import BERTopic

    extract = inspect.signature(BERTopic._extract_topics).parameters
    assert list(extract)[:6] == ["self", "documents", "embeddings", "mappings", "verbose",
                                 "fine_tune_representation"]
    assert list(inspect.signature(BERTopic._save_representative_docs).parameters) == [
        "self", "documents"]
    assert set(_bertopic.OVERRIDDEN_METHODS) <= set(vars(_bertopic.labelled_later_bertopic()))
    # the subclass also calls these, unchanged, to keep what the skipped pass would have made
    assert callable(getattr(BERTopic, "_create_topic_vectors"))


def test_the_zero_shot_mapping_attribute_is_a_dict_from_the_start():
    from bertopic import BERTopic

    model = BERTopic(zeroshot_topic_list=["a", "b"], zeroshot_min_similarity=0.5)
    assert getattr(model, _bertopic.ZEROSHOT_MAPPING_ATTRIBUTE) == {}
    setattr(model, _bertopic.ZEROSHOT_MAPPING_ATTRIBUTE, {3: 1, 4: 0})
    assert _bertopic.zeroshot_topic_mapping(model) == {3: 1, 4: 0}


def test_a_model_without_the_mapping_gives_none():
    class Bare:
        pass

    assert _bertopic.zeroshot_topic_mapping(Bare()) == {}


@pytest.mark.parametrize("name", ["ExactNeighbourUMAP", "KnownTexts", "SmallSafeHDBSCAN"])
def test_adapters_are_public_in_their_module_only(name):
    import narrative.model as model

    assert name in _bertopic.__all__ and not hasattr(model, "_" + name)
