"""Bundled data sets and seeded train/validation/test splits.

Everything here works offline: scikit-learn's bundled data, the Telco churn
table shipped inside kt_ext, and Fashion-MNIST only where its files already are
on this machine. Every data set comes back as a :class:`Dataset` of train,
validation and test arrays. Imputers, scalers and encoders are fit on the
training rows only, so validation and test rows never leak into them; tuning
reads the validation split, and the test split is left for one final check.

Example:
    >>> from kt_ext import datasets
    >>> (x_tr, y_tr), (x_va, y_va), (x_te, y_te) = datasets.load("iris")
    >>> x_tr.shape, x_va.shape, x_te.shape
    ((90, 4), (30, 4), (30, 4))
"""

from __future__ import annotations

import csv
import functools
import gzip
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np
from sklearn import datasets as sk_datasets

from kt_ext._internal.checks import check_one_of
from kt_ext._internal.names import DATASET_NAMES, TASKS
from kt_ext.datasets._fashion_mnist import (
    FASHION_MNIST_CLASSES,
    FASHION_MNIST_ENV,
    read_fashion_mnist,
)
from kt_ext.datasets._inputs import as_features, as_target, resolve_task
from kt_ext.datasets._preprocess import encode_targets, transform_table
from kt_ext.datasets._rows import SplitOptions, split_off, split_rows

__all__ = [
    "FASHION_MNIST_ENV",
    "NAMES",
    "TASKS",
    "Dataset",
    "load",
    "names",
    "split",
]

NAMES = DATASET_NAMES
"""Names that :func:`load` accepts."""

Split = tuple[np.ndarray, np.ndarray]

_PARTS = ("train", "validation", "test")

_SKLEARN_LOADERS = {
    "breast_cancer": (sk_datasets.load_breast_cancer, "binary"),
    # Raw features: the pre-scaled version is scaled with all rows, test included.
    "diabetes": (
        functools.partial(sk_datasets.load_diabetes, scaled=False),
        "regression",
    ),
    "digits": (sk_datasets.load_digits, "multiclass"),
    "digits_images": (sk_datasets.load_digits, "multiclass"),
    "iris": (sk_datasets.load_iris, "multiclass"),
    "wine": (sk_datasets.load_wine, "multiclass"),
}

_TELCO_NUMERIC = ("SeniorCitizen", "tenure", "MonthlyCharges", "TotalCharges")


@dataclass(frozen=True, eq=False, repr=False)
class Dataset:
    """Train, validation and test arrays of one data set.

    Features are float32. Tables come standardized (numeric columns, when
    ``scale``) and one-hot encoded (categorical columns), fit on ``train`` only;
    images keep their ``(height, width, channels)`` shape. Classification labels
    are int64 in ``0..num_classes-1``; regression targets are float32.

    Iterating yields ``train``, ``validation`` and ``test``, so a data set
    unpacks like the tuple of a Keras ``load_data()``.

    Attributes:
        train: ``(x, y)`` to fit models on.
        validation: ``(x, y)`` to score trials on while tuning.
        test: ``(x, y)`` for one final evaluation of the chosen model.
        name: The data set's name (``"custom"`` for :func:`split`).
        task: ``"binary"``, ``"multiclass"`` or ``"regression"``.
        num_classes: Number of classes; None for regression.
        feature_names: Names of the columns of ``x`` (one-hot columns are named
            ``<column>_<category>``); None for images.
        class_names: ``class_names[k]`` names label ``k``; None for regression.

    Example:
        >>> data = load("wine", seed=1)
        >>> (x_train, y_train), (x_val, y_val), (x_test, y_test) = data
        >>> data.task, data.num_classes, x_train.dtype, y_train.dtype
        ('multiclass', 3, dtype('float32'), dtype('int64'))
    """

    train: Split
    validation: Split
    test: Split
    name: str
    task: str
    num_classes: int | None = None
    feature_names: list[str] | None = None
    class_names: list[str] | None = None

    def __iter__(self) -> Iterator[Split]:
        return iter((self.train, self.validation, self.test))

    def __repr__(self) -> str:
        shapes = ", ".join(
            f"{part}={x.shape}" for part, (x, _) in zip(_PARTS, self, strict=True)
        )
        return (
            f"Dataset(name={self.name!r}, task={self.task!r}, "
            f"num_classes={self.num_classes}, {shapes})"
        )

    def summary(self) -> str:
        """Describes the splits' shapes and dtypes, one line each.

        Returns:
            A multi-line text without any array values.

        Example:
            >>> print(load("iris").summary())
            Dataset 'iris': multiclass, 3 classes
              train:      x (90, 4) float32, y (90,) int64
              validation: x (30, 4) float32, y (30,) int64
              test:       x (30, 4) float32, y (30,) int64
        """
        head = f"Dataset {self.name!r}: {self.task}"
        if self.num_classes is not None:
            head += f", {self.num_classes} classes"
        lines = [head]
        for part, (x, y) in zip(_PARTS, self, strict=True):
            label = f"{part}:"
            lines.append(f"  {label:<11} x {x.shape} {x.dtype}, y {y.shape} {y.dtype}")
        return "\n".join(lines)


