"""Each site's feature as the OGC API lists it, kept as JSON text beside the site.

A bbox page of 100 sites built its features with ``json_build_object`` over 46
properties: 1.7 ms of the 3.1 ms PostgreSQL spent on a page (statement by statement,
on the 100,000-site benchmark catalogue). The text is kept in ``site_listings`` by
statement triggers on ``sites`` (insert and update, from their transition tables), so
every code path that writes a site keeps it current without knowing about it, and a
page joins 100 stored texts. A table of its own keeps the rows of ``sites`` narrow for
the bbox scans that count the matches.

The trigger's expression is the one the API computes for every other collection
(``collections.feature_json``), compiled when the migration runs; a test compares the
stored text with a live computation for every site, so a change of the listed
properties without a migration that recreates the function fails there.
"""

from __future__ import annotations

from sqlalchemy.dialects import postgresql

from app.catalogue.collections import feature_json, site_collection


def feature_sql() -> str:
    """The listed feature of a row of ``sites`` as SQL (its columns as ``sites.*``)."""
    expression = feature_json(site_collection(), listing=True)
    return str(expression.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))


def create_sql() -> list[str]:
    """The function and triggers that keep ``site_listings``, and the backfill. The
    function renders timestamps in UTC whatever the writer's session time zone."""
    upsert = (f"INSERT INTO site_listings (id, feature) SELECT sites.id, ({feature_sql()})::text "
              "FROM SOURCE ON CONFLICT (id) DO UPDATE SET feature = EXCLUDED.feature")
    return [
        f"""CREATE OR REPLACE FUNCTION refresh_site_listings() RETURNS trigger
LANGUAGE plpgsql SET TimeZone = 'UTC' AS $$
BEGIN
    {upsert.replace("FROM SOURCE", "FROM changed AS sites")};
    RETURN NULL;
END $$""",
        "CREATE TRIGGER site_listings_insert AFTER INSERT ON sites REFERENCING NEW TABLE AS changed "
        "FOR EACH STATEMENT EXECUTE FUNCTION refresh_site_listings()",
        "CREATE TRIGGER site_listings_update AFTER UPDATE ON sites REFERENCING NEW TABLE AS changed "
        "FOR EACH STATEMENT EXECUTE FUNCTION refresh_site_listings()",
        "SET LOCAL TimeZone = 'UTC'",
        upsert.replace("FROM SOURCE", "FROM sites"),
    ]
