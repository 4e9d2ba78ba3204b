"""``opportunity``: the one command that runs, sets up and feeds the service.

    opportunity serve [--demo]          start PostGIS if embedded, migrate, serve the API
    opportunity db start|stop|status    manage the embedded PostGIS cluster
    opportunity db migrate|downgrade    move the schema
    opportunity reference load          comuni, provinces, airports, stations, zones...
    opportunity reference layer FILE    any GeoJSON/GeoPackage/Shapefile/CSV layer
    opportunity reference status        what is loaded
    opportunity intake template         the pre-compiled Excel template (kind A or B)
    opportunity intake validate FILE    check a workbook, optionally write it back annotated
    opportunity intake import FOLDER    store every workbook of a folder, with progress
    opportunity users create|list|...   accounts (proponents, staff, admins)
    opportunity keys create|revoke      read-only API keys for frontends
    opportunity freshness stale|remind|expire   unconfirmed sites, reminders, expiry
    opportunity notify deliver          hand queued notifications to the notifier
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import Connection, create_engine, pool
from sqlalchemy.orm import Session

from app.database import embedded_cluster, resolve_database_url
from app.errors import OpportunityError
from app.settings import api_settings, database_settings, storage_settings
from geo.layers import CsvColumns, LayerError

cli = typer.Typer(
    no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False, help=__doc__
)
db_cli = typer.Typer(no_args_is_help=True, help="The catalogue database.")
reference_cli = typer.Typer(no_args_is_help=True, help="Reference layers.")
intake_cli = typer.Typer(no_args_is_help=True, help="Excel candidacies.")
detect_cli = typer.Typer(no_args_is_help=True, help="Brownfield candidates from satellite imagery.")
cli.add_typer(db_cli, name="db")
cli.add_typer(reference_cli, name="reference")
cli.add_typer(intake_cli, name="intake")
cli.add_typer(detect_cli, name="detect")
users_cli = typer.Typer(no_args_is_help=True, help="Accounts: proponents, staff, admins.")
keys_cli = typer.Typer(no_args_is_help=True, help="Read-only API keys for frontends.")
freshness_cli = typer.Typer(no_args_is_help=True, help="Sites nobody confirmed for a while.")
notify_cli = typer.Typer(no_args_is_help=True, help="The notification outbox.")
cli.add_typer(users_cli, name="users")
cli.add_typer(keys_cli, name="keys")
cli.add_typer(freshness_cli, name="freshness")
cli.add_typer(notify_cli, name="notify")
storage_cli = typer.Typer(no_args_is_help=True, help="Uploaded originals under the data folder.")
cli.add_typer(storage_cli, name="storage")
console = Console(stderr=True)


def _fail(message: str) -> typer.Exit:
    console.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code=1)


def _engine(url: str):
    return create_engine(url, poolclass=pool.NullPool)


@contextmanager
def _connection(url: str | None = None, write: bool = True) -> Iterator[Connection]:
    """One connection to the catalogue (a transaction when ``write``), engine disposed after."""
    engine = _engine(url or resolve_database_url())
    try:
        with (engine.begin() if write else engine.connect()) as conn:
            yield conn
    finally:
        engine.dispose()


@contextmanager
def _session(url: str | None = None) -> Iterator[Session]:
    engine = _engine(url or resolve_database_url())
    try:
        with Session(engine) as session:
            yield session
    finally:
        engine.dispose()


def _migrate(url: str) -> None:
    from app import migrations

    with console.status("Migrating the catalogue schema to head..."):
        migrations.upgrade(url)


def _load_reference(url: str, shared: Path | None) -> None:
    from app.reference import load_all

    shared = shared or storage_settings().shared_data_dir
    if not shared.is_dir():
        console.print(
            f"[yellow]{shared} not found:[/] loading comuni, provinces and airports from the "
            "PyPI packages only (no stations, cadastral sheets or policy zones)."
        )
    with console.status("Loading reference layers..."), _connection(url) as conn:
        results = load_all(conn, shared if shared.is_dir() else None)
        if any(r.changed for r in results):
            _enrich_all(conn)
    for result in results:
        console.print("  " + result.describe(), soft_wrap=True)


def _enrich_all(conn) -> None:
    """Reference data changed: every site's computed facts may have too."""
    from app.enrichment import enrich, refresh_clusters

    with console.status("Recomputing enrichment of every site..."):
        count = enrich(conn)
        refresh_clusters(conn)
    console.print(f"  enrichment recomputed for {count} sites")


