"""The real actions (`bot.actions`) and one more that only the tests have: use this database.

The end-to-end tests start one action server for the whole session
(`python -m rasa_sdk --actions tests.support.e2e_actions`, the real server and the real
actions), yet each test has a database of its own. Before a test, the `action_server`
fixture calls `test_use_database` through the server's own webhook, with the test's
database URL as the sender id; the actions then read and write that database
(`bot.actions.store.configure`). Starting an action server for each test cost 2-3 s.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

import bot.actions  # noqa: F401 - every real action registers itself on import
from bot.actions import store

USE_DATABASE = "test_use_database"


class ActionTestUseDatabase(Action):
    """Point this action server at the database whose URL is the tracker's sender id."""

    def name(self) -> str:
        return USE_DATABASE

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        store.configure(tracker.sender_id)
        return []


def use_database_call(database_url: str) -> dict[str, Any]:
    """The body of the webhook request that runs `test_use_database` for `database_url`."""
    return {
        "next_action": USE_DATABASE,
        "sender_id": database_url,
        "tracker": {"sender_id": database_url, "slots": {}, "latest_message": {}, "events": []},
        "domain": {},
        "version": "3.6.21",
    }
