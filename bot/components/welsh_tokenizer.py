"""A whitespace tokenizer that gives each token its Welsh lemma (bot/components/welsh_lemmas.py).

Rasa's CountVectorsFeaturizer reads `token.lemma` when its `use_lemma` is true, so a
featurizer over lemmas sees "gyllell", "nghyllell" and "cyllell" as one word, while the
featurizers with `use_lemma: false` still see what the victim wrote.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.training_data.message import Message

from bot.components.welsh_lemmas import lemmas


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class WelshLemmaTokenizer(WhitespaceTokenizer):
    """WhitespaceTokenizer's tokens, each with its Welsh lemma (or the word) as `lemma`."""

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        tokens: list[Token] = super().tokenize(message, attribute)
        for token, lemma in zip(tokens, lemmas([t.text for t in tokens]), strict=True):
            token.lemma = lemma
        return tokens

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return dict(WhitespaceTokenizer.get_default_config())
