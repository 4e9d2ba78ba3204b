"""Brownfield candidates found in satellite rasters: runs, their candidates, staff review
and evaluation against a reference layer."""
