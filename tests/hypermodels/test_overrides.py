"""Overrides, conditional entries and errors of the hypermodel templates."""

from __future__ import annotations

import keras
import keras_tuner as kt
import numpy as np
import pytest

from kt_ext.hypermodels import CNNHyperModel, MLPHyperModel


def space_of(hypermodel) -> dict:
    """The search space Keras Tuner would learn, by entry name."""
    hp = kt.HyperParameters()
    hypermodel.build(hp)
    return {entry.name: entry for entry in hp.space}


def layer_types(model: keras.Model) -> list[str]:
    return [type(layer).__name__ for layer in model.layers]


def mlp(**overrides) -> MLPHyperModel:
    return MLPHyperModel((5,), "binary", overrides=overrides)


def test_default_space_has_the_documented_entries():
    space = space_of(mlp())
    assert {
        "num_layers",
        "units",
        "activation",
        "kernel_initializer",
        "regularizer",
        "reg_strength",
        "dropout",
        "batch_norm",
        "optimizer",
        "learning_rate",
        "lr_schedule",
    } <= set(space)
    assert space["learning_rate"].sampling == "log"
    assert set(space["kernel_initializer"].values) == {
        "glorot_uniform",
        "glorot_normal",
        "he_uniform",
        "he_normal",
        "lecun_normal",
    }
    assert set(space["optimizer"].values) == {
        "adam",
        "adamw",
        "nadam",
        "rmsprop",
        "sgd",
    }


def test_plain_value_fixes_an_entry():
    space = space_of(mlp(units=48, optimizer="sgd"))
    assert isinstance(space["units"], kt.engine.hyperparameters.Fixed)
    assert space["units"].value == 48
    assert space["optimizer"].value == "sgd"


def test_tuple_reranges_and_log_flag_sets_sampling():
    space = space_of(mlp(learning_rate=(1e-3, 1e-2, "log"), dropout=(0.1, 0.3)))
    lr = space["learning_rate"]
    assert (lr.min_value, lr.max_value, lr.sampling) == (1e-3, 1e-2, "log")
    assert (space["dropout"].min_value, space["dropout"].max_value) == (0.1, 0.3)
    assert space["dropout"].sampling == "linear"


def test_list_gives_new_choices_for_numeric_and_categorical_entries():
    space = space_of(mlp(units=[8, 24], activation=["tanh", "relu"]))
    assert space["units"].values == [8, 24]
    assert space["activation"].values == ["tanh", "relu"]
    assert space["activation"].default == "relu"


def test_none_switches_optional_features_off():
    hypermodel = mlp(regularizer=None, dropout=None, batch_norm=None, lr_schedule=None)
    space = space_of(hypermodel)
    for name in ("regularizer", "reg_strength", "dropout", "batch_norm", "lr_schedule"):
        assert name not in space
    model = hypermodel.build(kt.HyperParameters())
    assert "Dropout" not in layer_types(model)
    assert "BatchNormalization" not in layer_types(model)


def test_fixed_features_show_up_in_the_model():
    hp = kt.HyperParameters()
    model = mlp(num_layers=2, batch_norm=True, dropout=0.25, regularizer="l2").build(hp)
    assert layer_types(model).count("Dense") == 3
    assert layer_types(model).count("BatchNormalization") == 2
    assert layer_types(model).count("Dropout") == 2
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    assert isinstance(dense[0].kernel_regularizer, keras.regularizers.L2)
    assert dense[0].kernel_regularizer.l2 == pytest.approx(hp.get("reg_strength"))


def test_no_strength_is_sampled_when_the_regularizer_is_none():
    hypermodel = mlp()
    space = space_of(hypermodel)
    assert space["reg_strength"].conditions  # declared as conditional
    hp = kt.HyperParameters()
    hp.values["regularizer"] = "none"
    hypermodel.build(hp)
    assert not hp.is_active("reg_strength")
    assert "reg_strength" not in hp.values
    hp = kt.HyperParameters()
    hp.Fixed("regularizer", "l1")
    hypermodel.build(hp)
    assert hp.is_active("reg_strength")


def test_strength_is_never_declared_when_no_kind_can_be_chosen():
    assert "reg_strength" not in space_of(mlp(regularizer="none"))
    assert "reg_strength" not in space_of(mlp(regularizer=["none"]))


def test_momentum_is_active_only_for_sgd_and_rmsprop():
    assert "momentum" not in space_of(mlp(optimizer="adam"))
    assert "momentum" not in space_of(mlp(optimizer=["adam", "nadam"]))
    space = space_of(mlp(optimizer=["adam", "sgd"]))
    assert space["momentum"].conditions[0].values == ["sgd"]
    hp = kt.HyperParameters()
    hp.Fixed("optimizer", "sgd")
    model = mlp(momentum=0.5).build(hp)
    assert float(model.optimizer.momentum) == pytest.approx(0.5)
    assert "momentum" not in space_of(mlp(optimizer="sgd", momentum=None))


def test_tuned_learning_rate_reaches_the_optimizer():
    hp = kt.HyperParameters()
    model = mlp(learning_rate=0.0123, optimizer="nadam").build(hp)
    assert isinstance(model.optimizer, keras.optimizers.Nadam)
    assert float(model.optimizer.learning_rate) == pytest.approx(0.0123)


