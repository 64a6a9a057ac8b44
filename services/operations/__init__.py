"""Running the service: heartbeats of the background processes."""
