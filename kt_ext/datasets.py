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
import struct
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from sklearn import datasets as sk_datasets
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import LabelEncoder, OneHotEncoder, StandardScaler

from kt_ext._checks import check_int, check_one_of, is_finite_number, require
from kt_ext._names import TASKS
from kt_ext._tasks import infer_task
from kt_ext.errors import DatasetNotAvailableError

__all__ = [
    "FASHION_MNIST_ENV",
    "NAMES",
    "TASKS",
    "Dataset",
    "load",
    "names",
    "split",
]

NAMES = (
    "breast_cancer",
    "diabetes",
    "digits",
    "digits_images",
    "fashion_mnist",
    "iris",
    "telco_churn",
    "wine",
)
"""Names that :func:`load` accepts."""

FASHION_MNIST_ENV = "KT_EXT_FASHION_MNIST_DIR"
"""Environment variable naming a folder that holds the Fashion-MNIST files."""

Split = tuple[np.ndarray, np.ndarray]

_PARTS = ("train", "validation", "test")

# Stratifying three ways needs a row of every class in every split.
_MIN_CLASS_COUNT = 3

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

_DEBIAN_FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
_FASHION_MNIST_FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)
_FASHION_MNIST_CLASSES = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
]


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


@dataclass(frozen=True)
class _Options:
    """Validated splitting arguments shared by :func:`load` and :func:`split`."""

    seed: int
    validation_size: float
    test_size: float
    scale: bool

    def __post_init__(self) -> None:
        check_int("seed", self.seed)
        for arg in ("validation_size", "test_size"):
            value = getattr(self, arg)
            require(
                arg,
                value,
                is_finite_number(value) and 0 < value < 1,
                "a fraction in (0, 1)",
            )
        if self.validation_size + self.test_size >= 1:
            raise ValueError(
                "`validation_size` + `test_size` must be below 1 to leave rows for "
                f"training, got {self.validation_size!r} + {self.test_size!r}."
            )


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
      (1 = churned); shipped with kt_ext, see ``kt_ext/_data/README.md``.
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
    options = _Options(seed, validation_size, test_size, scale)
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
    options = _Options(seed, validation_size, test_size, scale)
    x, categorical_indices, feature_names = _as_features(x, categorical)
    y = _as_target(y, len(x))
    task = _resolve_task(y, task)
    return _assemble(
        "custom",
        x,
        y,
        _split_rows(y, task, options),
        task=task,
        scale=options.scale,
        categorical=categorical_indices,
        feature_names=feature_names,
    )


def _load_sklearn(name: str, options: _Options) -> Dataset:
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
        _split_rows(bunch.target, task, options),
        task=task,
        scale=options.scale,
        feature_names=feature_names,
        label_names=label_names,
    )


def _load_telco_churn(options: _Options) -> Dataset:
    header, *records = _read_telco_csv()
    table = np.array(records, dtype=object)
    columns = [c for c in header if c not in ("customerID", "Churn")]
    x = table[:, [header.index(c) for c in columns]]
    # 11 customers with tenure 0 have a single space as TotalCharges.
    x[x == " "] = np.nan
    categorical = [i for i, c in enumerate(columns) if c not in _TELCO_NUMERIC]
    x, categorical_indices, _ = _as_features(x, categorical)
    y = table[:, header.index("Churn")]
    return _assemble(
        "telco_churn",
        x,
        y,
        _split_rows(y, "binary", options),
        task="binary",
        scale=options.scale,
        categorical=categorical_indices,
        feature_names=columns,
    )


def _read_telco_csv() -> list[list[str]]:
    resource = resources.files("kt_ext") / "_data" / "telco_churn.csv.gz"
    with (
        resource.open("rb") as raw,
        gzip.open(raw, "rt", encoding="utf-8", newline="") as text,
    ):
        return list(csv.reader(text))


def _load_fashion_mnist(
    options: _Options, data_dir: str | os.PathLike[str] | None
) -> Dataset:
    directory = _find_fashion_mnist(data_dir)
    train_images, train_labels, test_images, test_labels = (
        _read_idx(directory / file) for file in _FASHION_MNIST_FILES
    )
    if len(train_images) != len(train_labels) or len(test_images) != len(test_labels):
        raise ValueError(
            f"Fashion-MNIST files in {str(directory)!r} disagree: "
            f"{len(train_images)} train images, {len(train_labels)} train labels, "
            f"{len(test_images)} test images, {len(test_labels)} test labels."
        )
    x = np.concatenate([train_images, test_images])[..., np.newaxis]
    x = x.astype(np.float32)
    x /= 255.0
    y = np.concatenate([train_labels, test_labels])
    train, validation = _split_off(
        np.arange(len(train_labels)), y, options.validation_size, options.seed, True
    )
    test = np.arange(len(train_labels), len(y))
    return _assemble(
        "fashion_mnist",
        x,
        y,
        (train, validation, test),
        task="multiclass",
        scale=options.scale,
        label_names=_FASHION_MNIST_CLASSES,
    )


