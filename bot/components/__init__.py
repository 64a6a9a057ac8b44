"""Custom Rasa NLU components (they run in the Rasa venv, Python 3.10; docs/NLU.md)."""
