"""Spatial computations and raster detection. Pure: no database, no web framework."""
