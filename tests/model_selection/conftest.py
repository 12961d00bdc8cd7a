"""Fixtures of the SearchCV tests."""

import keras
import pytest


@pytest.fixture
def eager_models(monkeypatch):
    """Every Keras model runs eagerly, also one that was pickled and loaded.

    For scikit-learn's estimator checks at a tiny budget: tracing a
    ``tf.function`` would take most of the time at this size, and eager and
    traced Keras compute the same.
    """
    always = property(lambda model: True, lambda model, value: None)
    monkeypatch.setattr(keras.Model, "run_eagerly", always)
