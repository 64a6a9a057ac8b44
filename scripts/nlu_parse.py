"""Parse messages with a trained Rasa model, exactly as the running assistant would.

Runs under the Rasa venv (Python 3.10): scripts/nlu_eval.py calls it. Reads a JSON list
of texts from one file and writes a JSON list of parse results to another, one per text:
{"text", "intent", "confidence", "ranking": [[name, confidence], ...], "entities":
[{"entity", "value"}, ...]}.

Why not `rasa test nlu`: it undoes the FallbackClassifier's nlu_fallback before scoring
(rasa/nlu/test.py), so it reports an intent the assistant would never act on. Here the
model's whole pipeline runs, FallbackClassifier included, and a message the assistant
would answer with "please rephrase" counts as a miss.

Usage: .venvs/rasa/bin/python scripts/nlu_parse.py MODEL.tar.gz TEXTS.json PARSED.json
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from typing import Any


async def parse_all(model_path: str, texts: list[str]) -> list[dict[str, Any]]:
    """Load the model once and parse every text with its whole NLU pipeline."""
    import structlog  # the Rasa venv only
    from rasa.core.agent import Agent

    # Rasa logs every parse at debug level through structlog, message text included.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    agent = Agent.load(model_path)
    results = []
    for text in texts:
        parsed = await agent.parse_message(text)
        intent = parsed.get("intent") or {}
        results.append(
            {
                "text": text,
                "intent": intent.get("name"),
                "confidence": float(intent.get("confidence") or 0.0),
                "ranking": [
                    [r["name"], float(r["confidence"])] for r in parsed.get("intent_ranking", [])
                ][:5],
                "entities": [
                    {"entity": e["entity"], "value": e["value"]} for e in parsed.get("entities", [])
                ],
            }
        )
    return results


def main(argv: list[str]) -> int:
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    # Custom components (bot/components/) are imported by module path from the repository
    # root, as `rasa run` and `rasa train` do (they put the working directory on the path).
    sys.path.insert(1, os.getcwd())
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    logging.disable(logging.WARNING)
    with open(argv[2], encoding="utf-8") as texts_file:
        texts = json.load(texts_file)
    results = asyncio.run(parse_all(argv[1], texts))
    with open(argv[3], "w", encoding="utf-8") as parsed_file:
        json.dump(results, parsed_file, ensure_ascii=False)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
