"""Errors of the geo package that callers catch without importing what raises them (the
command line catches a layer error without paying for geopandas at start-up)."""

from __future__ import annotations


class LayerError(ValueError):
    """A layer file cannot be used as it is; the message says what to change."""

    def __init__(self, message: str, message_it: str):
        super().__init__(message)
        self.message = message
        self.message_it = message_it
