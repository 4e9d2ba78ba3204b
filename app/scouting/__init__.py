"""Investor scouting: what an investor asks (requirements and activity presets), matching
on a columnar snapshot of the published sites with reasons and near misses, the record
of every search for the unmet-demand report, and standing enquiries with their alerts.

May import ``app.core``, ``app.reference`` and ``app.catalogue``."""
