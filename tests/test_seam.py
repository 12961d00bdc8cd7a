"""The seam to upstream internals fails loudly when upstream changes.

Keras Tuner: the source of every function in the seams' ``UPSTREAM`` lists is
hashed and compared with its hash in each keras-tuner version the declared
range allows. A new keras-tuner, or a changed body, fails here and names what
in kt_ext to re-check. To accept a new version after re-checking, print its
hashes with ``python tests/test_seam.py`` and add them to ``KNOWN``.

Keras and TensorFlow: their private names are used in small functions of
``kt_ext._internal.seam_training``; each is checked here for what kt_ext relies on.
"""

from __future__ import annotations

import ast
import hashlib
import importlib
import inspect
import json
import pathlib
import random
import re
import sys

import keras
import keras_tuner
import numpy as np
import pytest

from kt_ext._internal import seam_oracle, seam_random, seam_training

pytestmark = pytest.mark.floors

#: sha256 (first 16 hex digits) of each upstream body (names without
#: "keras_tuner.src."); 1.4.7 and 1.4.8 have the same bodies. (The three
#: BaseTuner entries for reloading, `_get_tuner_fname`,
#: `_populate_initial_space` and `reload`, were hashed on 1.4.8 only.)
_BODIES_1_4 = {
    "distribute.oracle_chief.exit_chief": "4cbac54347ee8151",
    "distribute.oracle_chief.start_server": "662c88c4002bc8c7",
    "distribute.utils.has_chief_oracle": "36af0cafd9c5f64d",
    "engine.base_tuner.BaseTuner._get_tuner_fname": "df261df5db511f8a",
    "engine.base_tuner.BaseTuner._populate_initial_space": "972f3defbc2e9f45",
    "engine.base_tuner.BaseTuner._run_and_update_trial": "db6325bc0b414056",
    "engine.base_tuner.BaseTuner._try_run_and_update_trial": "0d84027daa2ad26e",
    "engine.base_tuner.BaseTuner.reload": "eb53ad9a5082cabb",
    "engine.base_tuner.BaseTuner.search": "39c5cecee4c44974",
    "engine.metrics_tracking.MetricsTracker": "62b3eb60995abb77",
    "engine.oracle.Display": "7bc4e820f00a3ebd",
    "engine.oracle.Oracle._check_consecutive_failures": "05a1a1dd074dc998",
    "engine.oracle.Oracle._compute_values_hash": "f0450e30e464a86f",
    "engine.oracle.Oracle._save_trial": "073ef15c684890fb",
    "engine.oracle.Oracle.create_trial": "dc06affa91884b7f",
    "engine.oracle.Oracle.end_trial": "fec9dadf2f940150",
    "engine.oracle.Oracle.get_state": "20a1a043f5a187d5",
    "engine.oracle.Oracle.reload": "dc44a16a76415806",
    "engine.tuner.Tuner._build_and_fit_model": "1be221e987732a41",
    "engine.tuner.Tuner._build_hypermodel": "6ed68e8f219d4a20",
    "engine.tuner.Tuner._get_checkpoint_fname": "7c81b53cd2891686",
    "engine.tuner.Tuner._try_build": "0e5b29c9636015ce",
    "engine.tuner.Tuner.run_trial": "a62b793008fd54db",
    "engine.tuner_utils.SaveBestEpoch": "4ec2cafb3710ba84",
    "utils.try_clear": "b1e8c2ad441c023f",
}

#: The hashes per keras-tuner version.
KNOWN: dict[str, dict[str, str]] = {"1.4.7": _BODIES_1_4, "1.4.8": _BODIES_1_4}

_PREFIX = "keras_tuner.src."


def _is_keras_tuner(name: str) -> bool:
    return name.startswith("keras_tuner.")


def _keras_tuner_names() -> dict[str, str]:
    names = {**seam_oracle.UPSTREAM, **seam_training.UPSTREAM}
    return {name: why for name, why in names.items() if _is_keras_tuner(name)}


def _resolve(dotted: str) -> object:
    parts = dotted.split(".")
    for split in range(len(parts), 0, -1):
        try:
            target: object = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for attribute in parts[split:]:
            target = getattr(target, attribute)
        return target
    raise ImportError(dotted)


def _unwrap(function: object) -> object:
    """The function Keras Tuner's ``synchronized`` wraps (it keeps no __wrapped__)."""
    if not getattr(function, "__qualname__", "").startswith("synchronized."):
        return function
    cells = dict(zip(function.__code__.co_freevars, function.__closure__, strict=True))
    return _unwrap(cells["func"].cell_contents)


def upstream_hashes() -> dict[str, str]:
    """The hash of each Keras Tuner body the seams list, in this environment."""
    hashes = {}
    for name in sorted(_keras_tuner_names()):
        source = inspect.getsource(_unwrap(_resolve(name)))
        hashes[name.removeprefix(_PREFIX)] = hashlib.sha256(
            source.encode()
        ).hexdigest()[:16]
    return hashes


