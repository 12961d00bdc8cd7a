"""Tests of kt_ext.datasets: bundled data, splitting and preprocessing."""

from __future__ import annotations

import dataclasses
import doctest
import gzip
import hashlib
import struct
from importlib import resources
from types import SimpleNamespace

import numpy as np
import pytest

from kt_ext import datasets
from kt_ext.datasets import (
    Dataset,
    _fashion_mnist,
    _inputs,
    _preprocess,
    _rows,
    load,
    names,
    split,
)
from kt_ext.errors import DatasetNotAvailableError

# name -> (rows in all splits, x shape after the row axis, task, num_classes)
BUNDLED = {
    "breast_cancer": (569, (30,), "binary", 2),
    "diabetes": (442, (10,), "regression", None),
    "digits": (1797, (64,), "multiclass", 10),
    "digits_images": (1797, (8, 8, 1), "multiclass", 10),
    "iris": (150, (4,), "multiclass", 3),
    "telco_churn": (7043, (45,), "binary", 2),
    "wine": (178, (13,), "multiclass", 3),
}
CLASSIFICATION = [n for n, spec in BUNDLED.items() if spec[2] != "regression"]


def _all_x(data: Dataset) -> list[np.ndarray]:
    return [x for x, _ in data]


def _assert_stratified(data: Dataset) -> None:
    """Each split holds each class in proportion, up to rounding (one row)."""
    y_all = np.concatenate([y for _, y in data])
    overall = np.bincount(y_all, minlength=data.num_classes) / len(y_all)
    for _, y in data:
        counts = np.bincount(y, minlength=data.num_classes)
        assert np.all(np.abs(counts - overall * len(y)) <= 1.0 + 1e-9)


# --- load: bundled data -------------------------------------------------------


def test_names_lists_every_loadable_name():
    assert names() == list(datasets.NAMES)
    assert set(names()) == {*BUNDLED, "fashion_mnist"}


@pytest.mark.parametrize("name", sorted(BUNDLED))
def test_load_shapes_dtypes_and_metadata(name):
    rows, x_shape, task, num_classes = BUNDLED[name]
    data = load(name)
    assert (data.name, data.task, data.num_classes) == (name, task, num_classes)
    assert sum(len(y) for _, y in data) == rows
    for x, y in data:
        assert x.shape[1:] == x_shape
        assert x.dtype == np.float32
        assert len(x) == len(y)
        assert np.isfinite(x).all()
        if task == "regression":
            assert y.dtype == np.float32
        else:
            assert y.dtype == np.int64
            assert set(np.unique(y)) == set(range(num_classes))
    assert abs(len(data.test[1]) - 0.2 * rows) <= 1
    assert abs(len(data.validation[1]) - 0.2 * rows) <= 1
    if task == "regression":
        assert data.class_names is None
    else:
        assert len(data.class_names) == num_classes
    if len(x_shape) == 1:
        assert len(data.feature_names) == x_shape[0]
    else:
        assert data.feature_names is None


def test_breast_cancer_keeps_sklearn_label_meaning():
    assert load("breast_cancer").class_names == ["malignant", "benign"]


def test_digits_images_are_unit_interval_pixels_not_standardized():
    data = load("digits_images")
    flat = load("digits", scale=False)
    x_images = np.concatenate(_all_x(data))
    assert x_images.min() == 0.0
    assert x_images.max() == 1.0
    # Same seed, same rows: the images are the flat pixels divided by 16.
    np.testing.assert_allclose(
        data.train[0].reshape(len(data.train[0]), -1), flat.train[0] / 16
    )


@pytest.mark.parametrize("name", ["breast_cancer", "diabetes", "telco_churn"])
def test_same_seed_same_arrays_other_seed_other_arrays(name):
    first, again, other = load(name, seed=7), load(name, seed=7), load(name, seed=8)
    for (x1, y1), (x2, y2) in zip(first, again, strict=True):
        np.testing.assert_array_equal(x1, x2)
        np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(first.train[0], other.train[0])
    assert not np.array_equal(first.test[1], other.test[1])


@pytest.mark.parametrize("name", CLASSIFICATION)
def test_classification_splits_are_stratified(name):
    _assert_stratified(load(name, seed=3))


