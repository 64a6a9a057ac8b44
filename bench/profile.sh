#!/usr/bin/env bash
# Where the CPU goes per process: runs bench.pipeline and, once its end-to-end phase starts,
# samples each process of the stack it started with py-spy for DURATION seconds
# (bench/README.md, "Profile"). Only the bench's own descendants are sampled: py-spy pauses
# the process it reads, and other people's processes on a shared machine are not ours.
#
#   bench/profile.sh OUT_DIR [bench.pipeline options...]
#
# OUT_DIR gets bench.txt (the bench's figures) and one <name>-<pid>.txt per process in
# py-spy's raw (collapsed stack) format; `python -m bench.stacks FILE` summarises one.
# PY_SPY_ARGS (default: --gil, only samples holding the GIL, which is CPU spent in Python)
# and DURATION (default 15) change the sampling.
set -euo pipefail
out=${1:?usage: bench/profile.sh OUT_DIR [bench options]}
shift
root=$(cd "$(dirname "$0")/.." && pwd)
py_spy=${PY_SPY:-$root/.venvs/app/bin/py-spy}
mkdir -p "$out"
cd "$root"
.venvs/app/bin/python -m bench.pipeline "$@" >"$out/bench.txt" 2>&1 &
bench=$!
trap 'kill $bench 2>/dev/null || true' INT TERM

descendants() {
    local child
    for child in $(pgrep -P "$1" || true); do
        echo "$child"
        descendants "$child"
    done
}

until grep -q "2. end to end" "$out/bench.txt"; do
    kill -0 $bench 2>/dev/null || { cat "$out/bench.txt"; exit 1; }
    sleep 0.5
done
for pid in $(descendants $bench); do
    cmd=$(tr '\0' ' ' </proc/$pid/cmdline 2>/dev/null || true)
    case $cmd in
        *twilio_standin*) name=twilio-standin ;;
        *gunicorn*create_app*) name=web ;;
        *"-m workers"*) name=worker ;;
        *"-m scheduler"*) name=scheduler ;;
        *bot.action_server*) name=actions ;;
        *"rasa run"*) name=rasa ;;
        *) continue ;;
    esac
    "$py_spy" record --pid "$pid" --duration "${DURATION:-15}" --rate 100 --format raw \
        ${PY_SPY_ARGS:---gil} -o "$out/$name-$pid.txt" >"$out/$name-$pid.log" 2>&1 &
done
wait $bench
echo "profiles in $out"