def test_the_installed_keras_tuner_is_one_the_seam_was_checked_against():
    version = keras_tuner.__version__
    assert version in KNOWN, (
        f"keras-tuner {version} is not a version kt_ext's seam was checked "
        f"against ({sorted(KNOWN)}). Re-check {sorted(_keras_tuner_names())} "
        "in kt_ext/_internal/seam_oracle.py and kt_ext/_internal/seam_training.py, "
        "then add its hashes (python tests/test_seam.py) and widen pyproject.toml's "
        "range."
    )


@pytest.mark.parametrize("name", sorted(_keras_tuner_names()))
def test_keras_tuner_bodies_the_seam_copies_are_unchanged(name):
    known = KNOWN.get(keras_tuner.__version__, {})
    short = name.removeprefix(_PREFIX)
    assert short in known, f"no hash of {name} for this keras-tuner: add it"
    actual = upstream_hashes()[short]
    assert actual == known[short], (
        f"{name} changed in keras-tuner {keras_tuner.__version__}. Re-check "
        f"{_keras_tuner_names()[name]}, then update its hash in KNOWN."
    )


def test_the_declared_keras_tuner_range_is_the_hashed_versions():
    pyproject = pathlib.Path(__file__).parents[1] / "pyproject.toml"
    declared = re.search(r'"keras-tuner([^"]*)"', pyproject.read_text()).group(1)
    assert declared == f">={min(KNOWN)},<={max(KNOWN)}"