@pytest.mark.parametrize("name", ["breast_cancer", "wine", "diabetes"])
def test_scaler_is_fit_on_train_rows_only(name):
    scaled, raw = load(name, seed=5), load(name, seed=5, scale=False)
    x_train = scaled.train[0]
    np.testing.assert_allclose(x_train.mean(axis=0), 0.0, atol=1e-4)
    np.testing.assert_allclose(x_train.std(axis=0), 1.0, atol=1e-4)
    # Validation is standardized with the train statistics, so it is not
    # centred itself ...
    assert np.abs(scaled.validation[0].mean(axis=0)).max() > 1e-3
    # ... and equals the raw rows standardized with the raw train statistics.
    raw_train = raw.train[0].astype(np.float64)
    mean, std = raw_train.mean(axis=0), raw_train.std(axis=0)
    for (x_scaled, _), (x_raw, _) in zip(scaled, raw, strict=True):
        np.testing.assert_allclose(x_scaled, (x_raw - mean) / std, atol=1e-4)


def test_splits_share_no_rows():
    x_parts = _all_x(load("breast_cancer", scale=False))
    keys = [{row.tobytes() for row in x} for x in x_parts]
    assert sum(len(k) for k in keys) == 569  # all rows of the set are distinct
    assert len(set().union(*keys)) == 569


def test_dataset_unpacks_is_frozen_and_prints_shapes_only():
    data = load("iris")
    (x_tr, y_tr), (x_va, y_va), (x_te, y_te) = data
    assert x_tr is data.train[0] and y_tr is data.train[1]
    assert x_va is data.validation[0] and y_va is data.validation[1]
    assert x_te is data.test[0] and y_te is data.test[1]
    with pytest.raises(dataclasses.FrozenInstanceError):
        data.name = "other"
    assert repr(data) == (
        "Dataset(name='iris', task='multiclass', num_classes=3, "
        "train=(90, 4), validation=(30, 4), test=(30, 4))"
    )
    summary = data.summary()
    assert "validation: x (30, 4) float32, y (30,) int64" in summary
    assert "[" not in summary  # no array values


@pytest.mark.parametrize(
    "module",
    [datasets, _inputs, _rows, _preprocess],
    ids=lambda module: module.__name__,
)
def test_docstring_examples_run(module):
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0


# --- telco_churn -----------------------------------------------------------------


def test_telco_file_is_the_documented_csv():
    data = resources.files("kt_ext.datasets") / "_data"
    resource = data / "telco_churn.csv.gz"
    text = gzip.decompress(resource.read_bytes())
    assert hashlib.md5(text).hexdigest() == "3b0bfab28a8101b4e4fdd08025a5c235"
    assert (data / "TELCO_CHURN_LICENSE.txt").is_file()


def test_telco_columns_encoding_and_class_balance():
    data = load("telco_churn")
    assert data.class_names == ["No", "Yes"]
    names_ = data.feature_names
    assert "customerID" not in " ".join(names_)
    assert names_[:4] == ["SeniorCitizen", "tenure", "MonthlyCharges", "TotalCharges"]
    for one_hot in ("gender_Female", "gender_Male", "Contract_Month-to-month"):
        assert one_hot in names_
    one_hot_columns = [i for i, n in enumerate(names_) if "_" in n]
    for x, _ in data:
        assert not np.isnan(x).any()
        assert set(np.unique(x[:, one_hot_columns])) == {0.0, 1.0}
        # One category per categorical column (19 columns, 4 numeric).
        assert np.all(x[:, one_hot_columns].sum(axis=1) == 15)
    assert sum(int(y.sum()) for _, y in data) == 1869  # churned customers
    _assert_stratified(data)


def test_telco_blank_total_charges_get_the_train_median():
    data = load("telco_churn", scale=False, seed=2)
    tenure = data.feature_names.index("tenure")
    total = data.feature_names.index("TotalCharges")
    x_train = data.train[0]
    train_median = np.median(x_train[x_train[:, tenure] > 0, total])
    blanks = 0
    for x, _ in data:
        imputed = x[x[:, tenure] == 0, total]
        np.testing.assert_allclose(imputed, train_median, rtol=1e-6)
        blanks += len(imputed)
    assert blanks == 11


# --- split: the user's own data ---------------------------------------------------


