"""Seeded, varied investor requirements for the matching benchmarks.

Six fixed requirements repeated hundreds of times measure six answers; a catalogue that
remembered them would look fast and prove nothing. These are drawn from every criterion
the API takes (presets, ranges with a minimum, a maximum or both, tenure, prices,
provinces, an area of interest around a real site's point or a polygon, distances,
services, zones, dates, sectors, zonings, preferences and weights), each request
different, the same list for a given seed."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from ingest import vocabulary as v

PRESETS = ("logistics", "data_centre", "headquarters", "offices", "production", "rnd", "services")
PROVINCES = ("MI", "MB", "BG", "BS", "CO", "CR", "LC", "LO", "MN", "PV", "SO", "VA")
DISTANCES = ("max_motorway_km", "max_airport_km", "max_station_km")


def _range(rng: random.Random, low: float, high: float) -> dict[str, float]:
    a = round(rng.uniform(low, high), -2)
    shape = rng.random()
    if shape < 0.5:
        return {"min": a}
    if shape < 0.7:
        return {"max": a}
    return {"min": a, "max": round(a * rng.uniform(1.5, 6), -2)}


def requirement(rng: random.Random, points: list[tuple[float, float]]) -> dict[str, Any]:
    """One requirement: a preset or a custom one, with two to six criteria."""
    r: dict[str, Any] = {}
    if rng.random() < 0.35:
        r["activity"] = rng.choice(PRESETS)
    options = ["land", "floor", "building", "tenure", "price", "rent", "provinces", "area", "distance",
               "distance", "rail", "power", "fibre", "brownfield", "zls", "aid", "available", "sector", "zoning"]
    for option in rng.sample(options, rng.randint(2, 6)):
        if option == "land":
            r["land_area_m2"] = _range(rng, 2_000, 80_000)
        elif option == "floor":
            r["floor_area_m2"] = _range(rng, 500, 30_000)
        elif option == "building":
            r["building"] = rng.random() < 0.7
        elif option == "tenure":
            r["tenure"] = rng.choice(("buy", "lease"))
        elif option == "price":
            r["max_price_eur"] = round(rng.uniform(3e5, 3e7), -3)
        elif option == "rent":
            r["max_rent_eur"] = round(rng.uniform(5e4, 2e6), -3)
        elif option == "provinces":
            r["provinces"] = rng.sample(PROVINCES, rng.randint(1, 4))
        elif option == "area":
            lon, lat = rng.choice(points)
            if rng.random() < 0.8:
                r["area"] = {"point": [round(lon, 4), round(lat, 4)], "radius_km": round(rng.uniform(5, 60), 1)}
            else:
                d = rng.uniform(0.05, 0.4)
                ring = [[lon - d, lat - d], [lon + d, lat - d], [lon + d, lat + d], [lon - d, lat + d], [lon - d, lat - d]]
                r["area"] = {"polygon": {"type": "Polygon", "coordinates": [ring]}}
        elif option == "distance":
            r[rng.choice(DISTANCES)] = round(rng.uniform(1, 40), 1)
        elif option == "rail":
            r["rail_siding"] = True
        elif option == "power":
            r["min_power_kw"] = round(rng.uniform(100, 20_000), -1)
        elif option == "fibre":
            r["fibre"] = True
        elif option == "brownfield":
            r["brownfield"] = True
        elif option == "zls":
            r["zls"] = True
        elif option == "aid":
            r["regional_aid"] = True
        elif option == "available":
            r["available_by"] = (dt.date(2026, 12, 1) + dt.timedelta(days=rng.randint(0, 1500))).isoformat()
        elif option == "sector":
            r["sector"] = rng.choice(sorted(v.SECTORS))
        elif option == "zoning":
            r["zoning"] = rng.sample(sorted(v.ZONING), rng.randint(1, 3))
    named = [k for k in r if k != "activity"]  # criterion names are the requirement's keys
    if named and rng.random() < 0.4:
        r["preferences"] = rng.sample(named, 1)
    if named and rng.random() < 0.4:
        r["weights"] = {rng.choice(named): rng.choice((2, 3, 5))}
    return r


def requirements(count: int, points: list[tuple[float, float]], seed: int = 1) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [requirement(rng, points) for _ in range(count)]
