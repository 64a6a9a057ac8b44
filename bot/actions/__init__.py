"""Custom Rasa actions, served by ``python -m rasa_sdk --actions bot.actions``.

The action server only registers actions whose modules are imported, so every
action module must be imported here. Actions stay thin: the logic is in services/.
"""

from bot.actions.danger import ActionReportDanger
from bot.actions.fallback import ActionFallback
from bot.actions.identity import ActionAskIdentityDob, ActionAskUpdateCase, ValidateUpdateForm
from bot.actions.language import ActionSwitchLanguage
from bot.actions.needs import ActionNeedsDone, ActionStartNeeds, ValidateNeedsForm
from bot.actions.officer import ActionTalkToOfficer
from bot.actions.preferences import ActionChangePreferences, ValidatePreferencesForm
from bot.actions.review import ActionRequestReview
from bot.actions.rights import ActionComplaint, ActionRights
from bot.actions.session import ActionSessionStart
from bot.actions.support import ActionSupport
from bot.actions.updates import ActionCaseUpdate
from bot.actions.yes_no import ActionYesNo

__all__ = [
    "ActionAskIdentityDob",
    "ActionAskUpdateCase",
    "ActionCaseUpdate",
    "ActionChangePreferences",
    "ActionComplaint",
    "ActionFallback",
    "ActionNeedsDone",
    "ActionReportDanger",
    "ActionRequestReview",
    "ActionRights",
    "ActionSessionStart",
    "ActionStartNeeds",
    "ActionSupport",
    "ActionSwitchLanguage",
    "ActionTalkToOfficer",
    "ActionYesNo",
    "ValidateNeedsForm",
    "ValidatePreferencesForm",
    "ValidateUpdateForm",
]
