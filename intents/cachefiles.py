"""The cache files kept between runs (jieba's prefix dictionary, the stored words, the gazetteer, the classifier's
arrays): written atomically, and the stale ones of a kind removed when a new one is written."""
from __future__ import annotations

import logging
import marshal
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

logger = logging.getLogger(__name__)
T = TypeVar("T")

STALE_AFTER_S = 86400  # other caches untouched this long are removed when a new one is written


def write_atomically(path: Path, write: Callable[[BinaryIO], None]) -> None:
    """Have `write` fill a temporary file beside `path`, then put it in place: readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            write(out)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def remove_stale(keep: Path, pattern: str) -> None:
    """Delete the files matching `pattern` beside `keep`, other than `keep`, untouched for STALE_AFTER_S."""
    now = time.time()
    for other in keep.parent.glob(pattern):
        try:
            if other != keep and now - other.stat().st_mtime > STALE_AFTER_S:
                other.unlink()
        except OSError:
            pass


def kept(path: Path, make: Callable[[], Any], use: Callable[[Any], T]) -> T:
    """use() of the value an earlier process kept at `path` (named by what the value is made from), else of make()'s,
    which is kept there for the next (marshal: make() returns what marshal writes) and the stale files of its kind
    (the name's part before its first "-") removed. A kept file that cannot be read or used is made again; a value
    that cannot be kept is used all the same, with a warning. Raises what make() and use() of its value raise."""
    try:
        return use(marshal.loads(path.read_bytes()))
    except (OSError, EOFError, ValueError, TypeError):
        pass  # not there yet, or unusable: made again, and kept
    value = make()
    try:
        write_atomically(path, lambda out: marshal.dump(value, out))
        remove_stale(path, path.name.split("-")[0] + "-*.marshal")
    except (OSError, ValueError) as exc:
        logger.warning("cannot keep %s in %s (%s)", path.name, path.parent, exc)
    return use(value)
