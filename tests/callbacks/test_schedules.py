from __future__ import annotations

import copy
import itertools
import math

import keras
import numpy as np
import pytest

from kt_ext.callbacks import (
    SCHEDULE_NAMES,
    HoldThenExponentialDecay,
    StepDecay,
    WarmupCosineDecay,
    hold_then_exponential_decay,
    schedule_callback,
    step_decay,
    warmup_cosine_decay,
)

X = np.linspace(0.0, 1.0, 96, dtype="float32").reshape(32, 3)
Y = np.ones((32, 2), dtype="float32")
TUNED_LR = 0.02  # not Keras' default 0.001: the schedules must scale the tuned rate


def build_model() -> keras.Model:
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile(optimizer=keras.optimizers.SGD(TUNED_LR), loss="mse")
    return model


def fitted_rates(callback, **fit_kwargs) -> list[float]:
    model = fit_kwargs.pop("model", None) or build_model()
    history = model.fit(X, Y, verbose=0, callbacks=[callback], **fit_kwargs)
    rates = history.history["learning_rate"]
    # The optimizer ends at the rate of the last epoch.
    last = float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))
    assert last == pytest.approx(rates[-1])
    return rates


# --- the pure functions -------------------------------------------------------


@pytest.mark.parametrize(
    ("epoch", "expected"),
    [
        (0, 0.02),
        (2, 0.02),  # hold - 1: still the tuned rate
        (3, 0.02 * 0.6065306597),  # hold: exp(-0.5)
        (6, 0.02 * 0.1353352832),  # hold + 3: exp(-0.5 * 4)
    ],
)
def test_hold_then_exponential_decay_values(epoch, expected):
    rate = hold_then_exponential_decay(epoch, 0.02, hold_epochs=3, decay=0.5)
    assert rate == pytest.approx(expected, rel=1e-9)


def test_hold_then_exponential_decay_defaults_hold_five_epochs():
    assert hold_then_exponential_decay(4, 1.0) == 1.0
    assert hold_then_exponential_decay(5, 1.0) == pytest.approx(math.exp(-0.1))


@pytest.mark.parametrize(
    ("epoch", "expected"), [(0, 0.1), (2, 0.1), (3, 0.05), (8, 0.025), (9, 0.0125)]
)
def test_step_decay_values(epoch, expected):
    assert step_decay(epoch, 0.1, drop_every=3, factor=0.5) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("epoch", "expected"),
    [
        (0, 0.1),  # warmup starts at base / (warmup + 1)
        (1, 0.2),
        (2, 0.3),  # the tuned rate, then the cosine
        (3, 0.2604594),  # 0.3 * (0.1 + 0.9 * (1 + cos(pi / 4)) / 2)
        (4, 0.165),  # halfway: 0.3 * (0.1 + 0.9 / 2)
        (6, 0.03),  # total_epochs: the minimum
        (10, 0.03),  # and it stays there
    ],
)
def test_warmup_cosine_decay_values(epoch, expected):
    rate = warmup_cosine_decay(
        epoch, 0.3, warmup_epochs=2, total_epochs=6, min_fraction=0.1
    )
    assert rate == pytest.approx(expected, rel=1e-6)


def test_warmup_cosine_decay_without_warmup_starts_at_base():
    assert warmup_cosine_decay(0, 0.3, warmup_epochs=0, total_epochs=4) == 0.3
    assert warmup_cosine_decay(4, 0.3, warmup_epochs=0, total_epochs=4) == 0.0


def test_schedules_are_monotonic():
    epochs = range(40)
    hold = [hold_then_exponential_decay(e, 1.0) for e in epochs]
    step = [step_decay(e, 1.0, drop_every=4) for e in epochs]
    cosine = [
        warmup_cosine_decay(e, 1.0, warmup_epochs=5, total_epochs=30) for e in epochs
    ]
    assert all(a >= b for a, b in itertools.pairwise(hold))
    assert all(a >= b for a, b in itertools.pairwise(step))
    assert all(a < b for a, b in itertools.pairwise(cosine[:6]))
    assert all(a >= b for a, b in itertools.pairwise(cosine[5:]))
    assert hold[-1] < hold[0] and step[-1] < step[0] and cosine[-1] == 0.0


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: hold_then_exponential_decay(0, 0.1, hold_epochs=-1),
            "`hold_epochs` must be a non-negative int, got -1.",
        ),
        (
            lambda: hold_then_exponential_decay(0, 0.1, hold_epochs=2.5),
            "`hold_epochs` must be a non-negative int, got 2.5.",
        ),
        (
            lambda: hold_then_exponential_decay(0, 0.1, decay=-0.1),
            "`decay` must be a non-negative number, got -0.1.",
        ),
        (
            lambda: step_decay(0, 0.1, drop_every=0),
            "`drop_every` must be a positive int, got 0.",
        ),
        (
            lambda: step_decay(0, 0.1, factor=1.5),
            "`factor` must be a number in (0, 1], got 1.5.",
        ),
        (
            lambda: warmup_cosine_decay(0, 0.1, warmup_epochs=3, total_epochs=3),
            "`total_epochs` must be an int greater than `warmup_epochs` (3), got 3.",
        ),
        (
            lambda: warmup_cosine_decay(0, 0.1, total_epochs=9, min_fraction=2),
            "`min_fraction` must be a number in [0, 1], got 2.",
        ),
        (
            lambda: step_decay(-1, 0.1),
            "`epoch` must be a non-negative int, got -1.",
        ),
        (
            lambda: step_decay(0, float("nan")),
            "`base_lr` must be a positive number, got nan.",
        ),
        (
            lambda: HoldThenExponentialDecay(hold_epochs=True),
            "`hold_epochs` must be a non-negative int, got True.",
        ),
        (
            lambda: StepDecay(factor=0),
            "`factor` must be a number in (0, 1], got 0.",
        ),
        (
            lambda: WarmupCosineDecay(warmup_epochs=-2),
            "`warmup_epochs` must be a non-negative int, got -2.",
        ),
        (
            lambda: schedule_callback("step", epochs=0),
            "`epochs` must be a positive int, got 0.",
        ),
        (
            lambda: schedule_callback("cyclic"),
            "`name` must be one of ('constant', 'hold_exp', 'step', 'warmup_cosine'),"
            " got 'cyclic'.",
        ),
    ],
)
def test_bad_arguments_name_argument_and_value(call, message):
    with pytest.raises(ValueError) as info:
        call()
    assert str(info.value) == message


