"""The error of a bad environment variable, shared by the settings modules."""

from __future__ import annotations


class SettingsError(ValueError):
    """A bad environment variable; the message names it and says what was expected."""