def names() -> list[str]:
    """Lists the data sets that :func:`load` knows.

    Returns:
        The names in :data:`NAMES`. ``fashion_mnist`` is listed even where its
        files are missing; loading it then raises
        :class:`~kt_ext.errors.DatasetNotAvailableError`.

    Example:
        >>> "telco_churn" in names()
        True
    """
    return list(NAMES)


def load(
    name: str,
    *,
    seed: int = 0,
    validation_size: float = 0.2,
    test_size: float = 0.2,
    scale: bool = True,
    data_dir: str | os.PathLike[str] | None = None,
) -> Dataset:
    """Loads a data set that needs no download, split into train/validation/test.

    - ``breast_cancer``: Wisconsin diagnostic, 569 x 30, binary (0 = malignant).
    - ``digits``: 1,797 8x8 digits as 64 flat features, 10 classes.
    - ``digits_images``: the same digits as 8x8x1 images in [0, 1], an offline
      stand-in for MNIST.
    - ``wine`` (178 x 13, 3 classes), ``iris`` (150 x 4, 3 classes).
    - ``diabetes``: 442 x 10, regression (raw features, scaled here on train).
    - ``telco_churn``: IBM's Telco customer churn, 7,043 customers, binary
      (1 = churned); shipped with kt_ext, see ``kt_ext/datasets/_data/README.md``.
    - ``fashion_mnist``: 28x28x1 images in [0, 1], 10 classes, read from files
      already on this machine; its official 10,000 test images are the test
      split (``test_size`` is not used) and validation comes out of its 60,000
      training images.

    Splits are seeded and, for classification, stratified. Imputers, scalers
    and encoders are fit on the training rows only; images are never
    standardized.

    Args:
        name: One of :data:`NAMES`.
        seed: Seed of the shuffling; the same seed gives the same arrays.
        validation_size: Fraction of the rows for validation.
        test_size: Fraction of the rows for test.
        scale: Standardize numeric table columns (mean 0, std 1 on train).
        data_dir: Folder holding the four Fashion-MNIST ``*-ubyte.gz`` files;
            only for ``fashion_mnist``. Without it, the folder named by
            ``$KT_EXT_FASHION_MNIST_DIR``, then Debian's
            ``/usr/share/datasets/fashion-mnist`` (package
            ``dataset-fashion-mnist``), then the Keras cache
            ``~/.keras/datasets/fashion-mnist`` are searched.

    Returns:
        The :class:`Dataset`.

    Raises:
        ValueError: For an unknown ``name`` or sizes out of range.
        TypeError: For a ``seed`` that is not an int.
        DatasetNotAvailableError: When the Fashion-MNIST files are not found.

    Example:
        >>> data = load("breast_cancer", seed=3)
        >>> data.task, data.class_names
        ('binary', ['malignant', 'benign'])
        >>> (x_tr, y_tr), (x_va, y_va), (x_te, y_te) = data
        >>> x_tr.shape, x_va.shape, x_te.shape
        ((341, 30), (114, 30), (114, 30))
    """
    check_one_of("name", name, NAMES)
    if data_dir is not None and name != "fashion_mnist":
        raise ValueError(
            f"`data_dir` is only used for 'fashion_mnist', got {data_dir!r} "
            f"for {name!r}."
        )
    options = SplitOptions(seed, validation_size, test_size, scale)
    if name == "fashion_mnist":
        return _load_fashion_mnist(options, data_dir)
    if name == "telco_churn":
        return _load_telco_churn(options)
    return _load_sklearn(name, options)


