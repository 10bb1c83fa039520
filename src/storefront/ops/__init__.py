"""Operational endpoints: health, readiness, metrics, documentation aliases."""
