"""Estimate engine: cross-section templates and rate catalogs turn measured roads into a BoM.

Pure: no HTTP, no database, no settings. Callers pass measured columns and loaded models.
"""