def split(
    x: Any,
    y: Any,
    *,
    task: str | None = None,
    seed: int = 0,
    validation_size: float = 0.2,
    test_size: float = 0.2,
    scale: bool = True,
    categorical: Sequence[Any] | None = None,
) -> Dataset:
    """Splits the user's own data into train/validation/test like :func:`load`.

    ``x`` is a 2-D table (a NumPy array or a pandas DataFrame) or a batch of
    images (an array with more than two dimensions). Table columns are
    numeric or categorical: a DataFrame's object, category, string and bool
    columns are categorical, and so are the columns listed in
    ``categorical``. Numeric columns get missing values imputed with the
    training median and, when ``scale``, are standardized; categorical ones
    are one-hot encoded (a missing value is a category of its own, a category
    first seen outside train encodes as all zeros). Everything is fit on the
    training rows only. The output puts numeric columns first, then the
    one-hot columns; :attr:`Dataset.feature_names` names them. Images are only
    split and cast to float32, never scaled.

    Args:
        x: Features, one row per sample; pandas is not needed for arrays.
        y: Labels or targets, one per row of ``x`` in the same order (array,
            list or pandas Series; a Series' index is not aligned).
        task: ``"binary"``, ``"multiclass"``, ``"regression"``, or None to
            infer it: float ``y`` with non-integer values is regression;
            otherwise ``y`` holds classes (strings included), binary for two
            and multiclass for more.
        seed: Seed of the shuffling; the same seed gives the same arrays.
        validation_size: Fraction of the rows for validation.
        test_size: Fraction of the rows for test.
        scale: Standardize numeric columns (mean 0, std 1 on train).
        categorical: Columns to one-hot encode, besides a DataFrame's
            non-numeric ones: names for a DataFrame, indices for an array.

    Returns:
        The :class:`Dataset`, named ``"custom"``. Classification is stratified
        and labels are encoded in sorted order (``class_names`` gives them).

    Raises:
        ValueError: For empty or 1-D ``x``, a ``y`` of another length, missing
            labels, a class with fewer than 3 rows, an unknown ``task`` or
            ``categorical`` column, a non-numeric column not listed in
            ``categorical``, or sizes out of range.
        TypeError: For a ``seed`` that is not an int.

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> x = rng.normal(size=(100, 3))
        >>> y = np.where(x[:, 0] > 0, "yes", "no")
        >>> data = split(x, y, seed=0)
        >>> data.task, data.class_names, data.train[0].shape
        ('binary', ['no', 'yes'], (60, 3))
    """
    options = SplitOptions(seed, validation_size, test_size, scale)
    x, categorical_indices, feature_names = as_features(x, categorical)
    y = as_target(y, len(x))
    task = resolve_task(y, task)
    return _assemble(
        "custom",
        x,
        y,
        split_rows(y, task, options),
        task=task,
        scale=options.scale,
        categorical=categorical_indices,
        feature_names=feature_names,
    )


def _load_sklearn(name: str, options: SplitOptions) -> Dataset:
    loader, task = _SKLEARN_LOADERS[name]
    bunch = loader()
    if name == "digits_images":
        # Pixel values are 0..16; dividing needs nothing fit on the data.
        x, feature_names = bunch.images[..., np.newaxis] / 16.0, None
    else:
        x, feature_names = bunch.data, list(bunch.feature_names)
    label_names = None if task == "regression" else list(bunch.target_names)
    return _assemble(
        name,
        x,
        bunch.target,
        split_rows(bunch.target, task, options),
        task=task,
        scale=options.scale,
        feature_names=feature_names,
        label_names=label_names,
    )


def _load_telco_churn(options: SplitOptions) -> Dataset:
    header, *records = _read_telco_csv()
    table = np.array(records, dtype=object)
    columns = [c for c in header if c not in ("customerID", "Churn")]
    x = table[:, [header.index(c) for c in columns]]
    # 11 customers with tenure 0 have a single space as TotalCharges.
    x[x == " "] = np.nan
    categorical = [i for i, c in enumerate(columns) if c not in _TELCO_NUMERIC]
    x, categorical_indices, _ = as_features(x, categorical)
    y = table[:, header.index("Churn")]
    return _assemble(
        "telco_churn",
        x,
        y,
        split_rows(y, "binary", options),
        task="binary",
        scale=options.scale,
        categorical=categorical_indices,
        feature_names=columns,
    )


def _read_telco_csv() -> list[list[str]]:
    resource = resources.files("kt_ext.datasets") / "_data" / "telco_churn.csv.gz"
    with (
        resource.open("rb") as raw,
        gzip.open(raw, "rt", encoding="utf-8", newline="") as text,
    ):
        return list(csv.reader(text))


def _load_fashion_mnist(
    options: SplitOptions, data_dir: str | os.PathLike[str] | None
) -> Dataset:
    x, y, num_train = read_fashion_mnist(data_dir)
    train, validation = split_off(
        np.arange(num_train), y, options.validation_size, options.seed, True
    )
    test = np.arange(num_train, len(y))
    return _assemble(
        "fashion_mnist",
        x,
        y,
        (train, validation, test),
        task="multiclass",
        scale=options.scale,
        label_names=FASHION_MNIST_CLASSES,
    )


def _assemble(
    name: str,
    x: np.ndarray,
    y: np.ndarray,
    rows: tuple[np.ndarray, np.ndarray, np.ndarray],
    *,
    task: str,
    scale: bool,
    categorical: Sequence[int] = (),
    feature_names: list[str] | None = None,
    label_names: Sequence[Any] | None = None,
) -> Dataset:
    """Builds the :class:`Dataset`, fitting all preprocessing on ``rows[0]``."""
    targets, class_names = encode_targets(y, rows, task, label_names)
    if x.ndim > 2:
        features = [np.asarray(x[r], dtype=np.float32) for r in rows]
    else:
        features, feature_names = transform_table(
            x, rows, categorical, feature_names, scale
        )
    train, validation, test = zip(features, targets, strict=True)
    return Dataset(
        train=train,
        validation=validation,
        test=test,
        name=name,
        task=task,
        num_classes=None if class_names is None else len(class_names),
        feature_names=feature_names,
        class_names=class_names,
    )
