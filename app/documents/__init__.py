"""Printed documents for investors: a published site's exposé and comparisons of 2-5
sites as PDF in Italian or English (Jinja2 templates printed by WeasyPrint, the location
map drawn by ``geo.mapimage``). Public properties only.

May import ``app.core``, ``app.reference`` and ``app.catalogue``."""
