"""The one base class of errors a user can fix: a blank query, a missing or stale model folder,
an unreadable data set, image or releases file, a store that cannot be reached, a malformed
setting. Its message says what is wrong and what to do, one line a problem; each command line
prints it and exits with code 2. Anything else is a bug, and keeps its traceback."""

from __future__ import annotations


class UserError(Exception):
    """An error whose message tells the user what to fix (see the module's docstring)."""


class GalleryError(UserError):
    """A gallery folder that cannot be indexed as asked (missing, not a folder)."""


class SettingError(UserError):
    """A malformed setting (an option, an environment variable); the message names it."""
