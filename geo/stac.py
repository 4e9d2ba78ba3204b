"""Imagery the way users get it: Sentinel-2 scenes from a STAC API (pystac-client) or a
static STAC catalogue (pystac), turned into the dated ``Scene``s the detector reads: a
time series (the clearest usable scene of each month) when the period gives one, else
two dates.

Only what the detector needs is read, and only where it is needed: the band assets it
uses (blue, red, NIR, SWIR 1.6 µm; B03 and B12 when present), the scene classification
layer as its cloud mask, and (in ``geo.detect``) only the tiles over the requested bbox.
Scenes cloudier than ``max_cloud`` (``eo:cloud_cover``) are dropped before any pixel is
read; an item without one of the needed bands is skipped, saying which. Every refusal is
a ``StacError`` whose message says what to change.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from geo.detect import NEEDED, SCL_CLOUDY, Scene
from geo.raster import COMMON, Reflectance

# asset keys by band, as the big catalogues name them: Sentinel-2's ids (Planetary
# Computer, sen2r-style catalogues) or common names (Earth Search, STAC best practice)
BAND_KEYS = {
    "B02": ("B02", "blue"), "B03": ("B03", "green"), "B04": ("B04", "red"), "B08": ("B08", "nir"),
    "B11": ("B11", "swir16"), "B12": ("B12", "swir22"),
}
SCL_KEYS = ("SCL", "scl")


class StacError(ValueError):
    """A catalogue that cannot give two usable dates: the message says why."""


SERIES_SPAN = dt.timedelta(days=300)  # as geo.series: two growing seasons at least


@dataclass(frozen=True)
class Found:
    """The scenes chosen, oldest first (a series, or two dates), and what was left out
    and why (for the command to print)."""

    scenes: tuple[Scene, ...]
    items: tuple[str, ...]
    skipped: list[str] = field(default_factory=list)

    @property
    def before(self) -> Scene:
        return self.scenes[0]

    @property
    def after(self) -> Scene:
        return self.scenes[-1]


def search(source: str, bbox: tuple[float, float, float, float], start: dt.date, end: dt.date,
           collection: str | None = None) -> list[Any]:
    """Items over ``bbox`` (lon/lat) between ``start`` and ``end``: from a STAC API when
    ``source`` is one, else from a static catalogue (a catalog.json path or URL)."""
    if start >= end:
        raise StacError(f"--from {start} must be before --to {end}.")
    try:
        if source.startswith(("http://", "https://")) and not source.endswith(".json"):
            return _search_api(source, bbox, start, end, collection)
        return _search_static(source, bbox, start, end, collection)
    except StacError:
        raise
    except Exception as exc:  # network, HTTP, JSON and STAC validation errors alike
        raise StacError(f"Cannot read the STAC catalogue at {source}: {type(exc).__name__}: {exc}") from exc


def _search_api(url: str, bbox: tuple[float, ...], start: dt.date, end: dt.date, collection: str | None) -> list[Any]:
    from pystac_client import Client

    client = Client.open(url)
    found = client.search(bbox=list(bbox), datetime=f"{start.isoformat()}/{end.isoformat()}",
                          collections=[collection] if collection else None, max_items=500)
    return list(found.items())


def _search_static(path: str, bbox: tuple[float, ...], start: dt.date, end: dt.date,
                   collection: str | None) -> list[Any]:
    import pystac
    from shapely.geometry import box, shape

    catalog = pystac.read_file(path)
    if not isinstance(catalog, pystac.Catalog):
        raise StacError(f"{path} is a STAC {type(catalog).__name__}, not a catalogue or collection.")
    area = box(*bbox)
    items = []
    for item in catalog.get_items(recursive=True):
        when = item.datetime.date() if item.datetime else None
        if when is None or not start <= when <= end or item.geometry is None:
            continue
        if collection and item.collection_id != collection:
            continue
        if shape(item.geometry).intersects(area):
            items.append(item)
    return items


def choose(items: list[Any], max_cloud: float = 20.0) -> Found:
    """The series the detector reads: the clearest usable scene of each month when they
    are three or more over two growing seasons; else the clearest of the earliest year
    and of the latest year (two dates, low confidence)."""
    if not items:
        raise StacError("The catalogue has no scene over this bbox in this period.")
    skipped, usable = [], []
    for item in sorted(items, key=lambda i: i.datetime):
        cloud = item.properties.get("eo:cloud_cover")
        if cloud is not None and cloud > max_cloud:
            skipped.append(f"{item.id}: {cloud:g}% cloud (over {max_cloud:g}%)")
            continue
        try:
            usable.append((item, scene(item)))
        except StacError as exc:
            skipped.append(f"{item.id}: {exc}")
    if not usable:
        raise StacError(f"None of the {len(items)} scenes can be used: " + "; ".join(skipped[:5]))
    first_year, last_year = usable[0][0].datetime.year, usable[-1][0].datetime.year
    if first_year == last_year:
        raise StacError(f"The usable scenes are all of {first_year}: a change needs two years; widen --from/--to "
                        f"({len(usable)} usable, {len(skipped)} skipped" + "".join(f"; {s}" for s in skipped[:5]) + ").")
    clearest = lambda group: min(group, key=lambda u: (u[0].properties.get("eo:cloud_cover") or 0,  # noqa: E731
                                                       u[0].datetime))
    months: dict[tuple[int, int], list] = {}
    for entry in usable:
        months.setdefault((entry[0].datetime.year, entry[0].datetime.month), []).append(entry)
    series = [clearest(group) for _, group in sorted(months.items())]
    if len(series) < 3 or series[-1][1].date - series[0][1].date < SERIES_SPAN:
        series = [clearest([u for u in usable if u[0].datetime.year == year]) for year in (first_year, last_year)]
    return Found(tuple(s for _, s in series), tuple(i.id for i, _ in series), skipped)


def scene(item: Any) -> Scene:
    """The detector's view of one item: a file per band, its SCL as cloud mask, and the
    reflectance scale and offset the item declares (``raster:bands``)."""
    files, reflectance = {}, None
    for band in sorted({COMMON[c] for c in NEEDED} | {"B03", "B12"}):
        asset = _asset(item, band)
        if asset is None:
            if band in {COMMON[c] for c in NEEDED}:
                raise StacError(f"no asset for band {band} (looked for keys {', '.join(BAND_KEYS[band])})")
            continue
        files[band] = asset.get_absolute_href()
        reflectance = reflectance or _declared(asset)
    scl = next((item.assets[k] for k in SCL_KEYS if k in item.assets), None)
    return Scene(None, date=item.datetime.date(), files=tuple(sorted(files.items())),
                 reflectance=reflectance or Reflectance(),
                 cloud_mask=scl.get_absolute_href() if scl is not None else None,
                 cloud_classes=SCL_CLOUDY if scl is not None else None)


def _asset(item: Any, band: str) -> Any:
    for key in BAND_KEYS[band]:
        if key in item.assets:
            return item.assets[key]
    for asset in item.assets.values():  # eo:bands naming the band
        names = {b.get("name") for b in asset.extra_fields.get("eo:bands", [])}
        if band in names:
            return asset
    return None


def _declared(asset: Any) -> Reflectance | None:
    """value = DN x scale + offset (raster extension) as the detector's (DN + o) / s."""
    bands = asset.extra_fields.get("raster:bands") or []
    if not bands or "scale" not in bands[0]:
        return None
    scale, offset = float(bands[0]["scale"]), float(bands[0].get("offset", 0.0))
    return Reflectance(scale=1 / scale, offset=offset / scale) if scale else None