def test_nothing_else_in_kt_ext_imports_private_upstream_modules():
    package = pathlib.Path(seam_oracle.__file__).parents[1]
    private = ("keras_tuner.src", "keras.src", "tensorflow.python")
    offenders = []
    for path in sorted(package.rglob("*.py")):
        if path.name in ("seam_oracle.py", "seam_random.py", "seam_training.py"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                modules = [node.module or ""]
            else:
                continue
            offenders += [f"{path.name}: {m}" for m in modules if m.startswith(private)]
    assert offenders == []


# -- Keras and TensorFlow ------------------------------------------------------


def _model() -> keras.Model:
    inputs = keras.Input((3,))
    hidden = keras.layers.Dense(2)(inputs)
    return keras.Model(inputs, keras.layers.Dense(1)(hidden))


def _check_functional() -> None:
    assert seam_training.is_plain_model(_model())
    assert seam_training.is_plain_model(keras.Sequential([keras.Input((1,))]))

    class Subclassed(keras.Model):
        def call(self, x):
            return x

    assert not seam_training.is_plain_model(Subclassed())


def _check_preprocessing() -> None:
    assert seam_training.is_preprocessing_layer(keras.layers.Normalization())
    assert not seam_training.is_preprocessing_layer(keras.layers.Dense(1))


def _check_distribute_strategy() -> None:
    assert "_distribute_strategy" in vars(_model())
    assert seam_training.distribution_strategy(_model()) is None


def _check_flatten_layers() -> None:
    names = [type(layer).__name__ for layer in seam_training.sublayers(_model())]
    assert names.count("Dense") == 2 and "Functional" not in names


def _check_symbolic_build() -> None:
    model = _model()
    model.compile("adam", "mse", metrics=["mae"])
    before = len(model.metrics_variables)
    batch = (keras.KerasTensor((None, 3)), keras.KerasTensor((None, 1)))
    assert seam_training.symbolic_build(model, batch)
    assert len(model.metrics_variables) > before


def _check_weight_decay() -> None:
    optimizer = keras.optimizers.AdamW()
    assert not seam_training.excludes_from_weight_decay(optimizer)
    optimizer.exclude_from_weight_decay(var_names=["bias"])
    assert seam_training.excludes_from_weight_decay(optimizer)


def _check_gradient_registry() -> None:
    keep = seam_training.custom_gradient_names()
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    model.fit(np.zeros((4, 2)), np.zeros(4), epochs=1, verbose=0)
    assert seam_training.custom_gradient_names() - keep, "no all_reduce gradient"
    assert seam_training.forget_custom_gradients(keep) >= 1
    assert seam_training.custom_gradient_names() == keep


def _check_keras_seed_state() -> None:
    import threading

    keras.utils.set_random_seed(5)
    state = seam_random.keras_seed_state()
    # Keras 3.7 (the floor) keeps no seed in its global state: its global
    # SeedGenerator is then seeded from Python's `random`, which `seeded` seeds.
    assert state["global_random_seed"] in (5, None)
    assert state["global_seed_generator"] is None
    keras.random.uniform(())
    generator = seam_random.keras_seed_state()["global_seed_generator"]
    assert isinstance(generator, keras.random.SeedGenerator)
    elsewhere = {}
    thread = threading.Thread(
        target=lambda: elsewhere.update(seam_random.keras_seed_state())
    )
    thread.start()
    thread.join()
    assert elsewhere["global_seed_generator"] is None, "no longer thread-local"
    seam_random.set_keras_seed_state(state)
    assert seam_random.keras_seed_state() == state


def _check_tf_global_seed() -> None:
    import tensorflow as tf

    tf.random.set_seed(3)
    with seam_random.preserved():
        tf.random.set_seed(4)
        tf.random.uniform(())
    after = tf.random.uniform((2,)).numpy()
    tf.random.set_seed(3)
    np.testing.assert_array_equal(after, tf.random.uniform((2,)).numpy())


def _check_set_random_seed() -> None:
    # What kt_ext sets off TensorFlow is all that Keras's own seeding sets but
    # TensorFlow's seed: its global state's seed and generator, Python, NumPy.
    from keras.src.backend.common import global_state

    def after(seed_with):
        keras.random.uniform(())  # a global generator to reset
        before = dict(vars(global_state.GLOBAL_STATE_TRACKER))
        seed_with(5)
        state = vars(global_state.GLOBAL_STATE_TRACKER)
        changed = {k for k in {*before, *state} if before.get(k) is not state.get(k)}
        return changed, random.random(), np.random.rand()

    keras_changed, *keras_draws = after(keras.utils.set_random_seed)
    ours_changed, *our_draws = after(seam_random._seed_without_tensorflow)
    assert keras_changed <= {"global_random_seed", "global_seed_generator"}
    assert our_draws == keras_draws
    assert seam_random.keras_seed_state() == {
        "global_random_seed": 5,
        "global_seed_generator": None,
    }
    assert ours_changed <= {"global_random_seed", "global_seed_generator"}


def _check_callback_list_dispatch() -> None:
    import threading

    threads = []

    class Batches(keras.callbacks.Callback):
        async_safe = True

        def on_train_batch_end(self, batch, logs=None):
            threads.append(threading.current_thread())

    callbacks = keras.callbacks.CallbackList([Batches()])
    names = {"_async_train", "_async_test", "_async_predict"}
    assert names <= set(vars(callbacks)), "CallbackList's async flags moved"
    seam_training.in_order(callbacks)
    callbacks.on_train_begin()
    callbacks.on_train_batch_end(0, {})
    callbacks.on_train_end()
    assert threads == [threading.current_thread()]


_KERAS_CHECKS = {
    "keras.callbacks.CallbackList._async_train": _check_callback_list_dispatch,
    "keras.src.models.functional.Functional": _check_functional,
    "keras.src.layers.preprocessing": _check_preprocessing,
    "keras.Model._distribute_strategy": _check_distribute_strategy,
    "keras.Model._flatten_layers": _check_flatten_layers,
    "keras.Model._symbolic_build": _check_symbolic_build,
    "keras.optimizers.Optimizer._exclude_from_weight_decay": _check_weight_decay,
    "tensorflow.python.framework.ops._gradient_registry": _check_gradient_registry,
    "keras.src.backend.common.global_state": _check_keras_seed_state,
    "tensorflow.python.eager.context.Context._seed": _check_tf_global_seed,
    "keras.utils.set_random_seed": _check_set_random_seed,
}

_NON_KERAS_TUNER = {
    name: why
    for seam in (seam_training, seam_random)
    for name, why in seam.UPSTREAM.items()
    if not _is_keras_tuner(name)
}


def test_every_keras_and_tensorflow_name_the_seam_uses_has_a_check():
    assert set(_NON_KERAS_TUNER) == set(_KERAS_CHECKS)


@pytest.mark.parametrize("name", sorted(_KERAS_CHECKS))
def test_keras_and_tensorflow_internals_behave_as_the_seam_relies(name):
    try:
        _KERAS_CHECKS[name]()
    except Exception as error:
        pytest.fail(
            f"{name} no longer behaves as kt_ext relies on "
            f"(keras {keras.__version__}): re-check "
            f"{_NON_KERAS_TUNER[name]}. {type(error).__name__}: {error}"
        )


if __name__ == "__main__":
    json.dump({keras_tuner.__version__: upstream_hashes()}, sys.stdout, indent=4)
    print()


def test_build_unchecked_builds_as_a_trial_does_and_frees_nothing(tmp_path):
    # The dry step's build: Keras Tuner's `_build_hypermodel` applies the
    # tuner's compile overrides (here `loss`), and nothing clears the session.
    def build(hp):
        model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        model.compile("adam", "mse")
        return model

    tuner = keras_tuner.RandomSearch(
        build, objective="loss", max_trials=1, loss="mae", directory=tmp_path
    )
    kept = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model = seam_training.TunerSeam.build_unchecked(
        tuner, keras_tuner.HyperParameters()
    )
    assert isinstance(model, keras.Model) and model.compiled
    assert model.loss == "mae"
    assert kept.layers[0].name != model.layers[0].name  # the session was kept
