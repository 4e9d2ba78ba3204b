"""The sites and the reference layers around them: tables, reference loading, enrichment,
OGC collections and CQL2, vector tiles, matching and short-list exports."""
