"""What a worker process is fed: the tuner to build and the search to run.

The payload is written with cloudpickle to ``<project>/workers/payload.pkl``:
the tuner's class and constructor arguments (the hypermodel among them) and
the ``search`` arguments. cloudpickle sends functions and classes defined in
``__main__`` or a notebook by value, so a script needs no ``__main__`` guard
(multiprocessing's spawn would re-run it). NumPy arrays of at least
``_MAPPED_BYTES`` go as ``.npy`` files beside it, which every worker maps into
memory read-only instead of holding its own copy. Unpickling runs code: the
files are as trusted as the script that wrote them, and are removed when the
search ends.
"""

from __future__ import annotations

import contextlib
import dataclasses
from pathlib import Path
from typing import Any

import cloudpickle
import numpy as np

_PAYLOAD = "payload.pkl"
_MAPPED_BYTES = 1 << 16


@dataclasses.dataclass
class Payload:
    """A tuner to build and the ``search`` call to run with it.

    Example:
        >>> Payload(dict, (), {}, (), {}, None).cv is None
        True
    """

    tuner_class: type
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    fit_args: tuple[Any, ...]
    fit_kwargs: dict[str, Any]
    cv: Any


@dataclasses.dataclass(frozen=True)
class MappedArray:
    """A NumPy array saved as ``<name>.npy`` next to the payload."""

    name: str


def write_payload(payload: Payload, folder: Path) -> Path:
    """Writes ``payload`` (large arrays as ``.npy`` files) into ``folder``.

    Raises:
        TypeError: An object of the payload cannot be pickled by cloudpickle
            (the message names the error and what must be picklable).

    Example:
        >>> import tempfile
        >>> folder = Path(tempfile.mkdtemp())
        >>> path = write_payload(Payload(dict, (), {}, (np.zeros(10**5),), {}, None),
        ...                      folder)
        >>> read_payload(path).fit_args[0].shape
        (100000,)
    """
    arrays: list[np.ndarray] = []
    mapped = dataclasses.replace(
        payload,
        fit_args=_mapped(payload.fit_args, arrays),
        fit_kwargs=_mapped(payload.fit_kwargs, arrays),
    )
    try:
        data = cloudpickle.dumps(mapped)
    except Exception as error:
        name = _first_unpicklable(mapped)
        raise TypeError(
            f"With workers, {name} must be picklable by cloudpickle (as must the "
            "tuner's other constructor arguments, the hypermodel and the search "
            f"arguments); pickling it failed: {type(error).__name__}: {error}"
        ) from error
    # The arrays are written only once the payload is known to pickle, so a
    # refused search leaves no copy of the data in the project directory.
    folder.mkdir(parents=True, exist_ok=True)
    for index, array in enumerate(arrays):
        np.save(folder / f"array{index}.npy", array, allow_pickle=False)
    path = folder / _PAYLOAD
    path.write_bytes(data)
    return path


def _first_unpicklable(payload: Payload) -> str:
    """The name, as the user wrote it, of the first part that cannot pickle."""
    parts: list[tuple[str, Any]] = [("the tuner's class", payload.tuner_class)]
    parts += [
        (f"the tuner's positional argument {i}", value)
        for i, value in enumerate(payload.args)
    ]
    parts += [(f"`{key}`", value) for key, value in payload.kwargs.items()]
    parts += [
        (f"the search's positional argument {i} (`{name}`)", value)
        for i, (name, value) in enumerate(
            zip(("x", "y", "batch_size", "epochs"), payload.fit_args, strict=False)
        )
    ]
    parts += [(f"`{key}`", value) for key, value in payload.fit_kwargs.items()]
    parts.append(("`cv`", payload.cv))
    for name, value in parts:
        try:
            cloudpickle.dumps(value)
        except Exception:
            return name
    return "the payload"


def read_payload(path: Path) -> Payload:
    """The payload at ``path``, its arrays mapped read-only from their files.

    Example:
        >>> read_payload(Path("project/workers/payload.pkl"))  # doctest: +SKIP
    """
    payload = cloudpickle.loads(Path(path).read_bytes())
    folder = Path(path).parent
    return dataclasses.replace(
        payload,
        fit_args=_unmapped(payload.fit_args, folder),
        fit_kwargs=_unmapped(payload.fit_kwargs, folder),
    )


def remove_payload(folder: Path) -> None:
    """Removes the payload and its arrays (the workers' logs stay)."""
    for path in [folder / _PAYLOAD, *folder.glob("array*.npy")]:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _mapped(value: Any, arrays: list[np.ndarray]) -> Any:
    """``value`` with its large numeric arrays replaced by ``MappedArray``."""
    if (
        isinstance(value, np.ndarray)
        and value.dtype != object
        and value.nbytes >= _MAPPED_BYTES
    ):
        for index, saved in enumerate(arrays):
            if saved is value:  # one file for an array passed twice
                return MappedArray(f"array{index}")
        arrays.append(value)
        return MappedArray(f"array{len(arrays) - 1}")
    if isinstance(value, tuple | list):
        return type(value)(_mapped(item, arrays) for item in value)
    if isinstance(value, dict):
        return {key: _mapped(item, arrays) for key, item in value.items()}
    return value


def _unmapped(value: Any, folder: Path) -> Any:
    if isinstance(value, MappedArray):
        return np.load(folder / f"{value.name}.npy", mmap_mode="r")
    if isinstance(value, tuple | list):
        return type(value)(_unmapped(item, folder) for item in value)
    if isinstance(value, dict):
        return {key: _unmapped(item, folder) for key, item in value.items()}
    return value
