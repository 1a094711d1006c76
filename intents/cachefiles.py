"""The cache files kept between runs (jieba's prefix dictionary, the stored words): written atomically, and the
stale ones of a kind removed when a new one is written."""
from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

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