def _fashion_mnist_dirs(data_dir: str | os.PathLike[str] | None) -> list[Path]:
    if data_dir is not None:
        return [Path(data_dir)]
    keras_home = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras"))
    dirs = [_DEBIAN_FASHION_MNIST_DIR, keras_home / "datasets" / "fashion-mnist"]
    if os.environ.get(FASHION_MNIST_ENV):
        dirs.insert(0, Path(os.environ[FASHION_MNIST_ENV]))
    return dirs


def _find_fashion_mnist(data_dir: str | os.PathLike[str] | None) -> Path:
    searched = _fashion_mnist_dirs(data_dir)
    for directory in searched:
        if all((directory / file).is_file() for file in _FASHION_MNIST_FILES):
            return directory
    raise DatasetNotAvailableError(
        "Fashion-MNIST is not on this machine (kt_ext downloads nothing). "
        f"Searched {', '.join(str(d) for d in searched)} for "
        f"{', '.join(_FASHION_MNIST_FILES)}. To get it, run "
        "`sudo apt-get install dataset-fashion-mnist`, or put the four files in "
        f"~/.keras/datasets/fashion-mnist/, or set {FASHION_MNIST_ENV} (or pass "
        "`data_dir`) to a folder that holds them."
    )


def _read_idx(path: Path) -> np.ndarray:
    """Reads a gzipped IDX file of unsigned bytes (the MNIST file format)."""
    with gzip.open(path, "rb") as file:
        data = file.read()
    if len(data) < 4 or data[:3] != b"\x00\x00\x08":
        raise ValueError(f"{str(path)!r} is not an IDX file of unsigned bytes.")
    ndim = data[3]
    header_size = 4 + 4 * ndim
    shape = struct.unpack(f">{ndim}I", data[4:header_size])
    values = np.frombuffer(data, dtype=np.uint8, offset=header_size)
    if values.size != np.prod(shape):
        raise ValueError(
            f"{str(path)!r} must hold {int(np.prod(shape))} values for shape "
            f"{shape}, got {values.size}."
        )
    return values.reshape(shape)


def _as_features(
    x: Any, categorical: Sequence[Any] | None
) -> tuple[np.ndarray, list[int], list[str] | None]:
    """Returns ``x`` as an array, its categorical column indices and its names.

    A table with categorical columns becomes an object array holding floats in
    the numeric columns and strings in the categorical ones; an all-numeric
    table becomes float64. Images are returned as they are.
    """
    pd = sys.modules.get("pandas")  # A DataFrame means pandas is imported.
    if isinstance(categorical, str):
        categorical = [categorical]
    if pd is not None and isinstance(x, pd.DataFrame):
        _check_x_shape(x.shape)
        indices = _categorical_indices(categorical, list(x.columns))
        indices |= {
            i
            for i, dtype in enumerate(x.dtypes)
            if pd.api.types.is_bool_dtype(dtype)
            or not pd.api.types.is_numeric_dtype(dtype)
        }
        columns = [
            x.iloc[:, i].astype(str).to_numpy(dtype=object)
            if i in indices
            else x.iloc[:, i].to_numpy(dtype=np.float64, na_value=np.nan)
            for i in range(x.shape[1])
        ]
        return np.column_stack(columns), sorted(indices), [str(c) for c in x.columns]

    x = np.asarray(x)
    _check_x_shape(x.shape)
    if x.ndim > 2:
        if categorical:
            raise ValueError(
                f"`categorical` needs a 2-D table `x`, got {list(categorical)!r} "
                f"for `x` of shape {x.shape}."
            )
        return x, [], None
    indices = _categorical_indices(categorical, list(range(x.shape[1])))
    columns = [
        x[:, i].astype(str).astype(object) if i in indices else _numeric(x[:, i], i)
        for i in range(x.shape[1])
    ]
    return np.column_stack(columns), sorted(indices), None


