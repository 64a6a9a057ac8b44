"""Custom Rasa actions, served by ``python -m rasa_sdk --actions bot.actions``.

The action server only registers actions whose modules are imported, so every
action module must be imported here.
"""

from bot.actions.session import ActionSessionStart

__all__ = ["ActionSessionStart"]
