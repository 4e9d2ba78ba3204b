"""Opportunity Lombardy site scouting service: API, settings, catalogue."""

__version__ = "0.1.0"
