"""Domain logic shared by every entry point: web, worker and actions."""
