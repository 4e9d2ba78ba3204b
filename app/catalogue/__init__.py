"""The published catalogue and its standards: the sites table, OGC API - Features
collections with checked CQL2 filters, each site's stored listing, vector tiles and
short-list exports.

May import ``app.core`` and ``app.reference`` (the reference layers it also publishes as
collections); never scouting, documents, candidacies or the API."""