def test_split_numpy_keeps_rows_with_their_labels_and_shares_none():
    rng = np.random.default_rng(0)
    ids = np.arange(200)
    x = np.column_stack([ids, rng.normal(size=200)])
    y = rng.integers(0, 3, size=200)
    data = split(x, y, scale=False, seed=1)
    assert data.feature_names == ["x0", "x1"]
    seen = [x_part[:, 0].astype(int) for x_part, _ in data]
    assert sorted(np.concatenate(seen).tolist()) == ids.tolist()
    for (x_part, y_part), row_ids in zip(data, seen, strict=True):
        np.testing.assert_array_equal(x_part[:, 1], x[row_ids, 1].astype(np.float32))
        np.testing.assert_array_equal(y_part, y[row_ids])


@pytest.mark.parametrize(
    ("y", "task", "class_names"),
    [
        (np.linspace(0.0, 1.0, 60), "regression", None),
        (np.tile([0.0, 1.0], 30), "binary", ["0.0", "1.0"]),
        (np.tile([3, 1, 2], 20), "multiclass", ["1", "2", "3"]),
        (np.tile(["cat", "ant", "bee"], 20), "multiclass", ["ant", "bee", "cat"]),
        (np.tile([True, False], 30), "binary", ["False", "True"]),
        (list(np.tile(["no", "yes"], 30)), "binary", ["no", "yes"]),
    ],
)
def test_split_infers_the_task(y, task, class_names):
    x = np.arange(120.0).reshape(60, 2)
    data = split(x, y)
    assert data.task == task
    assert data.class_names == class_names
    if task == "regression":
        assert data.num_classes is None
        assert data.train[1].dtype == np.float32
    else:
        assert data.num_classes == len(class_names)
        assert data.train[1].dtype == np.int64
        _assert_stratified(data)


def test_split_explicit_task_multiclass_for_two_classes():
    x = np.arange(60.0).reshape(30, 2)
    assert split(x, np.tile([0, 1], 15), task="multiclass").num_classes == 2


def test_split_numpy_object_table_with_categorical_indices():
    x = np.array([[float(i), "abc"[i % 3]] for i in range(30)], dtype=object)
    data = split(x, np.arange(30) % 2, categorical=[1], scale=False)
    assert data.feature_names == ["x0", "x1_a", "x1_b", "x1_c"]
    for x_part, _ in data:
        assert x_part.dtype == np.float32
        np.testing.assert_array_equal(x_part[:, 1:].sum(axis=1), 1.0)


def test_split_dataframe_with_mixed_columns():
    pd = pytest.importorskip("pandas")
    n = 60
    rng = np.random.default_rng(0)
    age = rng.normal(40, 10, size=n)
    age[::7] = np.nan
    frame = pd.DataFrame(
        {
            "id": np.arange(n),
            "age": age,
            "city": np.tile(["Oslo", "Lima", "Pune"], n // 3),
            "plan": pd.Categorical(np.tile(["basic", "pro"], n // 2)),
            "active": np.tile([True, False, False], n // 3),
        }
    )
    label = pd.Series(np.tile(["stay", "leave"], n // 2))
    raw = split(frame, label, scale=False, seed=4)
    assert raw.feature_names == [
        "id",
        "age",
        "city_Lima",
        "city_Oslo",
        "city_Pune",
        "plan_basic",
        "plan_pro",
        "active_False",
        "active_True",
    ]
    assert raw.class_names == ["leave", "stay"]
    train_ids = raw.train[0][:, 0].astype(int)
    train_median = np.nanmedian(age[train_ids])
    for x, _ in raw:
        assert x.dtype == np.float32 and not np.isnan(x).any()
        ids = x[:, 0].astype(int)
        missing = np.isnan(age[ids])
        np.testing.assert_allclose(x[missing, 1], train_median, rtol=1e-6)
        np.testing.assert_allclose(x[~missing, 1], age[ids][~missing], rtol=1e-6)

    scaled = split(frame, label, seed=4)
    np.testing.assert_allclose(scaled.train[0][:, :2].mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_array_equal(scaled.train[0][:, 2:], raw.train[0][:, 2:])


def test_split_dataframe_categorical_argument_one_hot_encodes_numbers():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"size": np.arange(30.0), "zone": np.tile([1, 2, 3], 10)})
    data = split(frame, np.arange(30) % 2, categorical=["zone"])
    assert data.feature_names == ["size", "zone_1", "zone_2", "zone_3"]


def test_split_images_are_only_split_and_cast():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(40, 4, 4, 1), dtype=np.uint8)
    data = split(x, np.arange(40) % 2, seed=3)
    assert data.feature_names is None
    x_all = np.concatenate(_all_x(data))
    assert x_all.dtype == np.float32 and x_all.shape == (40, 4, 4, 1)
    assert sorted(x_all.ravel().tolist()) == sorted(x.ravel().astype(float).tolist())


# --- errors -----------------------------------------------------------------------


def test_load_unknown_name_lists_valid_names():
    with pytest.raises(ValueError, match=r"`name` must be one of \[.*'iris'.*\]"):
        load("foo")
    with pytest.raises(ValueError, match="got 'foo'"):
        load("foo")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"validation_size": 0}, "`validation_size` must be a fraction in .*got 0"),
        ({"validation_size": 1.0}, "`validation_size` .*got 1.0"),
        ({"test_size": -0.1}, r"`test_size` .*got -0.1"),
        ({"test_size": 1.5}, r"`test_size` .*got 1.5"),
        ({"test_size": "0.2"}, "`test_size` .*got '0.2'"),
        ({"validation_size": 0.5, "test_size": 0.5}, "must be below 1.*0.5 \\+ 0.5"),
    ],
)
def test_bad_sizes_name_the_argument(kwargs, message):
    with pytest.raises(ValueError, match=message):
        load("iris", **kwargs)
    with pytest.raises(ValueError, match=message):
        split(np.ones((30, 2)), np.arange(30) % 2, **kwargs)


