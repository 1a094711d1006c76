"""Named errors a user or operator can cause; the edges (CLI, chat) turn each into one line, never a traceback."""
from __future__ import annotations


class UsageError(Exception):
    """A command line the user can fix (a bad flag value, a missing file); printed as one line, exit status 2."""


class StartupError(Exception):
    """The configuration, a data file or the database cannot be used; named in one line before any message is read."""
