"""The scheduler process (`python -m scheduler`): APScheduler running the timed jobs, with
exactly one copy active under a lock. The rules its jobs apply live in `services/`."""