def test_seed_must_be_an_int():
    with pytest.raises(TypeError, match="`seed` must be an int, got '1'"):
        load("iris", seed="1")


def test_data_dir_is_only_for_fashion_mnist(tmp_path):
    with pytest.raises(ValueError, match="`data_dir` is only used for"):
        load("iris", data_dir=tmp_path)


@pytest.mark.parametrize(
    ("x", "y", "kwargs", "message"),
    [
        (np.empty((0, 3)), [], {}, r"`x` must not be empty, got shape \(0, 3\)"),
        (np.arange(10.0), np.arange(10) % 2, {}, r"`x` must be 2-D.*shape \(10,\)"),
        (
            np.ones((10, 2)),
            np.arange(9) % 2,
            {},
            r"`y` must have one entry .*\(10\), got 9",
        ),
        (np.ones((10, 2)), np.ones((10, 2)), {}, r"`y` must be 1-D.*\(10, 2\)"),
        (np.ones((10, 2)), [0.0] * 9 + [np.nan], {}, "`y` must not hold NaN.*row 9"),
        (np.ones((10, 2)), ["a"] * 9 + [None], {}, "`y` must not hold .*None"),
        (
            np.ones((10, 2)),
            [1] * 10,
            {},
            "`y` must hold at least two classes, got only \\[1\\]",
        ),
        (
            np.ones((12, 2)),
            ["a"] * 5 + ["b"] * 5 + ["rare"] * 2,
            {},
            "`y` must have at least 3 rows of every class.*got 2 of class 'rare'",
        ),
        (
            np.ones((9, 2)),
            [0, 1, 2] * 3,
            {"task": "binary"},
            "exactly 2 classes.*got 3",
        ),
        (
            np.ones((8, 2)),
            [0, 1] * 4,
            {"task": "ordinal"},
            "`task` must be one of.*'ordinal'",
        ),
        (
            np.ones((8, 2)),
            ["a", "b"] * 4,
            {"task": "regression"},
            "`y` must be numeric",
        ),
        (
            np.ones((8, 2)),
            [0, 1] * 4,
            {"categorical": [5]},
            "`categorical` must list.*got 5",
        ),
        (
            np.ones((8, 2, 2)),
            [0, 1] * 4,
            {"categorical": [0]},
            "`categorical` needs a 2-D table",
        ),
        (
            np.array([["1.0", "a"]] * 8, dtype=object),
            [0, 1] * 4,
            {},
            "`x` column 1 must be numeric or listed in `categorical`.*'a'",
        ),
    ],
)
def test_split_rejects_bad_input(x, y, kwargs, message):
    with pytest.raises(ValueError, match=message):
        split(x, y, **kwargs)


def test_split_rejects_unknown_dataframe_column():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"a": np.arange(8.0)})
    with pytest.raises(ValueError, match=r"`categorical` must list .*got 'b'"):
        split(frame, [0, 1] * 4, categorical=["b"])


# --- fashion_mnist (fake files only) ----------------------------------------------


