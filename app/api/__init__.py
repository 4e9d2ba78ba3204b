"""HTTP API of the catalogue."""
