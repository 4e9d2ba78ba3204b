"""The pages the service serves (the map) and their own assets; their routes are in
``app.api.web``."""
