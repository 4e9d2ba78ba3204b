"""``opportunity detect``: brownfield candidates from satellite rasters, stored for staff review."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from app.cli.common import catalogue_connection, console, fail

detect_cli = typer.Typer(no_args_is_help=True, help="Brownfield candidates from satellite imagery.")


def _scene(path: Path, bands: str, date: str | None, clouds: Path | None = None, scl: bool = False,
           offset: float | None = None):
    """A stack file (bands in the order given) or a folder of one file per band, with its
    cloud mask (a 0/1 raster, or a Scene Classification Layer) and reflectance offset:
    the one given, else the one the product declares, else none."""
    import datetime as dt
    import re

    from geo.detect import NEEDED, SCL_CLOUDY, Scene, stack_bands
    from geo.raster import COMMON, Reflectance, declared_reflectance

    when = dt.date.fromisoformat(date) if date else None
    for given in (path, clouds):
        if given is not None and not given.exists():
            raise ValueError(f"{given} not found.")
    reflectance = Reflectance(offset=offset) if offset is not None else declared_reflectance(path) or Reflectance()
    if offset is None and reflectance != Reflectance():
        console.print(f"{path.name}: reflectance = (DN {reflectance.offset:+g}) / {reflectance.scale:g}, "
                      "as the product declares")
    extra = {"reflectance": reflectance, "cloud_mask": str(clouds) if clouds else None,
             "cloud_classes": SCL_CLOUDY if scl else None}
    if path.is_dir():
        files = {}
        for file in sorted(path.iterdir()):
            found = re.search(r"B(0[1-9]|1[0-2]|8A)", file.name)
            if found and file.suffix.lower() in (".tif", ".tiff", ".jp2"):
                files["B" + found.group(1)] = str(file)
        missing = [COMMON[c] for c in NEEDED if COMMON[c] not in files]
        if missing:
            raise ValueError(f"{path} has no file for band(s) {', '.join(missing)} (names must contain the band id, "
                             "e.g. T32TNR_20240701_B04_10m.jp2).")
        return Scene(None, date=when, files=tuple(files.items()), **extra)
    order = tuple(b.strip().upper() for b in bands.split(",") if b.strip()) if bands else None
    return Scene(str(path), stack_bands(str(path), order), when, **extra)


def _geometries(path: Path | None, crs, classes: str = ""):
    """A vector layer, or the given classes of a class raster (land-use maps are rasters)."""
    if path is None:
        return None
    from geo.layers import class_polygons, is_raster, read_layer

    if not path.exists():
        raise ValueError(f"{path} not found.")
    if is_raster(path):
        try:
            wanted = tuple(int(c) for c in classes.split(",") if c.strip())
        except ValueError as exc:
            raise ValueError(f"--classes takes whole numbers separated by commas, not {classes!r}.") from exc
        return class_polygons(path, wanted, crs)
    return list(read_layer(path).to_crs(crs).geometry)


def _store_detection(candidates, crs, params, inputs: dict, started: float | None = None) -> None:
    """Store a run and its candidates in the catalogue and say which run it is."""
    from app.detection.runs import store_run

    seconds = time.monotonic() - started if started is not None else None
    with catalogue_connection() as conn:
        run_id = store_run(conn, candidates, crs, params, inputs, created_by="cli", seconds=seconds)
    console.print(f"stored as detection run {run_id}")


def _bbox(text: str | None) -> tuple[float, float, float, float] | None:
    if not text:
        return None
    try:
        west, south, east, north = (float(v) for v in text.split(","))
    except ValueError as exc:
        raise ValueError(f"--bbox {text!r}: give west,south,east,north in degrees, e.g. 9.0,45.4,9.3,45.6") from exc
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        raise ValueError(f"--bbox {text!r}: west < east and south < north, in degrees")
    return west, south, east, north


def _stac_scenes(source: str, area, start: str | None, end: str | None, max_cloud: float,
                 collection: str | None, rasters: list[Path] | None):
    """The dated scenes from a STAC catalogue, saying which were chosen and skipped."""
    import datetime as dt

    from geo.stac import choose, search

    if rasters:
        raise ValueError("Give either SCENES or --stac, not both.")
    if area is None or not start or not end:
        raise ValueError("--stac needs --bbox, --from and --to.")
    try:
        first_day, last_day = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    except ValueError as exc:
        raise ValueError(f"--from and --to are days, YYYY-MM-DD: {exc}") from exc
    with console.status(f"searching {source}"):
        items = search(source, area, first_day, last_day, collection)
        found = choose(items, max_cloud)
    for reason in found.skipped:
        console.print(f"  skipped {reason}", soft_wrap=True)
    kind = f"a time series of {len(found.scenes)} scenes" if len(found.scenes) > 2 else "two dates (low confidence)"
    console.print(f"{len(items)} scenes found; reading {kind}: "
                  + ", ".join(f"{i} ({s.date})" for i, s in zip(found.items, found.scenes, strict=True)), soft_wrap=True)
    return list(found.scenes)


def _dates(rasters: list[Path], dates: str, before_date: str | None, after_date: str | None) -> list[str | None]:
    """Each raster's date: --dates, else --before-date/--after-date for two, else the
    date in its name (YYYYMMDD or YYYY-MM-DD, as Sentinel-2 products are named)."""
    import re

    if dates:
        given = [d.strip() for d in dates.split(",") if d.strip()]
        if len(given) != len(rasters):
            raise ValueError(f"--dates gives {len(given)} dates for {len(rasters)} scenes: give one per scene, in order.")
        return given
    named: list[str | None] = []
    for raster in rasters:
        found = re.search(r"((?:19|20)\d{2})-?(0[1-9]|1[0-2])-?(0[1-9]|[12]\d|3[01])", raster.name)
        named.append(f"{found.group(1)}-{found.group(2)}-{found.group(3)}" if found else None)
    if len(rasters) == 2:
        named = [before_date or named[0], after_date or named[1]]
    return named


def _read_scenes(rasters: list[Path], bands: str, dates: str, before_date: str | None, after_date: str | None,
                 clouds: list[Path] | None, before_clouds: Path | None, after_clouds: Path | None, scl: bool,
                 offset: float | None) -> list:
    if len(rasters) < 2:
        raise ValueError(f"Give the scenes of several dates (a time series: several a year over two years or more), "
                         f"or two dates; got {len(rasters)}.")
    masks = list(clouds or [])
    if not masks and (before_clouds or after_clouds):
        if len(rasters) != 2:
            raise ValueError("--before-clouds and --after-clouds are for two dates; give --clouds once per scene.")
        masks = [before_clouds, after_clouds]
    if masks and len(masks) != len(rasters):
        raise ValueError(f"--clouds is given {len(masks)} times for {len(rasters)} scenes: once per scene, in order.")
    when = _dates(rasters, dates, before_date, after_date)
    return [_scene(raster, bands, date, masks[i] if masks else None, scl, offset)
            for i, (raster, date) in enumerate(zip(rasters, when, strict=True))]


@detect_cli.command("run")
def detect_run(
    scenes: Annotated[list[Path] | None, typer.Argument(
        help="The scenes, oldest first: band stacks or folders of per-band files. A time series (several dates a "
             "year over two years or more) is the default; two scenes are compared as two dates (low "
             "confidence).", show_default=False)] = None,
    stac: Annotated[str | None, typer.Option(help="Instead of SCENES: a STAC API URL or a static catalogue "
                                             "(catalog.json path or URL); needs --bbox, --from, --to.")] = None,
    bbox: Annotated[str | None, typer.Option(help="west,south,east,north in degrees: search and detect only there.")] = None,
    start: Annotated[str | None, typer.Option("--from", help="First day searched, YYYY-MM-DD (--stac).")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last day searched, YYYY-MM-DD (--stac).")] = None,
    max_cloud: Annotated[float, typer.Option(min=0, max=100, help="Drop scenes cloudier than this (%, --stac).")] = 20,
    collection: Annotated[str | None, typer.Option(help="STAC collection, e.g. sentinel-2-l2a (--stac).")] = None,
    bands: Annotated[str, typer.Option(help="Band order of stacks (default: sen2r 11-band order).")] = "",
    dates: Annotated[str, typer.Option(help="The scenes' dates, YYYY-MM-DD, comma-separated, in order (default: "
                                       "the date in each name).")] = "",
    clouds: Annotated[list[Path] | None, typer.Option(help="Cloud mask of each scene, once per scene in order "
                                                      "(1 = cloudy, or an SCL with --scl).")] = None,
    before_date: Annotated[str | None, typer.Option(help="Two dates: the first, YYYY-MM-DD")] = None,
    after_date: Annotated[str | None, typer.Option(help="Two dates: the second, YYYY-MM-DD")] = None,
    before_clouds: Annotated[Path | None, typer.Option(help="Two dates: cloud mask of the first.")] = None,
    after_clouds: Annotated[Path | None, typer.Option(help="Two dates: cloud mask of the second.")] = None,
    scl: Annotated[bool, typer.Option(help="The cloud masks are Sentinel-2 Scene Classification Layers "
                                      "(no data, saturated, shadows, clouds and cirrus are masked).")] = False,
    offset: Annotated[float | None, typer.Option(help="Added to digital numbers before scaling: -1000 for L2A "
                                                 "products of processing baseline 04.00 and later (2022-). "
                                                 "Default: what the product declares (GDAL band offsets, or "
                                                 "MTD_MSIL2A.xml next to the band files), else 0.")] = None,
    zoning: Annotated[Path | None, typer.Option(help="Productive land: polygons, or a land-use raster with "
                                                "--classes.")] = None,
    objects: Annotated[Path | None, typer.Option(help="The sites to score (land-use polygons, parcels, building "
                                                 "footprints, or a class raster with --classes): each becomes one "
                                                 "candidate when enough of it shows the signal.")] = None,
    classes: Annotated[str, typer.Option(help="Class values to use when --zoning or --objects is a raster, "
                                         "e.g. 121,122.")] = "",
    exclude: Annotated[Path | None, typer.Option(help="Known sites or register polygons: their candidates are "
                                                 "flagged 'already known' and ranked last.")] = None,
    min_area: Annotated[float, typer.Option(help="Minimum area in m².")] = 2000.0,
    tile_size: Annotated[int, typer.Option(help="Pixels per tile side.")] = 1024,
    out: Annotated[Path | None, typer.Option(help="Write candidates to GeoJSON or GeoPackage.")] = None,
    store: Annotated[bool, typer.Option(help="Store the run and its candidates in the catalogue.")] = True,
    dask: Annotated[str | None, typer.Option(help="Run on Dask: 'local' or a scheduler address.")] = None,
) -> None:
    """Detect candidate disused areas from a time series (or two dates), with a progress bar."""
    started = time.monotonic()
    from dataclasses import replace

    from rich.progress import Progress

    from geo.detect import bbox_window, grid_of, tiles
    from geo.layers import LayerError
    from geo.params import SERIES_PARAMS, DetectionParams

    try:
        area = _bbox(bbox)
        if stac:
            dated = _stac_scenes(stac, area, start, end, max_cloud, collection, scenes)
        elif not scenes:
            raise ValueError("Give SCENES (rasters, oldest first), or --stac with --bbox, --from and --to.")
        else:
            dated = _read_scenes(scenes, bands, dates, before_date, after_date, clouds, before_clouds, after_clouds,
                                 scl, offset)
        width, height, _, _, crs = grid_of(dated[0])
        zones, known = _geometries(zoning, crs, classes), _geometries(exclude, crs)
        sites = _geometries(objects, crs, classes)
    except LayerError as exc:
        raise fail(exc.message) from exc
    except (ValueError, OSError) as exc:
        raise fail(str(exc)) from exc
    base = SERIES_PARAMS if len(dated) > 2 else DetectionParams()
    params = replace(base, min_area_m2=min_area, tile_size=tile_size)
    try:
        total = len(list(tiles(width, height, tile_size, bbox_window(dated[0], area))))
    except ValueError as exc:
        raise fail(str(exc)) from exc
    what = f"a time series of {len(dated)} dates" if len(dated) > 2 else "two dates (low confidence)"
    try:
        with Progress(console=console) as progress:
            task = progress.add_task(f"detecting over {width}x{height} px from {what}", total=total)
            candidates = _detect(dated, params, zones, known, lambda: progress.advance(task), sites, area, dask)
    except (ValueError, KeyError, OSError) as exc:
        raise fail(str(exc)) from exc
    console.print(f"{len(candidates)} candidates")
    if out:
        import geopandas as gpd

        frame = gpd.GeoDataFrame(
            [{"score": c.score, "area_m2": c.area_m2, **{k: v for k, v in c.evidence.items() if k != "dates"}}
             for c in candidates], geometry=[c.geometry for c in candidates], crs=crs)
        frame.to_crs(4326).to_file(out)
        console.print(f"written to {out}")
    if store:
        _store_detection(candidates, crs, params, started=started, inputs={
            "scenes": [s.path or dict(s.files).get("B04") for s in dated],
            "dates": [s.date.isoformat() if s.date else None for s in dated], "stac": stac, "bbox": area, "zoning": str(zoning) if zoning else None,
            "objects": str(objects) if objects else None, "exclude": str(exclude) if exclude else None})


def _detect(dated: list, params, zones, known, advance, sites, area, dask: str | None) -> list:
    """Time-series evidence from three dates or more, else two dates."""
    if len(dated) > 2:
        if dask:
            from geo.distributed import detect_series_with_dask

            return detect_series_with_dask(dated, params, zones, known, None if dask == "local" else dask,
                                           progress=advance, objects=sites, bbox=area)
        from geo.series import detect_series

        return detect_series(dated, params, zones, known, progress=advance, objects=sites, bbox=area)
    if dask:
        from geo.distributed import detect_with_dask

        return detect_with_dask(dated[0], dated[1], params, zones, known, None if dask == "local" else dask,
                                progress=advance, objects=sites, bbox=area)
    from geo.detect import detect

    return detect(dated[0], dated[1], params, zones, known, progress=advance, objects=sites, bbox=area)


@detect_cli.command("trend")
def detect_trend_command(
    series: Annotated[Path, typer.Argument(help="NDVI series: one band per date.")],
    dates: Annotated[Path, typer.Argument(help="JSON list of the bands' dates (ISO), in band order.")],
    zoning: Annotated[Path | None, typer.Option(help="Productive land: polygons, or a land-use raster with "
                                                "--classes.")] = None,
    classes: Annotated[str, typer.Option(help="Class values to use when --zoning is a raster, e.g. 121,122.")] = "",
    exclude: Annotated[Path | None, typer.Option(help="Known sites or register polygons: their candidates are "
                                                 "flagged 'already known' and ranked last.")] = None,
    min_area: Annotated[float, typer.Option(help="Minimum area in m².")] = 2000.0,
    slope: Annotated[float, typer.Option(help="Minimum growing-season NDVI gain per year (Theil-Sen).")] = 0.03,
    store: Annotated[bool, typer.Option(help="Store the run in the catalogue.")] = True,
) -> None:
    """Candidates from an NDVI time series: surfaces that started bare or sealed and green up."""
    started = time.monotonic()
    import datetime as dt
    import json

    import rasterio

    from geo.params import DetectionParams
    from geo.timeseries import TrendParams, detect_trend

    try:
        when = [dt.datetime.fromisoformat(d) for d in json.loads(dates.read_text())]
        with rasterio.open(series) as src:
            crs = src.crs
        params = DetectionParams(min_area_m2=min_area)
        candidates = detect_trend(str(series), when, params, _geometries(zoning, crs, classes),
                                  _geometries(exclude, crs), TrendParams(slope_min=slope))
    except (ValueError, KeyError, OSError) as exc:
        raise fail(str(exc)) from exc
    console.print(f"{len(candidates)} candidates")
    if store:
        _store_detection(candidates, crs, params, started=started, inputs={"series": str(series), "dates": str(dates)})


@detect_cli.command("evaluate")
def detect_evaluate(
    run_id: Annotated[int, typer.Argument(help="A stored detection run.")],
    reference: Annotated[Path, typer.Argument(help="Reference polygons: register of disused areas, DUSAF 134...")],
    min_iou: Annotated[float, typer.Option(help="IoU for a match.")] = 0.3,
) -> None:
    """Site-level precision, recall and F1 of a run against a reference layer."""
    from app.detection.runs import evaluate_run
    from geo.layers import LayerError, read_layer

    try:
        references = list(read_layer(reference).geometry)
    except LayerError as exc:
        raise fail(exc.message) from exc
    with catalogue_connection(write=False) as conn:
        scores = evaluate_run(conn, run_id, references, min_iou)
    Console().print_json(data=scores.to_dict())
