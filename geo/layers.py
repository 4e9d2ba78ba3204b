"""Read any vector layer staff hand us (GeoJSON, GeoPackage, Shapefile, CSV with
coordinates, or an OGC API - Features or WFS 2.0 address) into WGS84, refusing what
would silently put features in the wrong place.

Motorway exits, freight terminals, ports, land use and brownfield registers are not
published anywhere this service can reach, so they arrive as files. The usual ways
such a file goes wrong are a missing or wrong CRS (metres read as degrees), rows
without geometry and files that are not geodata at all; each gets its own message.
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
from pyproj import CRS
from pyproj.exceptions import CRSError

from geo.errors import LayerError as LayerError

WGS84 = "EPSG:4326"
# Generous box around Italy: a layer whose features fall outside it is in the wrong CRS.
ITALY_BOUNDS = (6.0, 35.0, 19.0, 48.0)
VECTOR_SUFFIXES = {".geojson", ".json", ".gpkg", ".shp", ".zip", ".kml", ".fgb"}
CSV_SUFFIXES = {".csv", ".txt"}
LON_NAMES = ("lon", "lng", "long", "longitude", "longitudine", "x")
LAT_NAMES = ("lat", "latitude", "latitudine", "y")


@dataclass(frozen=True)
class CsvColumns:
    x: str | None = None
    y: str | None = None


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def parse_crs(value: str | int | None) -> CRS | None:
    """Accept 32632, "32632", "EPSG:32632" or any string pyproj understands."""
    if value is None or value == "":
        return None
    text = str(value).strip()
    try:
        return CRS.from_epsg(int(text)) if text.isdigit() else CRS.from_user_input(text)
    except CRSError as exc:
        raise LayerError(
            f"Unknown coordinate reference system {text!r}; give an EPSG code such as 32632.",
            f"Sistema di riferimento {text!r} sconosciuto; indicare un codice EPSG come 32632.",
        ) from exc


def read_layer(
    path: Path, crs: str | int | None = None, columns: CsvColumns = CsvColumns()
) -> gpd.GeoDataFrame:
    """Read a layer and return it in EPSG:4326 with one valid geometry per row.

    ``crs`` overrides or supplies the source CRS (needed for a Shapefile without .prj
    or a CSV in projected coordinates). Raises :class:`LayerError` on anything that
    would need guessing.
    """
    path = Path(path)
    if not path.is_file():
        raise LayerError(f"File not found: {path.name}", f"File non trovato: {path.name}")
    override = parse_crs(crs)
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        frame = _read_csv(path, override, columns)
    elif suffix in VECTOR_SUFFIXES:
        frame = _read_vector(path, override)
    else:
        raise _not_geodata(path)
    return _validated(frame, path.name)


def _not_geodata(path: Path) -> LayerError:
    return LayerError(
        f"{path.name} is not a geographic layer: use GeoJSON, GeoPackage, a zipped Shapefile "
        "or a CSV with longitude/latitude (or X/Y and a CRS) columns.",
        f"{path.name} non è uno strato geografico: usare GeoJSON, GeoPackage, Shapefile "
        "compresso in zip o CSV con colonne longitudine/latitudine (o X/Y e un sistema di "
        "riferimento).",
    )


def _read_vector(path: Path, override: CRS | None) -> gpd.GeoDataFrame:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            frame = gpd.read_file(path, engine="pyogrio")
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, ValueError) as exc:
        raise _not_geodata(path) from exc
    if not isinstance(frame, gpd.GeoDataFrame) or "geometry" not in frame:
        raise _not_geodata(path)
    if override is not None:
        frame = frame.set_crs(override, allow_override=True)
    elif frame.crs is None:
        raise LayerError(
            f"{path.name} does not say which coordinate reference system it uses "
            "(a Shapefile without its .prj?). Give it explicitly, e.g. --crs 32632.",
            f"{path.name} non indica il sistema di riferimento (Shapefile senza .prj?). "
            "Indicarlo esplicitamente, ad esempio --crs 32632.",
        )
    return frame


def _pick_column(frame: pd.DataFrame, wanted: str | None, names: tuple[str, ...]) -> str | None:
    if wanted:
        return wanted if wanted in frame.columns else None
    lowered = {str(c).strip().lower(): c for c in frame.columns}
    return next((lowered[n] for n in names if n in lowered), None)


def _read_csv(path: Path, override: CRS | None, columns: CsvColumns) -> gpd.GeoDataFrame:
    try:
        frame = pd.read_csv(path, sep=None, engine="python", dtype=str, encoding="utf-8-sig")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise _not_geodata(path) from exc
    x_col = _pick_column(frame, columns.x, LON_NAMES)
    y_col = _pick_column(frame, columns.y, LAT_NAMES)
    if x_col is None or y_col is None:
        raise LayerError(
            f"{path.name} has no coordinate columns: expected lon/lat (or x/y), found "
            f"{', '.join(map(str, frame.columns)) or 'none'}.",
            f"{path.name} non ha colonne di coordinate: attese lon/lat (o x/y), trovate "
            f"{', '.join(map(str, frame.columns)) or 'nessuna'}.",
        )
    xs = pd.to_numeric(frame[x_col].str.replace(",", ".", regex=False), errors="coerce")
    ys = pd.to_numeric(frame[y_col].str.replace(",", ".", regex=False), errors="coerce")
    geometry = gpd.points_from_xy(xs, ys)
    geometry[(xs.isna() | ys.isna()).to_numpy()] = None
    is_degrees = str(x_col).lower() not in ("x",)
    source_crs = override or (CRS.from_epsg(4326) if is_degrees else None)
    if source_crs is None:
        raise LayerError(
            f"{path.name} gives X/Y coordinates without a coordinate reference system; "
            "give it explicitly, e.g. --crs 32632.",
            f"{path.name} riporta coordinate X/Y senza sistema di riferimento; indicarlo "
            "esplicitamente, ad esempio --crs 32632.",
        )
    return gpd.GeoDataFrame(frame.drop(columns=[x_col, y_col]), geometry=geometry, crs=source_crs)


def _validated(frame: gpd.GeoDataFrame, name: str) -> gpd.GeoDataFrame:
    """``name``: the file's name or the service's address, as messages show it."""
    if frame.empty:
        raise LayerError(f"{name} has no features.", f"{name} non contiene elementi.")
    missing = frame.geometry.isna() | frame.geometry.is_empty
    if missing.any():
        rows = ", ".join(str(i + 1) for i in np.flatnonzero(missing.to_numpy())[:10])
        raise LayerError(
            f"{name}: {int(missing.sum())} of {len(frame)} features have no geometry "
            f"(rows {rows}). Fix or remove them and load again.",
            f"{name}: {int(missing.sum())} elementi su {len(frame)} sono privi di geometria "
            f"(righe {rows}). Correggerli o rimuoverli e ricaricare.",
        )
    source_crs = frame.crs
    frame = frame.to_crs(WGS84)
    minx, miny, maxx, maxy = frame.total_bounds
    west, south, east, north = ITALY_BOUNDS
    if not (np.isfinite([minx, miny, maxx, maxy]).all()) or (
        minx < west or maxx > east or miny < south or maxy > north
    ):
        crs_name = source_crs.to_string() if source_crs else "?"
        raise LayerError(
            f"{name}: read as {crs_name}, the features fall outside Italy "
            f"(longitude {minx:.4g}..{maxx:.4g}, latitude {miny:.4g}..{maxy:.4g}). "
            "The coordinate reference system is probably wrong; give the right one with --crs.",
            f"{name}: letti come {crs_name}, gli elementi cadono fuori dall'Italia "
            f"(longitudine {minx:.4g}..{maxx:.4g}, latitudine {miny:.4g}..{maxy:.4g}). "
            "Il sistema di riferimento è probabilmente errato; indicare quello giusto con --crs.",
        )
    frame["geometry"] = frame.geometry.make_valid()
    return frame


# -- layers published by a service --------------------------------------------------------------


def is_service_url(text: str) -> bool:
    return urlsplit(str(text)).scheme in ("http", "https")


def service_kind(url: str) -> str:
    """``wfs`` when the address asks for a WFS (``service=WFS``), else ``oapif``."""
    query = {k.lower(): v for k, v in parse_qsl(urlsplit(url).query)}
    return "wfs" if query.get("service", "").upper() == "WFS" else "oapif"


def read_service(url: str, crs: str | int | None = None, page_size: int = 1000) -> gpd.GeoDataFrame:
    """Read a whole layer from an OGC API - Features collection
    (``https://host/ogc/collections/{id}``) or a WFS 2.0 endpoint
    (``https://host/wfs?service=WFS&typeNames=ns:layer``) into EPSG:4326, through GDAL's
    own OAPIF and WFS drivers: they page through the features (next links; WFS
    STARTINDEX), read the CRS the service declares, and axis order is GDAL's to get right.
    The same checks as for files follow (no geometry, outside Italy, wrong CRS)."""
    kind = service_kind(url)
    layer = None
    if kind == "wfs":
        parts = urlsplit(url)
        query = [(k, v) for k, v in parse_qsl(parts.query)]
        layer = next((v for k, v in query if k.lower() in ("typenames", "typename")), None)
        if not layer:
            raise LayerError(
                f"{url}: say which WFS layer to read with typeNames=... in the address.",
                f"{url}: indicare quale strato WFS leggere con typeNames=... nell'indirizzo.")
        keep = [(k, v) for k, v in query if k.lower() not in ("typenames", "typename", "request")]
        source = "WFS:" + urlunsplit(parts._replace(query=urlencode(keep)))
        options = {"PAGE_SIZE": str(page_size)}
        config = {"OGR_WFS_PAGING_ALLOWED": "ON", "OGR_WFS_PAGE_SIZE": str(page_size)}
    else:
        source, options, config = f"OAPIF:{url}", {"PAGE_SIZE": str(page_size)}, {}
    try:
        with warnings.catch_warnings(), _gdal_config(config):
            warnings.simplefilter("ignore", RuntimeWarning)
            frame = pyogrio.read_dataframe(source, layer=layer, **options)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise LayerError(
            f"{url} could not be read as an {'WFS 2.0' if kind == 'wfs' else 'OGC API - Features'} layer: "
            f"{_first_line(exc)}. Check the address (a collection, or a WFS with typeNames) and that "
            "the service answers.",
            f"{url} non è leggibile come strato {'WFS 2.0' if kind == 'wfs' else 'OGC API - Features'}: "
            f"{_first_line(exc)}. Verificare l'indirizzo (una collezione, o un WFS con typeNames) e che "
            "il servizio risponda.") from exc
    override = parse_crs(crs)
    if override is not None:
        frame = frame.set_crs(override, allow_override=True)
    elif frame.crs is None:
        frame = frame.set_crs(WGS84)  # OGC API - Features without a declared CRS: CRS84
    return _validated(frame, url)


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__


@contextmanager
def _gdal_config(options: dict[str, str]) -> Iterator[None]:
    previous = {k: pyogrio.get_gdal_config_option(k) for k in options}
    pyogrio.set_gdal_config_options(options)
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options(previous)


def service_digest(frame: gpd.GeoDataFrame) -> str:
    """A fingerprint of what a service returned: unchanged content is not reloaded."""
    digest = hashlib.sha256()
    for wkb, attributes in zip(frame.geometry.to_wkb(), frame.drop(columns="geometry").itertuples(index=False),
                               strict=True):
        digest.update(wkb)
        digest.update(repr(tuple(attributes)).encode())
    return digest.hexdigest()


def is_raster(path: Path) -> bool:
    """A raster GDAL can read (a land-use map), as opposed to a vector layer."""
    import rasterio
    from rasterio.errors import RasterioIOError

    if path.suffix.lower() in (".geojson", ".json", ".gpkg", ".shp", ".zip", ".csv", ".kml", ".gml"):
        return False
    try:
        with rasterio.open(path):
            return True
    except RasterioIOError:
        return False


def class_polygons(path: Path, classes: tuple[int, ...], crs: CRS | str) -> list:
    """The areas of a class raster (a land-use map) whose value is one of ``classes``, as
    polygons in ``crs``: one per connected patch (8-connectivity), ready to be zoning or
    the objects to score."""
    import numpy as np
    import rasterio
    from rasterio import features
    from shapely.geometry import shape

    if not classes:
        raise LayerError(
            f"{path.name} is a raster: say which of its class values are wanted, e.g. --classes 121,122 "
            "(DUSAF industrial and commercial areas).",
            f"{path.name} è un raster: indicare quali valori di classe usare, es. --classes 121,122 "
            "(aree industriali e commerciali DUSAF).")
    with rasterio.open(path) as src:
        if src.crs is None:
            raise LayerError(f"{path.name} has no coordinate reference system.",
                             f"{path.name} non ha un sistema di riferimento.")
        values = src.read(1)
        wanted = np.isin(values, classes)
        if not wanted.any():
            raise LayerError(f"{path.name} has no pixel of class {', '.join(map(str, classes))}.",
                             f"{path.name} non ha pixel della classe {', '.join(map(str, classes))}.")
        parts = [shape(g) for g, _ in features.shapes(wanted.astype(np.uint8), mask=wanted,
                                                       transform=src.transform, connectivity=8)]
        frame = gpd.GeoDataFrame(geometry=parts, crs=src.crs).to_crs(crs)
    return list(frame.geometry)