@pytest.mark.parametrize(
    ("overrides", "names"),
    [
        ({"units": (64, 32)}, ["units", "(64, 32)"]),
        ({"learning_rate": (0.0, 0.1, "log")}, ["learning_rate", "(0.0, 0.1, 'log')"]),
        (
            {"kernel_initializer": "zeros_please"},
            ["kernel_initializer", "zeros_please"],
        ),
        ({"optimizer": ["adam", "adagrad"]}, ["optimizer", "adagrad"]),
        ({"dropout": -0.1}, ["dropout", "-0.1"]),
        ({"learning_rate": None}, ["learning_rate", "None"]),
        ({"units": None}, ["units", "None"]),
        ({"unitz": 32}, ["unitz"]),
        ({"units": 12.5}, ["units", "12.5"]),
        ({"activation": (1, 2)}, ["activation", "(1, 2)"]),
        ({"units": []}, ["units", "[]"]),
        ({"units": (8, 16, "cubic")}, ["units", "cubic"]),
        ({"activation": "not_an_activation"}, ["activation", "not_an_activation"]),
        ({"batch_size": 0}, ["batch_size", "0"]),
        ({"lr_schedule": "cyclic"}, ["lr_schedule", "cyclic"]),
    ],
)
def test_invalid_overrides_raise_at_construction(overrides, names):
    with pytest.raises(ValueError) as raised:
        MLPHyperModel((5,), "binary", overrides=overrides)
    for name in names:
        assert name in str(raised.value)


def test_overrides_must_be_a_mapping():
    with pytest.raises(TypeError, match="overrides"):
        MLPHyperModel((5,), "binary", overrides=[("units", 3)])


def test_constructor_arguments_are_checked():
    with pytest.raises(ValueError, match="task"):
        MLPHyperModel((5,), "ranking")
    with pytest.raises(ValueError, match="num_classes"):
        MLPHyperModel((5,), "multiclass")
    with pytest.raises(ValueError, match="input_shape"):
        MLPHyperModel((0,), "binary")
    with pytest.raises(ValueError, match="input_shape"):
        CNNHyperModel((8, 8), num_classes=3)
    with pytest.raises(ValueError, match="num_classes"):
        CNNHyperModel((8, 8, 1), num_classes=1)


def test_overrides_do_not_change_after_construction():
    overrides = {"units": 16}
    hypermodel = mlp(**overrides)
    overrides["units"] = 99
    assert space_of(hypermodel)["units"].value == 16


@pytest.mark.parametrize(
    ("y", "task", "outputs", "loss"),
    [
        (np.array([0, 1] * 10), "binary", 1, "binary_crossentropy"),
        (np.arange(20) % 4, "multiclass", 4, "sparse_categorical_crossentropy"),
        (np.linspace(0, 1, 20), "regression", 1, "mean_squared_error"),
        (np.random.default_rng(0).normal(size=(20, 2)), "regression", 2, None),
    ],
)
def test_for_data_infers_task_and_sizes(y, task, outputs, loss):
    hypermodel = MLPHyperModel.for_data(np.zeros((20, 7)), y)
    assert hypermodel.task == task
    assert hypermodel.input_shape == (7,)
    model = hypermodel.build(kt.HyperParameters())
    assert model.output_shape == (None, outputs)
    if loss:
        assert model.loss == loss


def test_for_data_rejects_bad_arrays():
    with pytest.raises(ValueError, match="`x` and `y`"):
        MLPHyperModel.for_data(np.zeros((5, 3)), np.zeros(4))
    with pytest.raises(ValueError, match="`x`"):
        MLPHyperModel.for_data(np.zeros((0, 3)), np.zeros(0))
    with pytest.raises(ValueError, match="two classes"):
        MLPHyperModel.for_data(np.zeros((4, 3)), np.ones(4, dtype=int))
    with pytest.raises(ValueError, match=r"x\[\.\.\., None\]"):
        CNNHyperModel.for_data(np.zeros((4, 8, 8)), np.array([0, 1, 0, 1]))


def test_cnn_blocks_are_limited_by_the_input_size():
    small = CNNHyperModel((8, 8, 1), num_classes=10)
    assert space_of(small)["conv_blocks"].max_value == 2
    large = CNNHyperModel((28, 28, 1), num_classes=10)
    assert space_of(large)["conv_blocks"].max_value == 3
    with pytest.raises(ValueError, match="conv_blocks"):
        CNNHyperModel((8, 8, 1), num_classes=10, overrides={"conv_blocks": 3})


def test_cnn_builds_its_blocks_and_head():
    hypermodel = CNNHyperModel.for_data(
        np.zeros((6, 8, 8, 1)),
        np.array([0, 1, 2, 0, 1, 2]),
        overrides={"conv_blocks": 2, "filters": 8, "pooling": "avg", "num_layers": 0},
    )
    model = hypermodel.build(kt.HyperParameters())
    types = layer_types(model)
    assert types.count("Conv2D") == 2
    assert types.count("AveragePooling2D") == 2
    assert types.count("Dense") == 1
    assert model.output_shape == (None, 3)
    conv = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert [layer.filters for layer in conv] == [8, 16]
