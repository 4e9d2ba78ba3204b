"""The detector's thresholds, one named field each with its reason. A module of its own
so that the pixel signal (``geo.detect``), the site builders (``geo.sites``) and the
trend detector (``geo.timeseries``) all read them without importing one another."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any


@dataclass(frozen=True)
class DetectionParams:
    """Every threshold of the detector, with its reason; docs/detection.md gives the
    sources and how the defaults were chosen (bench/detection_sites.py, many scenes)."""

    min_area_m2: float = 2_000.0  # L.R. 1/2007: disused productive areas above 2,000 m²
    sealed_ndvi_max: float = 0.3  # first date: little or no vegetation...
    sealed_ndbi_min: float = -0.05  # ...and a built-up or bare signature
    gain_min: float = 0.15  # NDVI growth between the dates
    # a mature canopy (NDVI above this at the second date) is a field or a wood, not an
    # overgrown yard; yards reach 0.8, which the old 0.7 cut away
    field_ndvi_max: float = 0.85
    # used only when no cloud mask (SCL, QA) is given: bright blue is taken for cloud, and
    # so are bright roofs (which never change, so masking them loses no evidence)
    cloud_blue_min: float = 0.2
    sieve_pixels: int = 4
    # remove one-pixel strips (mixed pixels along edges); off since the registration
    # tolerance (registration_px) reads every date through a 3 x 3 mean, which the
    # adversarial family's tuning preferred (docs/detection.md)
    opening: bool = False
    # segmentation without an object layer: evidence closer than this is one site
    merge_distance_m: float = 60.0
    # ...then grown through what was built or bare at the first date, up to this far: the
    # roofs and yards that did not change belong to the site too
    grow_m: float = 100.0
    # a field-sized surface (at least crop_min_m2) turning green almost everywhere at once
    # (above crop_share of it) is farmland sown between the dates, not a yard overgrowing
    # in patches; applies only without an object layer
    crop_share: float = 0.5
    crop_min_m2: float = 10_000.0
    # share of an object's clear pixels with the signal (object layer); the adversarial
    # family's objects are all districts, so its tuning cannot tell values apart and the
    # strictest of the grid is kept
    min_object_share: float = 0.1
    # an object larger than this (an industrial district, a zoning polygon: the issue's
    # zones were 5.8 km²) is not one site: sites are segmented inside it and clipped to it.
    # 50 ha is above all but the largest single plants (Lombardy's biggest disused sites,
    # Falck or Bovisa, are several parcels on the cadastral or land-use layers)
    max_object_m2: float = 500_000.0
    min_segment_share: float = 0.15  # share of a segmented site's area with the signal
    min_evidence_m2: float = 500.0  # area with the signal, whatever the site's size
    # time series (geo.series), each rule with its source in docs/detection.md. Only the
    # growing season's dates are read (April-October): winter NDVI of grass and fields on
    # the real Slovenian series is 0.0-0.1 (snow, low sun), as bare as a yard
    season_months: tuple[int, int] = (4, 10)
    # each date's NDVI is read as a (2r + 1)² mean: a date misregistered by r pixels (older
    # Sentinel-2 products: up to one) would otherwise fake a harvest at every patch edge
    registration_px: int = 1
    # the first year has no green peak: a crop peaks at NDVI 0.6-0.9 every season, a
    # sealed yard stays under the sealed cut with noise (phenology)
    peak_ndvi_max: float = 0.4
    # the last year never falls back to bare after its peak: no clear NDVI after the
    # highest is under this; a field sown and harvested goes back to soil (phenology)
    reset_ndvi_max: float = 0.3
    # of the clear dates since a pixel first greened, the share that kept at least half
    # the gain: a new surface that lasts, not a crop cycle (persistence)
    min_persistence: float = 0.8
    # how much more than the scene's sealed surfaces a site's built surfaces that did not
    # green change over the last year (relative brightness, geo.series._activity): above
    # this they are in use (vehicles, stock, works), an active plant whatever grew in it
    max_activity: float = 0.03
    tile_size: int = 1024

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


DEFAULT_PARAMS = DetectionParams()

# Every default above that bench/detection_sites.py tunes was chosen on the adversarial
# family (geo/adversarial*.py) and is reported on the other (geo/scenes.py): the
# cross-family table in docs/detection.md. A time series' own defaults where they
# differ: patches joined only 20 m apart and a lower share (its rules already reject
# fields and one-date strips)
SERIES_PARAMS = replace(DEFAULT_PARAMS, merge_distance_m=20.0, min_segment_share=0.05, crop_share=0.6)