def _load_samples(url: str) -> None:
    from app.demo import load_samples

    with _session(url) as session:
        stored, refused, _ = load_samples(session)
    console.print(f"  samples: {stored} stored and published for the demo, {refused} refused (invalid on purpose)")


# -- serve ------------------------------------------------------------------------------------


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind (default from settings).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default from settings).")] = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes.")] = None,
    demo: Annotated[bool, typer.Option(help="Load reference data and samples first.")] = False,
    migrate: Annotated[
        bool, typer.Option(help="Migrate to head first (turn off where a release job migrates).")
    ] = True,
) -> None:
    """Start the catalogue (embedded PostGIS unless DATABASE_URL), migrate, then serve."""
    import uvicorn

    from app.auth import SecretKeyError, secret_key

    try:  # before anything starts: production refuses a missing or weak signing key
        secret_key()
    except SecretKeyError as exc:
        raise _fail(str(exc)) from exc
    settings = api_settings()
    embedded = None if database_settings().url else embedded_cluster()
    started_here = embedded is not None and not embedded.status().running
    try:
        url = resolve_database_url(start_embedded=True)
        if migrate:
            _migrate(url)
        if demo:
            _load_reference(url, None)
            _load_samples(url)
    except OpportunityError as exc:
        raise _fail(exc.message) from exc
    bind_host, bind_port = host or settings.host, port or settings.port
    console.print(f"Serving on http://{bind_host}:{bind_port}  (docs: /docs, health: /health)")
    try:
        uvicorn.run(
            "app.api.main:create_app",
            factory=True,
            host=bind_host,
            port=bind_port,
            workers=workers or settings.workers,
            log_level="info",
            # X-Forwarded-For is read by app.api.security.client_ip, from trusted proxies only
            proxy_headers=False,
            server_header=False,
        )
    finally:
        if started_here and embedded is not None:
            console.print("Stopping the embedded PostGIS cluster started for this server.")
            embedded.stop()


# -- db ---------------------------------------------------------------------------------------


def _require_embedded(action: str) -> None:
    if database_settings().url:
        raise _fail(f"DATABASE_URL is set: `db {action}` manages the embedded cluster only.")


@db_cli.command("start")
def db_start() -> None:
    """Create (first time) and start the embedded PostGIS cluster."""
    _require_embedded("start")
    try:
        status = embedded_cluster().start()
    except OpportunityError as exc:
        raise _fail(exc.message) from exc
    console.print(status.describe())


@db_cli.command("stop")
def db_stop() -> None:
    """Shut the embedded cluster down cleanly."""
    _require_embedded("stop")
    cluster = embedded_cluster()
    try:
        stopped = cluster.stop()
    except OpportunityError as exc:
        raise _fail(exc.message) from exc
    console.print("stopped" if stopped else cluster.status().describe())


@db_cli.command("status")
def db_status() -> None:
    """Say whether the catalogue is reachable and migrated."""
    from app import migrations

    if database_settings().url:
        console.print("external database (DATABASE_URL)")
    else:
        status = embedded_cluster().status()
        console.print(status.describe())
        if not status.running:
            raise typer.Exit(code=3)
    url = resolve_database_url(start_embedded=False)
    up_to_date = migrations.is_up_to_date(url)
    console.print("schema: " + ("up to date" if up_to_date else "needs `opportunity db migrate`"))


