"""Benchmarks that print figures (`make bench`); they assert nothing about timing."""
