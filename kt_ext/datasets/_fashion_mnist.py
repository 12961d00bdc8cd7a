"""Finding and reading the Fashion-MNIST files already on this machine.

kt_ext downloads nothing: the four gzipped IDX files are looked for in a folder
the user names, then in Debian's ``dataset-fashion-mnist`` package and in the
Keras cache.
"""

from __future__ import annotations

import gzip
import os
import struct
from pathlib import Path

import numpy as np

from kt_ext.errors import DatasetNotAvailableError

#: Environment variable naming a folder that holds the Fashion-MNIST files.
FASHION_MNIST_ENV = "KT_EXT_FASHION_MNIST_DIR"

_DEBIAN_FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
_FASHION_MNIST_FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)
#: ``FASHION_MNIST_CLASSES[k]`` names label ``k``.
FASHION_MNIST_CLASSES = [
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


def read_fashion_mnist(
    data_dir: str | os.PathLike[str] | None,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Reads the official training images, then the official test images, as one set.

    Args:
        data_dir: The folder holding the four ``*-ubyte.gz`` files, or None to
            search ``$KT_EXT_FASHION_MNIST_DIR``, Debian's
            ``/usr/share/datasets/fashion-mnist`` and
            ``~/.keras/datasets/fashion-mnist``, in that order.

    Returns:
        ``(x, y, num_train)``: float32 images of shape ``(n, 28, 28, 1)`` in
        [0, 1], their labels, and how many of the rows (the first ones) are the
        official training images.

    Raises:
        DatasetNotAvailableError: When no folder holds the four files.
        ValueError: When a file is no IDX file or images and labels disagree.

    Example:
        >>> x, y, num_train = read_fashion_mnist(None)  # doctest: +SKIP
        >>> x.shape, num_train  # doctest: +SKIP
        ((70000, 28, 28, 1), 60000)
    """
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
    return x, y, len(train_labels)


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
