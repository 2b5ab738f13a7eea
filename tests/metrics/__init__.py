"""Tests of metrics/: the working-day calendar and the SLA deadlines."""
