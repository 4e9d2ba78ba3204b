"""Tests run against a real PostGIS; see conftest.py."""
