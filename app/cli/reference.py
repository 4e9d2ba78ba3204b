"""``opportunity reference`` and ``opportunity enrich``: reference layers and the facts computed from them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from app.cli.common import (
    catalogue_connection,
    console,
    database_url,
    enrich_all,
    fail,
    load_reference,
    migrate_schema,
)
from app.core.errors import OpportunityError

reference_cli = typer.Typer(no_args_is_help=True, help="Reference layers.")


@reference_cli.command("load")
def reference_load(
    shared_data: Annotated[
        Path | None, typer.Option(help="Folder of the shared reference data (default ../shared/data).")
    ] = None,
) -> None:
    """Load comuni, provinces, population and airports (PyPI) and, when present, the
    shared stations, cadastral sheets and policy zones. Loading twice changes nothing."""
    try:
        url = database_url()
        migrate_schema(url)
        load_reference(url, shared_data.resolve() if shared_data else None)
    except OpportunityError as exc:
        raise fail(exc.message) from exc


@reference_cli.command("layer")
def reference_layer(
    path: Annotated[str, typer.Argument(
        help="GeoJSON, GeoPackage, zipped Shapefile or CSV; or the http(s) address of an OGC API - Features "
             "collection (.../collections/ID) or a WFS 2.0 layer (...?service=WFS&typeNames=ns:layer).")],
    layer_type: Annotated[str, typer.Option("--type", help="e.g. motorway_exit, freight_terminal, port.")],
    category: Annotated[str, typer.Option(help="infrastructure (points) or zone (polygons).")] = "infrastructure",
    source: Annotated[str | None, typer.Option(help="Source name (default: file name).")] = None,
    name_field: Annotated[str | None, typer.Option(help="Column with feature names.")] = None,
    id_field: Annotated[str | None, typer.Option(help="Column with stable feature ids.")] = None,
    crs: Annotated[str | None, typer.Option(help="Source CRS if missing or wrong, e.g. 32632.")] = None,
    x_field: Annotated[str | None, typer.Option(help="CSV: longitude or X column.")] = None,
    y_field: Annotated[str | None, typer.Option(help="CSV: latitude or Y column.")] = None,
) -> None:
    """Load any layer file, or a layer a service publishes, with a layer type; loading the
    same content twice changes nothing."""
    from app.reference.layers import LayerFileOptions, load_layer_file
    from geo.layers import CsvColumns, LayerError, is_service_url

    options = LayerFileOptions(
        layer_type=layer_type, category=category, source=source, name_field=name_field,
        id_field=id_field, crs=crs, csv_columns=CsvColumns(x_field, y_field),
    )
    try:
        with catalogue_connection() as conn:
            result = load_layer_file(conn, path if is_service_url(path) else Path(path), options)
            if result.changed:
                enrich_all(conn)
    except LayerError as exc:
        raise fail(exc.message) from exc
    except OpportunityError as exc:
        raise fail(exc.message) from exc
    console.print("  " + result.describe(), soft_wrap=True)


def enrich() -> None:
    """Recompute comune, province, distances, zones, catchment and completeness of every
    site (run after changing reference layers by hand)."""
    with catalogue_connection() as conn:
        enrich_all(conn)


@reference_cli.command("status")
def reference_status() -> None:
    """Feature counts of every reference layer."""
    from app.reference.layers import reference_counts

    with catalogue_connection(write=False) as conn:
        counts = reference_counts(conn)
    table = Table("layer", "features")
    for key in ("comuni", "provinces", "cadastral_sheets"):
        table.add_row(key, str(counts[key]))
    for group in ("infrastructure", "policy_zones"):
        for key, value in counts[group].items():
            table.add_row(f"{group}: {key}", str(value))
    Console().print(table)