def _check_x_shape(shape: tuple[int, ...]) -> None:
    if 0 in shape:
        raise ValueError(f"`x` must not be empty, got shape {shape}.")
    if len(shape) < 2:
        raise ValueError(
            "`x` must be 2-D (samples, features) or a batch of images, "
            f"got shape {shape}."
        )


def _categorical_indices(
    categorical: Sequence[Any] | None, columns: list[Any]
) -> set[int]:
    indices = set()
    for column in categorical or ():
        if column not in columns:
            raise ValueError(
                f"`categorical` must list columns of `x` ({columns!r}), got {column!r}."
            )
        indices.add(columns.index(column))
    return indices


def _numeric(values: np.ndarray, index: int) -> np.ndarray:
    try:
        return values.astype(np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(
            f"`x` column {index} must be numeric or listed in `categorical`: {err}."
        ) from err


def _as_target(y: Any, num_rows: int) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"`y` must be 1-D, one entry per row, got shape {y.shape}.")
    if len(y) != num_rows:
        raise ValueError(
            f"`y` must have one entry per row of `x` ({num_rows}), got {len(y)}."
        )
    if y.dtype.kind == "f":
        missing = ~np.isfinite(y)
    elif y.dtype.kind == "O":
        missing = np.array([v is None or (isinstance(v, float) and v != v) for v in y])
    else:
        missing = np.zeros(len(y), dtype=bool)
    if missing.any():
        raise ValueError(
            "`y` must not hold NaN, infinity or None, "
            f"got {y[missing][0]!r} at row {int(np.argmax(missing))}."
        )
    return y


def _resolve_task(y: np.ndarray, task: str | None) -> str:
    require(
        "task", task, task is None or task in TASKS, f"one of {list(TASKS)} or None"
    )
    if task == "regression":
        if y.dtype.kind not in "biuf":
            raise ValueError(
                f"`y` must be numeric for task 'regression', got dtype {y.dtype}."
            )
        return task
    if task is None:
        return infer_task(y)[0]
    num_classes = len(np.unique(y))
    if num_classes < 2:
        raise ValueError(f"`y` must hold at least two classes, got {num_classes}.")
    if task == "binary" and num_classes != 2:
        raise ValueError(
            f"`y` must hold exactly 2 classes for task 'binary', got {num_classes}."
        )
    return task


def _split_rows(
    y: np.ndarray, task: str, options: _Options
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Returns the row indices of train, validation and test."""
    stratify = task != "regression"
    if stratify:
        _check_stratifiable(y)
    rest, test = _split_off(
        np.arange(len(y)), y, options.test_size, options.seed, stratify
    )
    train, validation = _split_off(
        rest,
        y,
        options.validation_size / (1 - options.test_size),
        options.seed,
        stratify,
    )
    return train, validation, test


def _split_off(
    rows: np.ndarray, y: np.ndarray, size: float, seed: int, stratify: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Splits ``rows`` into (kept, taken), taking the fraction ``size``."""
    kept, taken = train_test_split(
        rows, test_size=size, random_state=seed, stratify=y[rows] if stratify else None
    )
    return kept, taken


def _check_stratifiable(y: np.ndarray) -> None:
    labels, counts = np.unique(y, return_counts=True)
    rarest = int(np.argmin(counts))
    if counts[rarest] < _MIN_CLASS_COUNT:
        raise ValueError(
            f"`y` must have at least {_MIN_CLASS_COUNT} rows of every class to "
            f"stratify train, validation and test, got {counts[rarest]} of class "
            f"{labels.tolist()[rarest]!r}."
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
    targets, class_names = _encode_targets(y, rows, task, label_names)
    if x.ndim > 2:
        features = [np.asarray(x[r], dtype=np.float32) for r in rows]
    else:
        features, feature_names = _transform_table(
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


def _encode_targets(
    y: np.ndarray,
    rows: tuple[np.ndarray, ...],
    task: str,
    label_names: Sequence[Any] | None,
) -> tuple[list[np.ndarray], list[str] | None]:
    if task == "regression":
        return [y[r].astype(np.float32) for r in rows], None
    encoder = LabelEncoder().fit(y[rows[0]])
    class_names = [
        str(label if label_names is None else label_names[label])
        for label in encoder.classes_
    ]
    return [encoder.transform(y[r]).astype(np.int64) for r in rows], class_names


def _transform_table(
    x: np.ndarray,
    rows: tuple[np.ndarray, ...],
    categorical: Sequence[int],
    feature_names: list[str] | None,
    scale: bool,
) -> tuple[list[np.ndarray], list[str]]:
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
