"""The danger-first rule (bot/components/danger_rule.py) as a Rasa NLU component.

It goes last in the pipeline, after the FallbackClassifier, so that a danger message the
classifier was unsure about is acted on rather than answered with "please rephrase".
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
)
from rasa.shared.nlu.training_data.message import Message

from bot.components.danger_rule import promote_danger


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class DangerFirst(GraphComponent, IntentClassifier):
    """report_danger wins once its confidence reaches `threshold` (0.0 to 1.0)."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"threshold": 0.3}

    def __init__(self, config: dict[str, Any]) -> None:
        self.threshold = float(config["threshold"])

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> DangerFirst:
        return cls(config)

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            intent = message.data.get(INTENT) or {}
            ranking = [
                (str(r.get(INTENT_NAME_KEY)), float(r.get(PREDICTED_CONFIDENCE_KEY) or 0.0))
                for r in message.data.get(INTENT_RANKING_KEY) or []
            ]
            promoted = promote_danger(str(intent.get(INTENT_NAME_KEY)), ranking, self.threshold)
            if promoted is not None:
                name, confidence = promoted
                message.data[INTENT] = {
                    INTENT_NAME_KEY: name,
                    PREDICTED_CONFIDENCE_KEY: confidence,
                }
        return messages
