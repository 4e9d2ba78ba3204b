"""Applications from owners and delegates: Excel intake, who may write the registry, the
lifecycle, staff reports, freshness, notifications and the demo data."""
