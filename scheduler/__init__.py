"""The background process: the pipeline's work loop, and (later) the timed jobs."""