# --- the callbacks in model.fit ----------------------------------------------


@pytest.mark.backends
def test_hold_then_exponential_decay_scales_the_tuned_rate():
    rates = fitted_rates(HoldThenExponentialDecay(hold_epochs=2, decay=0.5), epochs=4)
    expected = [0.02, 0.02, 0.02 * math.exp(-0.5), 0.02 * math.exp(-1.0)]
    assert rates == pytest.approx(expected, rel=1e-6)


def test_step_decay_scales_the_tuned_rate():
    rates = fitted_rates(StepDecay(drop_every=2, factor=0.1), epochs=3)
    assert rates == pytest.approx([0.02, 0.02, 0.002], rel=1e-6)


def test_warmup_cosine_decay_takes_total_epochs_from_fit():
    rates = fitted_rates(WarmupCosineDecay(warmup_epochs=1), epochs=4)
    # Warmup 0.02 / 2, peak 0.02, then a third and two thirds down the cosine to 0
    # at epoch 4: (1 + cos(pi / 3)) / 2 = 0.75 and (1 + cos(2 pi / 3)) / 2 = 0.25.
    assert rates == pytest.approx([0.01, 0.02, 0.015, 0.005], rel=1e-6)


def test_warmup_cosine_decay_shortens_warmup_for_short_fits():
    callback = WarmupCosineDecay(warmup_epochs=2)
    callback.set_params({"epochs": 1})
    assert callback.schedule(0, 0.02) == 0.02


def test_initial_epoch_continues_the_curve():
    callback = HoldThenExponentialDecay(hold_epochs=2, decay=0.5)
    rates = fitted_rates(callback, epochs=4, initial_epoch=2)
    expected = [0.02 * math.exp(-0.5), 0.02 * math.exp(-1.0)]
    assert rates == pytest.approx(expected, rel=1e-6)


@pytest.mark.backends
def test_second_fit_of_the_same_model_keeps_the_tuned_base():
    model, callback = build_model(), StepDecay(drop_every=1, factor=0.5)
    assert fitted_rates(callback, model=model, epochs=2) == pytest.approx(
        [0.02, 0.01], rel=1e-6
    )
    rates = fitted_rates(callback, model=model, epochs=4, initial_epoch=2)
    assert rates == pytest.approx([0.005, 0.0025], rel=1e-6)


def test_deepcopy_before_and_after_fit():
    callback = StepDecay(drop_every=1, factor=0.5, verbose=0)
    before = copy.deepcopy(callback)
    fitted_rates(callback, epochs=2)
    after = copy.deepcopy(callback)
    for copied in (before, after):
        assert type(copied) is StepDecay
        assert copied.get_config() == {"drop_every": 1, "factor": 0.5, "verbose": 0}
        assert copied.model is None
        assert copied.base_lr is None
    assert fitted_rates(after, epochs=2) == pytest.approx([0.02, 0.01], rel=1e-6)


# --- the factory used by the hypermodels' `lr_schedule` entry -----------------


def test_schedule_names():
    assert SCHEDULE_NAMES == ("constant", "hold_exp", "step", "warmup_cosine")
    assert schedule_callback("constant") is None
    assert schedule_callback("constant", epochs=10) is None


def test_schedule_callback_defaults_without_epochs():
    assert schedule_callback("hold_exp").get_config() == (
        HoldThenExponentialDecay().get_config()
    )
    assert schedule_callback("step").get_config() == StepDecay().get_config()
    warmup = schedule_callback("warmup_cosine")
    assert warmup.get_config() == WarmupCosineDecay().get_config()


def test_schedule_callback_scales_to_epochs():
    hold = schedule_callback("hold_exp", epochs=30)
    assert hold.hold_epochs == 10
    # A tenth of the tuned rate by the last epoch.
    assert hold.schedule(29, 0.02) == pytest.approx(0.002)
    step = schedule_callback("step", epochs=30)
    assert (step.drop_every, step.factor) == (10, 0.5)
    warmup = schedule_callback("warmup_cosine", epochs=30)
    assert (warmup.warmup_epochs, warmup.total_epochs) == (3, 30)


@pytest.mark.parametrize("name", SCHEDULE_NAMES[1:])
def test_schedule_callback_works_for_a_single_epoch(name):
    callback = schedule_callback(name, epochs=1)
    assert fitted_rates(callback, epochs=1) == pytest.approx([0.02], rel=1e-6)


@pytest.mark.backends
def test_an_epoch_without_train_begin_scales_the_optimizers_rate():
    # A custom training loop may call on_epoch_begin alone; the rate then in
    # the optimizer is the base (it was a TypeError on base_lr=None).
    model, callback = build_model(), StepDecay(drop_every=1, factor=0.5, verbose=0)
    callback.set_model(model)
    callback.on_epoch_begin(1)
    rate = float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))
    assert rate == pytest.approx(TUNED_LR * 0.5, rel=1e-6)
