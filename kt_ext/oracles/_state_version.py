"""The version of an oracle's saved state, and the refusal of unknown ones.

``oracle.json`` carries ``"state_version"``: the format kt_ext wrote it in.
A state without the key was written by kt_ext 0.1, before the key existed,
and is version 1. A kt_ext that changes the format raises
:data:`STATE_VERSION` and reads the older versions it knows; a directory of a
version it does not know (a newer kt_ext's) is refused before anything is
read into the oracle, naming both versions.
"""

from __future__ import annotations

from typing import Any

#: Key of the state's format version in ``oracle.json``.
STATE_VERSION_KEY = "state_version"

#: The format version this kt_ext writes, and the newest it reads.
STATE_VERSION = 1


def check_state_version(path: str, state: Any) -> None:
    """Refuses a state whose ``state_version`` this kt_ext does not know.

    A state without the key is version 1 (kt_ext 0.1).

    Raises:
        ValueError: The version is newer than :data:`STATE_VERSION`, or not a
            version at all; the message names the file and both versions.

    Example:
        >>> check_state_version("oracle.json", {"state_version": 1})
        >>> check_state_version("o.json", {"state_version": 9})  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: 'o.json' holds a search saved in state version 9, ...
    """
    if not isinstance(state, dict):
        return
    version = state.get(STATE_VERSION_KEY, 1)
    known = isinstance(version, int) and not isinstance(version, bool)
    if known and 1 <= version <= STATE_VERSION:
        return
    raise ValueError(
        f"{path!r} holds a search saved in state version {version!r}, but this "
        f"kt_ext reads state versions 1 to {STATE_VERSION}: it was saved by a "
        "newer kt_ext. Resume it with that kt_ext, or pass overwrite=True (or "
        "another project_name) to start afresh; nothing was deleted."
    )