@db_cli.command("migrate")
def db_migrate(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Upgrade the schema (to head by default)."""
    from app import migrations

    try:
        migrations.upgrade(resolve_database_url(), revision)
    except OpportunityError as exc:
        raise _fail(exc.message) from exc
    console.print(f"schema at {revision}")


@db_cli.command("downgrade")
def db_downgrade(
    revision: Annotated[str, typer.Argument(help="Target revision, e.g. base or -1.")],
    yes: Annotated[bool, typer.Option("--yes", help="Confirm: this drops data.")] = False,
) -> None:
    """Downgrade the schema. Dropping tables loses their data, hence --yes."""
    from app import migrations

    if not yes:
        raise _fail("downgrading drops tables and their data; repeat with --yes to confirm.")
    migrations.downgrade(resolve_database_url(), revision)
    console.print(f"schema at {revision}")


# -- reference --------------------------------------------------------------------------------


@reference_cli.command("load")
def reference_load(
    shared_data: Annotated[
        Path | None, typer.Option(help="Folder of the shared reference data (default ../shared/data).")
    ] = None,
) -> None:
    """Load comuni, provinces, population and airports (PyPI) and, when present, the
    shared stations, cadastral sheets and policy zones. Loading twice changes nothing."""
    try:
        url = resolve_database_url()
        _migrate(url)
        _load_reference(url, shared_data.resolve() if shared_data else None)
    except OpportunityError as exc:
        raise _fail(exc.message) from exc


@reference_cli.command("layer")
def reference_layer(
    path: Annotated[Path, typer.Argument(help="GeoJSON, GeoPackage, zipped Shapefile or CSV.")],
    layer_type: Annotated[str, typer.Option("--type", help="e.g. motorway_exit, freight_terminal, port.")],
    category: Annotated[str, typer.Option(help="infrastructure (points) or zone (polygons).")] = "infrastructure",
    source: Annotated[str | None, typer.Option(help="Source name (default: file name).")] = None,
    name_field: Annotated[str | None, typer.Option(help="Column with feature names.")] = None,
    id_field: Annotated[str | None, typer.Option(help="Column with stable feature ids.")] = None,
    crs: Annotated[str | None, typer.Option(help="Source CRS if missing or wrong, e.g. 32632.")] = None,
    x_field: Annotated[str | None, typer.Option(help="CSV: longitude or X column.")] = None,
    y_field: Annotated[str | None, typer.Option(help="CSV: latitude or Y column.")] = None,
) -> None:
    """Load any layer file with a layer type; loading the same file twice changes nothing."""
    from app.reference import LayerFileOptions, load_layer_file

    options = LayerFileOptions(
        layer_type=layer_type, category=category, source=source, name_field=name_field,
        id_field=id_field, crs=crs, csv_columns=CsvColumns(x_field, y_field),
    )
    try:
        with _connection() as conn:
            result = load_layer_file(conn, path, options)
            if result.changed:
                _enrich_all(conn)
    except LayerError as exc:
        raise _fail(exc.message) from exc
    except OpportunityError as exc:
        raise _fail(exc.message) from exc
    console.print("  " + result.describe(), soft_wrap=True)


@cli.command()
def enrich() -> None:
    """Recompute comune, province, distances, zones, catchment and completeness of every
    site (run after changing reference layers by hand)."""
    with _connection() as conn:
        _enrich_all(conn)


@reference_cli.command("status")
def reference_status() -> None:
    """Feature counts of every reference layer."""
    from app.reference import reference_counts

    with _connection(write=False) as conn:
        counts = reference_counts(conn)
    table = Table("layer", "features")
    for key in ("comuni", "provinces", "cadastral_sheets"):
        table.add_row(key, str(counts[key]))
    for group in ("infrastructure", "policy_zones"):
        for key, value in counts[group].items():
            table.add_row(f"{group}: {key}", str(value))
    Console().print(table)


# -- intake -----------------------------------------------------------------------------------


@intake_cli.command("template")
def intake_template(
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the .xlsx.")],
    kind: Annotated[str, typer.Option(help="A: area/building; B: investment project.")] = "A",
    proponent: Annotated[
        str | None, typer.Option(help="Codice fiscale or partita IVA of a known proponent: pre-fills the registry.")
    ] = None,
) -> None:
    """Write the pre-compiled template, pre-filled for a known proponent."""
    from app.intake import proponent_prefill
    from ingest.template import build_template

    if kind not in ("A", "B"):
        raise _fail("--kind must be A or B.")
    prefill = None
    if proponent:
        with _session() as session:
            prefill = proponent_prefill(session, proponent)
        if prefill is None:
            raise _fail(f"No proponent with codice fiscale or partita IVA {proponent}.")
    output.write_bytes(build_template(kind, prefill))
    console.print(f"template {kind} written to {output}" + (" (pre-filled)" if prefill else ""))


def _print_report(name: str, report: dict) -> None:
    console.print(f"[bold]{name}[/]: {report['errors']} error(s), {report['warnings']} warning(s)")
    for p in report["problems"]:
        colour = "red" if p["severity"] == "error" else "yellow"
        where = f"{p['sheet']}!{p['cell']}" if p["cell"] else p["sheet"] or ""
        console.print(f"  [{colour}]{p['severity']:<7}[/] {where:<16} {p['message_en']}", soft_wrap=True)


@intake_cli.command("validate")
def intake_validate(
    path: Annotated[Path, typer.Argument(help="A filled-in workbook.")],
    annotated: Annotated[Path | None, typer.Option(help="Write the workbook back with problems marked.")] = None,
) -> None:
    """Check one workbook without storing it; exit 1 when it has errors."""
    from app.intake import check_workbook
    from ingest.annotate import annotate
    from ingest.problems import WorkbookRejected

    data = path.read_bytes()
    try:
        with _session() as session:
            validation = check_workbook(session, data)
    except WorkbookRejected as exc:
        raise _fail(exc.message_en) from exc
    _print_report(path.name, validation.report())
    if annotated:
        annotated.write_bytes(annotate(data, validation.problems))
        console.print(f"annotated workbook written to {annotated}")
    if not validation.ok:
        raise typer.Exit(code=1)


def _refusal(exc: OpportunityError) -> str:
    """One line: how many errors and the first of them."""
    report = exc.details if isinstance(exc.details, dict) else None
    if not report or not report.get("problems"):
        return exc.message
    first = report["problems"][0]
    where = f"{first['sheet']}!{first['cell']}: " if first.get("cell") else ""
    return f"{report['errors']} error(s), first {where}{first['message_en']}"


@intake_cli.command("import")
def intake_import(
    folder: Annotated[Path, typer.Argument(help="Folder of .xlsx workbooks (searched recursively).")],
) -> None:
    """Validate and store every workbook, one transaction per file; a bad file does not
    stop the others. Exit 1 when any file was refused."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    from app.errors import OpportunityError
    from app.intake import submit
    from ingest.problems import WorkbookRejected

    files = sorted(p for p in folder.rglob("*.xlsx") if not p.name.startswith("~$"))
    if not files:
        raise _fail(f"No .xlsx files in {folder}.")
    outcomes: list[tuple[str, str, str]] = []
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with _session() as session, Progress(*columns, console=console) as progress:
        task = progress.add_task("importing", total=len(files))
        for path in files:
            progress.update(task, description=path.name[:40])
            try:
                outcome = submit(session, path.read_bytes(), filename=path.name, actor="cli import")
                verdict = "unchanged" if outcome.duplicate else f"stored v{outcome.version}"
                outcomes.append((path.name, verdict, f"candidacy {outcome.candidacy_id}"))
            except WorkbookRejected as exc:
                session.rollback()
                outcomes.append((path.name, "refused", exc.message_en))
            except OpportunityError as exc:
                session.rollback()
                outcomes.append((path.name, "refused", _refusal(exc)))
            progress.advance(task)
    table = Table("file", "result", "detail")
    for row in outcomes:
        table.add_row(*row)
    Console().print(table)
    if any(result == "refused" for _, result, _ in outcomes):
        raise typer.Exit(code=1)


# -- detect -----------------------------------------------------------------------------------


def _scene(path: Path, bands: str, date: str | None):
    """A stack file (bands in the order given) or a folder of one file per band."""
    import datetime as dt
    import re

    from geo.detect import Scene
    from geo.raster import SEN2R_BANDS

    when = dt.date.fromisoformat(date) if date else None
    if path.is_dir():
        files = {}
        for file in sorted(path.iterdir()):
            found = re.search(r"B(0[1-9]|1[0-2]|8A)", file.name)
            if found and file.suffix.lower() in (".tif", ".tiff", ".jp2"):
                files["B" + found.group(1)] = str(file)
        return Scene(None, date=when, files=tuple(files.items()))
    order = tuple(b.strip() for b in bands.split(",")) if bands else SEN2R_BANDS
    return Scene(str(path), order, when)


def _geometries(path: Path | None, crs):
    if path is None:
        return None
    from geo.layers import read_layer

    return list(read_layer(path).to_crs(crs).geometry)


def _store_detection(candidates, crs, params, inputs: dict) -> None:
    """Store a run and its candidates in the catalogue and say which run it is."""
    from app.detection import store_run

    with _connection() as conn:
        run_id = store_run(conn, candidates, crs, params, inputs, created_by="cli")
    console.print(f"stored as detection run {run_id}")


@detect_cli.command("run")
def detect_run(
    before: Annotated[Path, typer.Argument(help="First date: band stack, or folder of per-band files.")],
    after: Annotated[Path, typer.Argument(help="Second date, same form.")],
    bands: Annotated[str, typer.Option(help="Band order of stacks (default: sen2r 11-band order).")] = "",
    before_date: Annotated[str | None, typer.Option(help="YYYY-MM-DD")] = None,
    after_date: Annotated[str | None, typer.Option(help="YYYY-MM-DD")] = None,
    zoning: Annotated[Path | None, typer.Option(help="Productive land (industrial zoning) polygons.")] = None,
    exclude: Annotated[Path | None, typer.Option(help="Known sites or register polygons to leave out.")] = None,
    min_area: Annotated[float, typer.Option(help="Minimum area in m².")] = 2000.0,
    tile_size: Annotated[int, typer.Option(help="Pixels per tile side.")] = 1024,
    out: Annotated[Path | None, typer.Option(help="Write candidates to GeoJSON or GeoPackage.")] = None,
    store: Annotated[bool, typer.Option(help="Store the run and its candidates in the catalogue.")] = True,
    dask: Annotated[str | None, typer.Option(help="Run on Dask: 'local' or a scheduler address.")] = None,
) -> None:
    """Detect candidate disused areas between two dates, with a progress bar."""
    import geopandas as gpd
    from rich.progress import Progress

    from geo.detect import DetectionParams, detect, grid_of, tiles

    first, second = _scene(before, bands, before_date), _scene(after, bands, after_date)
    width, height, _, _, crs = grid_of(first)
    params = DetectionParams(min_area_m2=min_area, tile_size=tile_size)
    zones, known = _geometries(zoning, crs), _geometries(exclude, crs)
    total = len(list(tiles(width, height, tile_size)))
    try:
        with Progress(console=console) as progress:
            task = progress.add_task(f"detecting over {width}x{height} px", total=total)
            advance = lambda: progress.advance(task)  # noqa: E731
            if dask:
                from geo.distributed import detect_with_dask

                candidates = detect_with_dask(first, second, params, zones, known,
                                              None if dask == "local" else dask, progress=advance)
            else:
                candidates = detect(first, second, params, zones, known, progress=advance)
    except (ValueError, KeyError, OSError) as exc:
        raise _fail(str(exc)) from exc
    console.print(f"{len(candidates)} candidates")
    if out:
        frame = gpd.GeoDataFrame(
            [{"score": c.score, "area_m2": c.area_m2, **{k: v for k, v in c.evidence.items() if k != "dates"}}
             for c in candidates], geometry=[c.geometry for c in candidates], crs=crs)
        frame.to_crs(4326).to_file(out)
        console.print(f"written to {out}")
    if store:
        _store_detection(candidates, crs, params, {
            "before": str(before), "after": str(after), "zoning": str(zoning) if zoning else None,
            "exclude": str(exclude) if exclude else None})


@detect_cli.command("trend")
def detect_trend_command(
    series: Annotated[Path, typer.Argument(help="NDVI series: one band per date.")],
    dates: Annotated[Path, typer.Argument(help="JSON list of the bands' dates (ISO), in band order.")],
    zoning: Annotated[Path | None, typer.Option(help="Productive land polygons.")] = None,
    exclude: Annotated[Path | None, typer.Option(help="Known sites to leave out.")] = None,
    min_area: Annotated[float, typer.Option(help="Minimum area in m².")] = 2000.0,
    slope: Annotated[float, typer.Option(help="Minimum NDVI gain per year.")] = 0.05,
    store: Annotated[bool, typer.Option(help="Store the run in the catalogue.")] = True,
) -> None:
    """Candidates from an NDVI time series: surfaces that started bare or sealed and green up."""
    import datetime as dt
    import json

    import rasterio

    from geo.detect import DetectionParams
    from geo.timeseries import detect_trend

    try:
        when = [dt.datetime.fromisoformat(d) for d in json.loads(dates.read_text())]
        with rasterio.open(series) as src:
            crs = src.crs
        params = DetectionParams(min_area_m2=min_area)
        candidates = detect_trend(str(series), when, params, _geometries(zoning, crs),
                                  _geometries(exclude, crs), slope_min=slope)
    except (ValueError, KeyError, OSError) as exc:
        raise _fail(str(exc)) from exc
    console.print(f"{len(candidates)} candidates")
    if store:
        _store_detection(candidates, crs, params, {"series": str(series), "dates": str(dates)})


@detect_cli.command("evaluate")
def detect_evaluate(
    run_id: Annotated[int, typer.Argument(help="A stored detection run.")],
    reference: Annotated[Path, typer.Argument(help="Reference polygons: register of disused areas, DUSAF 134...")],
    min_iou: Annotated[float, typer.Option(help="IoU for a match.")] = 0.3,
) -> None:
    """Precision, recall, F1 and IoU of a run against a reference layer."""
    from app.detection import evaluate_run
    from geo.layers import read_layer

    try:
        references = list(read_layer(reference).geometry)
    except LayerError as exc:
        raise _fail(exc.message) from exc
    with _connection(write=False) as conn:
        scores = evaluate_run(conn, run_id, references, min_iou)
    Console().print_json(data=scores.to_dict())


# -- accounts and keys ------------------------------------------------------------------------


def _password(given: str | None) -> str:
    """From the option, else OPPORTUNITY_NEW_PASSWORD (scripts), else asked twice."""
    import os

    return given or os.environ.get("OPPORTUNITY_NEW_PASSWORD") or typer.prompt(
        "Password (12+ characters)", hide_input=True, confirmation_prompt=True)


@users_cli.command("create")
def users_create(
    email: Annotated[str, typer.Argument(help="Sign-in e-mail.")],
    role: Annotated[str, typer.Option(help="proponent, staff or admin.")] = "proponent",
    tax_id: Annotated[str | None, typer.Option(help="Codice fiscale or partita IVA a proponent acts for.")] = None,
    name: Annotated[str | None, typer.Option(help="Full name.")] = None,
    password: Annotated[str | None, typer.Option(help="Prefer the prompt or OPPORTUNITY_NEW_PASSWORD.")] = None,
) -> None:
    """Create an account."""
    from app.auth import create_user
    from app.models import AuditEvent

    secret = _password(password)
    with _session() as session:
        try:
            user = create_user(session, email, secret, role, name, tax_id)
        except OpportunityError as exc:
            raise _fail(exc.message) from exc
        session.add(AuditEvent(actor="cli", actor_role="admin", action="user.create", entity_type="user",
                               entity_id=str(user.id), details={"role": role}))
        session.commit()
        console.print(f"created {role} account {user.email} (id {user.id})")


@users_cli.command("list")
def users_list() -> None:
    """Every account."""
    from sqlalchemy import select

    from app.models import User

    table = Table("id", "email", "role", "tax id", "active", "last login")
    with _session() as session:
        for u in session.scalars(select(User).order_by(User.id)):
            table.add_row(str(u.id), u.email, u.role, u.tax_id or "", "yes" if u.is_active else "no",
                          f"{u.last_login_at:%Y-%m-%d %H:%M}" if u.last_login_at else "")
    Console().print(table)


def _user(session: Session, email: str):
    from app.auth import find_user

    user = find_user(session, email)
    if user is None:
        raise _fail(f"no account for {email}")
    return user


@users_cli.command("password")
def users_password(email: str, password: Annotated[str | None, typer.Option()] = None) -> None:
    """Set a new password; the account's existing tokens stop working."""
    from app.auth import set_password

    secret = _password(password)
    with _session() as session:
        try:
            set_password(_user(session, email), secret)
        except OpportunityError as exc:
            raise _fail(exc.message) from exc
        session.commit()
    console.print(f"password changed for {email}; its sessions were signed out")


@users_cli.command("deactivate")
def users_deactivate(email: str) -> None:
    """Lock an account out at once (its tokens stop working); nothing is deleted."""
    from app.auth import deactivate

    with _session() as session:
        deactivate(_user(session, email))
        session.commit()
    console.print(f"{email} deactivated")


@keys_cli.command("create")
def keys_create(name: Annotated[str, typer.Argument(help="Which frontend will use it.")]) -> None:
    """A new read-only key; printed once on standard output."""
    from app.auth import create_api_key

    with _session() as session:
        row, key = create_api_key(session, name)
        prefix = row.prefix
        session.commit()
    console.print(f"API key {prefix} for {name!r} (shown once; send it as the X-API-Key header):")
    print(key)


@keys_cli.command("revoke")
def keys_revoke(prefix: Annotated[str, typer.Argument(help="The key's prefix (the part after olk_).")]) -> None:
    """Revoke a key at once."""
    from app.auth import revoke_api_key

    with _session() as session:
        done = revoke_api_key(session, prefix)
        session.commit()
    if not done:
        raise _fail(f"no active key with prefix {prefix}")
    console.print(f"key {prefix} revoked")


# -- freshness and notifications --------------------------------------------------------------


@freshness_cli.command("stale")
def freshness_stale() -> None:
    """Published sites not confirmed within the stale period, and whom to remind."""
    from app.freshness import stale_sites

    table = Table("site", "name", "last confirmed", "days", "remind", "expires")
    with _session() as session:
        rows = stale_sites(session)
    for r in rows:
        table.add_row(str(r["site_id"]), r["site_name"], r["last_confirmed_at"][:10], str(r["days_since_confirmed"]),
                      r["recipient"] or "(no address)", "due" if r["due_to_expire"] else "")
    Console().print(table)
    console.print(f"{len(rows)} stale sites")


@freshness_cli.command("remind")
def freshness_remind() -> None:
    """Queue a reminder per stale site (once a month); deliver with notify deliver."""
    from app.freshness import remind

    with _session() as session:
        queued = remind(session)
    console.print(f"{queued} reminders queued")


@freshness_cli.command("expire")
def freshness_expire() -> None:
    """Expire published sites unconfirmed past the expiry period."""
    from app.freshness import expire

    with _session() as session:
        expired = expire(session)
    console.print(f"{len(expired)} sites expired" + (f": {', '.join(map(str, expired))}" if expired else ""))


@notify_cli.command("deliver")
def notify_deliver(
    backend: Annotated[str | None, typer.Option(help="log, file or module:Class (default from settings).")] = None,
) -> None:
    """Hand pending notifications to the notifier; failures stay queued for the next run."""
    from app.notify import deliver, load_notifier

    try:
        notifier = load_notifier(backend)
    except (ValueError, ImportError, AttributeError) as exc:
        raise _fail(str(exc)) from exc
    with _session() as session:
        sent, failed = deliver(session, notifier)
    console.print(f"{sent} sent, {failed} failed")
    if failed:
        raise typer.Exit(code=1)


# -- storage -----------------------------------------------------------------------------------


@storage_cli.command("check")
def storage_check(
    fix: Annotated[bool, typer.Option("--fix", help="Delete the orphan files found.")] = False,
    older_than_minutes: Annotated[float, typer.Option(
        min=0, help="Spare files younger than this: uploads may be in flight.")] = 60,
) -> None:
    """Files no candidacy references (left by a crash between file and database) and
    candidacies whose original is missing; --fix deletes the orphans."""
    import datetime as dt

    from app.storage import check_store, remove_original

    root = storage_settings().uploads_dir
    with _connection(write=False) as conn:
        found = check_store(conn, root, dt.timedelta(minutes=older_than_minutes))
    for orphan in found.orphans:
        console.print(f"  orphan {orphan.kind}: {orphan.path} ({orphan.modified:%Y-%m-%d %H:%M} UTC)", soft_wrap=True)
        if fix:
            remove_original(orphan.path)
    for candidacy_id, digest in found.missing:
        console.print(f"  [yellow]missing original[/] of candidacy {candidacy_id} ({digest}): "
                      "an upload of the same file restores it", soft_wrap=True)
    action = "removed" if fix else "found (run with --fix to remove them)"
    console.print(f"{len(found.orphans)} orphan files {action}; {len(found.missing)} candidacies without their file",
                  soft_wrap=True)
    if found.missing or (found.orphans and not fix):
        raise typer.Exit(code=1)


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
