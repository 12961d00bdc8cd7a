"""Preprocessing fit on the training rows only, then applied to every split.

Targets are label-encoded (classes) or cast to float32 (regression); table
columns are imputed, scaled and one-hot encoded. Validation and test rows never
reach an imputer, scaler or encoder's ``fit``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import LabelEncoder, OneHotEncoder, StandardScaler


def encode_targets(
    y: np.ndarray,
    rows: tuple[np.ndarray, ...],
    task: str,
    label_names: Sequence[Any] | None,
) -> tuple[list[np.ndarray], list[str] | None]:
    """Encodes ``y[rows[i]]`` for each split with classes learnt from ``rows[0]``.

    Returns:
        The targets of each split (int64 labels ``0..k-1``, or float32 for
        regression) and the class names (``label_names[label]`` where given),
        None for regression.

    Example:
        >>> y, rows = np.array(["b", "a", "b"]), (np.array([0, 1]), np.array([2]))
        >>> targets, names = encode_targets(y, rows, "binary", None)
        >>> [t.tolist() for t in targets], names
        ([[1, 0], [1]], ['a', 'b'])
    """
    if task == "regression":
        return [y[r].astype(np.float32) for r in rows], None
    encoder = LabelEncoder().fit(y[rows[0]])
    class_names = [
        str(label if label_names is None else label_names[label])
        for label in encoder.classes_
    ]
    return [encoder.transform(y[r]).astype(np.int64) for r in rows], class_names


def transform_table(
    x: np.ndarray,
    rows: tuple[np.ndarray, ...],
    categorical: Sequence[int],
    feature_names: list[str] | None,
    scale: bool,
) -> tuple[list[np.ndarray], list[str]]:
    """Imputes, scales and one-hot encodes ``x[rows[i]]``, fit on ``rows[0]``.

    Numeric columns get the training median for missing values and, when
    ``scale``, are standardized; the ``categorical`` columns are one-hot
    encoded (a category first seen outside train encodes as all zeros).

    Returns:
        The float32 features of each split, numeric columns first, and their
        names (``<column>_<category>`` for one-hot columns).

    Example:
        >>> x = np.array([[1.0, "a"], [3.0, "b"], [2.0, "c"]], dtype=object)
        >>> rows = (np.array([0, 1]), np.array([2]))
        >>> features, names = transform_table(x, rows, [1], ["size", "kind"], True)
        >>> features[1].tolist(), names
        ([[0.0, 0.0, 0.0]], ['size', 'kind_a', 'kind_b'])
    """
    numeric = [i for i in range(x.shape[1]) if i not in categorical]
    numeric_steps: list[Any] = [
        SimpleImputer(strategy="median", keep_empty_features=True)
    ]
    if scale:
        numeric_steps.append(StandardScaler())
    transformer = ColumnTransformer(
        [
            ("numeric", make_pipeline(*numeric_steps), numeric),
            (
                "categorical",
                OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                list(categorical),
            ),
        ],
        sparse_threshold=0.0,
        verbose_feature_names_out=False,
    ).fit(x[rows[0]])
    input_names = feature_names or [f"x{i}" for i in range(x.shape[1])]
    return (
        [transformer.transform(x[r]).astype(np.float32) for r in rows],
        [str(n) for n in transformer.get_feature_names_out(input_names)],
    )
