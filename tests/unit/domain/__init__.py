"""Tests of the pure domain layer."""
