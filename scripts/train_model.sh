#!/usr/bin/env bash
# Train the Rasa model, but only when its inputs changed.
#
# The model is named after a sha256 over the training inputs (config.yml,
# bot/domain.yml, bot/**/*.yml except bot/tests/ and bot/credentials.yml, the custom NLU
# components in bot/components/, and nlu/** except nlu/test/) and the Rasa venv's pins
# (requirements-rasa.txt: a model is trained again under a new Python or TensorFlow). If
# var/rasa-models/<hash>.tar.gz exists nothing is
# trained. var/rasa-models/current.tar.gz always points at the model for the
# current inputs. Older models are deleted, keeping the newest two.
#
# Usage: scripts/train_model.sh            (from anywhere)
# Env:   RASA_BIN (default .venvs/rasa/bin/rasa), RASA_MODELS_DIR (default var/rasa-models)
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"

RASA_BIN="${RASA_BIN:-$REPO_ROOT/.venvs/rasa/bin/rasa}"
MODELS_DIR="${RASA_MODELS_DIR:-var/rasa-models}"
KEEP_MODELS=2

export RASA_TELEMETRY_ENABLED=false
export TF_CPP_MIN_LOG_LEVEL=2
# Rasa's training cache: keep it under var/ instead of ./.rasa/.
export RASA_CACHE_DIRECTORY="${RASA_CACHE_DIRECTORY:-$REPO_ROOT/var/rasa-cache}"
export LC_ALL=C

# Training inputs, one path per line, sorted (byte order, LC_ALL=C).
training_files() {
    {
        echo config.yml
        echo requirements-rasa.txt
        find bot -type f -name '*.yml' \
            -not -path 'bot/tests/*' -not -path 'bot/credentials.yml'
        # config.yml names components here: their code is part of the model.
        find bot/components -type f -name '*.py'
        find nlu -type f -not -path 'nlu/test/*'
    } | sort -u
}

# Data arguments for `rasa train --data`: every nlu file except nlu/test/, and
# every data folder under bot/ (rules/, and stories/ once it exists).
# (`--data nlu` would also read nlu/test/, so nlu files are listed one by one.)
data_args() {
    find nlu -type f \( -name '*.yml' -o -name '*.yaml' \) -not -path 'nlu/test/*' | sort
    local dir
    for dir in bot/rules bot/stories bot/nlu; do
        if [ -d "$dir" ]; then echo "$dir"; fi
    done
}

# The hash covers file names and contents, so a rename also retrains.
mapfile -t files < <(training_files)
for f in "${files[@]}"; do
    case "$f" in *" "*) echo "train_model: file names with spaces are not supported: $f" >&2; exit 1 ;; esac
done
hash="$(sha256sum -- "${files[@]}" | sha256sum | cut -d" " -f1)"
model="$MODELS_DIR/$hash.tar.gz"
mkdir -p "$MODELS_DIR"

if [ -f "$model" ]; then
    echo "model up to date: $model"
    touch "$model"   # newest again, so the clean-up below keeps it
else
    if [ ! -x "$RASA_BIN" ]; then
        echo "train_model: $RASA_BIN not found; install the Rasa venv first" >&2
        exit 1
    fi
    mapfile -t data < <(data_args)
    echo "training $model from: ${data[*]}"
    start=$(date +%s)
    "$RASA_BIN" train \
        --config config.yml \
        --domain bot/domain.yml \
        --data "${data[@]}" \
        --out "$MODELS_DIR" \
        --fixed-model-name "$hash"
    end=$(date +%s)
    if [ ! -f "$model" ]; then
        echo "train_model: training did not produce $model" >&2
        exit 1
    fi
    echo "training took $((end - start)) s"
fi

# Relative link, so the folder can be moved or mounted elsewhere.
ln -sfn "$hash.tar.gz" "$MODELS_DIR/current.tar.gz"
echo "current model: $MODELS_DIR/current.tar.gz -> $hash.tar.gz"

# Keep the newest $KEEP_MODELS models (by modification time), never the current one.
mapfile -t old < <(
    find "$MODELS_DIR" -maxdepth 1 -type f -name '*.tar.gz' -printf '%T@ %p\n' \
        | sort -rn | tail -n +$((KEEP_MODELS + 1)) | cut -d' ' -f2-
)
for m in "${old[@]}"; do
    if [ "$m" != "$model" ]; then
        echo "removing old model $m"
        rm -f -- "$m"
    fi
done
