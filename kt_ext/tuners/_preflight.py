"""What ``search()`` checks before any training, and what it warns about.

The data checks themselves live in :mod:`kt_ext._internal.checks` (shapes, NaN and
infinity, Python lists) and in the template (``check_targets``: labels
against the output layer); here they are applied to ``search()``'s arguments,
with the names a user passed them by. Arguments that a kt_ext search would
silently ignore or misread get a warning: a training metric as the objective
while validation data is given, and ``epochs`` when the oracle plans each
trial's epochs.
"""

from __future__ import annotations

import warnings
from typing import Any

from kt_ext._internal.checks import as_array_input, check_finite_data, check_fit_data


def checked_fit_arguments(
    tuner: Any,
    oracle: Any,
    fit_args: tuple[Any, ...],
    fit_kwargs: dict[str, Any],
    cv: Any,
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """``search()``'s arguments, checked, with Python lists of rows as arrays.

    Args:
        tuner: The kt_ext tuner (its ``hypermodel`` and class name are read).
        oracle: The oracle built in this process (its objective, max_epochs).
        fit_args: ``x``, ``y``, as ``model.fit`` takes them.
        fit_kwargs: ``model.fit``'s keyword arguments.
        cv: ``search()``'s ``cv``; validation then comes from the folds.

    Raises:
        ValueError: ``x`` or ``y`` is empty, a list that is not a table of
            numbers, they differ in length (also ``validation_data``), hold
            NaN or infinity (``sample_weight`` too), or the targets do not fit
            a template's output layer (see ``check_targets``).

    Example:
        >>> args, kwargs = checked_fit_arguments(
        ...     tuner, tuner.oracle, ([[0.0, 1.0], [1.0, 0.0]], [0, 1]), {}, None
        ... )  # doctest: +SKIP
    """
    args, fit_kwargs = list(fit_args), dict(fit_kwargs)
    for index, name in enumerate(("x", "y")):
        if len(args) > index:
            args[index] = as_array_input(name, args[index])
        elif name in fit_kwargs:
            fit_kwargs[name] = as_array_input(name, fit_kwargs[name])
    x = args[0] if args else fit_kwargs.get("x")
    y = args[1] if len(args) > 1 else fit_kwargs.get("y")
    check_fit_data(x, y, "x", "y")
    check_finite_data("x", x)
    check_finite_data("y", y)
    check_finite_data("sample_weight", fit_kwargs.get("sample_weight"))
    check_targets = getattr(tuner.hypermodel, "check_targets", None)
    if check_targets is not None:
        check_targets(y, "y")
    validation = fit_kwargs.get("validation_data")
    if isinstance(validation, tuple | list):
        if len(validation) >= 2:
            x_val, y_val = validation[0], validation[1]
            check_fit_data(x_val, y_val, "validation_data[0]", "validation_data[1]")
            if check_targets is not None:
                check_targets(validation[1], "validation_data[1]")
        check_finite_data("validation_data", validation)
    validated = (
        cv is not None
        or validation is not None
        or bool(fit_kwargs.get("validation_split"))
    )
    warn_ignored_arguments(oracle, type(tuner).__name__, fit_kwargs, validated)
    return tuple(args), fit_kwargs


def prepared_search(
    tuner: Any, fit_args: tuple[Any, ...], fit_kwargs: dict[str, Any], cv: Any
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """``search()``'s arguments checked, its epochs and folds set; no model built.

    What every process of a search does first: :func:`checked_fit_arguments`,
    the tuner's ``check_fit_epochs``, ``set_folds`` and epoch budget check.

    Example:
        >>> args, kwargs = prepared_search(tuner, (x, y), {}, cv=3)  # doctest: +SKIP
    """
    fit_args, fit_kwargs = checked_fit_arguments(
        tuner, tuner._local_oracle, fit_args, fit_kwargs, cv
    )
    x = fit_args[0] if fit_args else fit_kwargs.get("x")
    y = fit_args[1] if len(fit_args) > 1 else fit_kwargs.get("y")
    tuner.check_fit_epochs(fit_kwargs)
    tuner.set_folds(cv, x, y, fit_kwargs)
    tuner._check_epoch_budget()
    return fit_args, fit_kwargs


def warn_ignored_arguments(
    oracle: Any, tuner_name: str, fit_kwargs: dict[str, Any], validated: bool
) -> None:
    """Warns about ``search()`` arguments that would not do what they say.

    A training metric as the objective while the search has validation data
    (``validation_data``, ``validation_split`` or ``cv``): the search would
    rank configurations by how well they fit the training rows. ``epochs``
    other than ``max_epochs`` when the oracle plans each trial's epochs:
    the oracle's plan wins.

    Example:
        >>> import keras_tuner as kt
        >>> oracle = kt.oracles.HyperbandOracle("accuracy", max_epochs=3)
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     warn_ignored_arguments(oracle, "Hyperband", {"epochs": 50}, True)
        >>> len(caught)
        2
    """
    objective = oracle.objective
    for part in getattr(objective, "objectives", None) or [objective]:
        name = part.name
        if validated and name != "default_objective" and not name.startswith("val_"):
            warnings.warn(
                f"The objective {name!r} is a training metric, yet the search has "
                "validation data: configurations would be ranked by how well they "
                f"fit the training rows. Pass objective='val_{name}' to rank them "
                "on the validation data.",
                UserWarning,
                stacklevel=4,
            )
    max_epochs = getattr(oracle, "max_epochs", None)
    epochs = fit_kwargs.get("epochs")
    if max_epochs is not None and epochs is not None and epochs != max_epochs:
        warnings.warn(
            f"`epochs={epochs!r}` passed to search() is ignored: {tuner_name} "
            "trains each trial for the epochs its oracle plans, up to "
            f"`max_epochs={max_epochs}`. Set `max_epochs` when creating the tuner "
            "instead.",
            UserWarning,
            stacklevel=4,
        )
