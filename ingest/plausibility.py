"""Values orders of magnitude off: a price per m² of cents, megawatts per m². Usually a
wrong unit or a misplaced thousands separator, so a warning (never an error) that says
what to check. A mixin of the cross-field checker (``ingest.checks``)."""

from __future__ import annotations

from ingest.problems import Severity
from ingest.values import it_number

# plausible ranges per m² of the site's surface (land, else floor area): wide on purpose,
# to catch a factor of 1,000 (a unit or a separator), not to judge a price
PRICE_PER_M2 = (1.0, 50_000.0)
RENT_PER_M2 = (0.5, 5_000.0)
POWER_PER_M2 = (0.0, 5.0)


class PlausibilityChecks:
    """Needs the checker's ``v`` and ``flag``."""

    def plausibility(self) -> None:
        """Values orders of magnitude off (a price per m² of cents or of a skyscraper's
        penthouse, megawatts per m²): usually a unit or a misplaced separator."""
        v = self.v
        area = v.get("land_area_m2") or v.get("gross_floor_area_m2") or v.get("covered_area_m2")
        if not area:
            return
        checks = (("price_eur", v.get("price_eur"), PRICE_PER_M2, "€/m²", "price", "prezzo"),
                  ("annual_rent_eur", v.get("annual_rent_eur"), RENT_PER_M2, "€/m² per year", "annual rent",
                   "canone annuo"),
                  ("power_kw", v.get("power_kw"), POWER_PER_M2, "kW/m²", "electrical power", "potenza elettrica"))
        for key, value, (low, high), unit, what_en, what_it in checks:
            if value is None or low <= value / area <= high:
                continue
            ratio = value / area
            self.flag(Severity.WARNING, "implausible_value", key,
                      f"The {what_en} is {ratio:,.4g} {unit} of the site's surface, far from the usual "
                      f"{low:g}-{high:,g}: check the unit and the thousands separator.",
                      f"{what_it[0].upper() + what_it[1:]}: {it_number(ratio, 4).rstrip('0').rstrip(',')} "
                      f"{unit.replace('per year', 'all’anno')} della superficie, lontano dal consueto "
                      f"{it_number(low, 2).rstrip('0').rstrip(',')}-{it_number(high)}: verificare l'unità e il "
                      "separatore delle migliaia.",
                      (f"between {low:g} and {high:,g} {unit}",
                       f"tra {it_number(low, 2).rstrip('0').rstrip(',')} e {it_number(high)} "
                       f"{unit.replace('per year', 'all’anno')}"))