def _write_idx(path, array: np.ndarray) -> None:
    header = bytes([0, 0, 8, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    with gzip.open(path, "wb") as file:
        file.write(header + array.astype(np.uint8).tobytes())


@pytest.fixture
def fake_fashion(tmp_path):
    rng = np.random.default_rng(0)
    fake = SimpleNamespace(
        dir=tmp_path / "fashion",
        train_images=rng.integers(0, 256, size=(50, 28, 28)),
        train_labels=np.repeat(np.arange(10), 5),
        test_images=rng.integers(0, 256, size=(20, 28, 28)),
        test_labels=np.tile(np.arange(10), 2),
    )
    fake.dir.mkdir()
    _write_idx(fake.dir / "train-images-idx3-ubyte.gz", fake.train_images)
    _write_idx(fake.dir / "train-labels-idx1-ubyte.gz", fake.train_labels)
    _write_idx(fake.dir / "t10k-images-idx3-ubyte.gz", fake.test_images)
    _write_idx(fake.dir / "t10k-labels-idx1-ubyte.gz", fake.test_labels)
    return fake


@pytest.fixture
def no_fashion_anywhere(tmp_path, monkeypatch):
    monkeypatch.delenv(datasets.FASHION_MNIST_ENV, raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.setattr(
        _fashion_mnist, "_DEBIAN_FASHION_MNIST_DIR", tmp_path / "debian"
    )
    return tmp_path


def test_fashion_mnist_from_data_dir(fake_fashion):
    data = load("fashion_mnist", data_dir=fake_fashion.dir, seed=1)
    assert (data.task, data.num_classes) == ("multiclass", 10)
    assert data.class_names[0] == "T-shirt/top" and data.class_names[9] == "Ankle boot"
    assert data.feature_names is None
    for x, _ in data:
        assert x.dtype == np.float32 and x.shape[1:] == (28, 28, 1)
        assert x.min() >= 0.0 and x.max() <= 1.0
    # The official test set, in order, is the test split.
    np.testing.assert_allclose(data.test[0][..., 0], fake_fashion.test_images / 255)
    np.testing.assert_array_equal(data.test[1], fake_fashion.test_labels)
    # Validation is a stratified 20% of the official training set.
    assert (len(data.train[1]), len(data.validation[1])) == (40, 10)
    np.testing.assert_array_equal(np.bincount(data.validation[1]), np.ones(10))


def test_fashion_mnist_from_environment_variable(fake_fashion, monkeypatch):
    monkeypatch.setenv(datasets.FASHION_MNIST_ENV, str(fake_fashion.dir))
    assert len(load("fashion_mnist").test[1]) == 20


def test_fashion_mnist_from_keras_cache(fake_fashion, no_fashion_anywhere, monkeypatch):
    keras_home = no_fashion_anywhere / "keras_home"
    (keras_home / "datasets").mkdir(parents=True)
    fake_fashion.dir.rename(keras_home / "datasets" / "fashion-mnist")
    assert len(load("fashion_mnist").train[1]) == 40


def test_fashion_mnist_missing_says_where_it_looked_and_how_to_get_it(
    no_fashion_anywhere,
):
    with pytest.raises(DatasetNotAvailableError) as caught:
        load("fashion_mnist")
    assert isinstance(caught.value, FileNotFoundError)
    message = str(caught.value)
    assert "sudo apt-get install dataset-fashion-mnist" in message
    assert str(no_fashion_anywhere / "debian") in message
    assert str(no_fashion_anywhere / "keras_home" / "datasets" / "fashion-mnist") in (
        message
    )
    assert datasets.FASHION_MNIST_ENV in message


def test_fashion_mnist_data_dir_is_the_only_place_searched(
    fake_fashion, tmp_path, monkeypatch
):
    monkeypatch.setenv(datasets.FASHION_MNIST_ENV, str(fake_fashion.dir))
    empty = tmp_path / "empty"
    with pytest.raises(DatasetNotAvailableError, match=r"Searched [^,]*empty for"):
        load("fashion_mnist", data_dir=empty)


def test_fashion_mnist_corrupt_file_is_reported(fake_fashion):
    path = fake_fashion.dir / "t10k-labels-idx1-ubyte.gz"
    with gzip.open(path, "wb") as file:
        file.write(b"not an idx file")
    with pytest.raises(ValueError, match=r"t10k-labels.*is not an IDX file"):
        load("fashion_mnist", data_dir=fake_fashion.dir)
