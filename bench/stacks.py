"""Summarise one py-spy raw profile (bench/profile.sh): the share of samples under each of
our functions (inclusive), and the packages the samples ended in.

    .venvs/app/bin/python -m bench.stacks OUT_DIR/worker-1234.txt [--top 30] [--cpu-ms 24.0]

`--cpu-ms`: the process's CPU ms a message, as bench.pipeline printed it for the phase
sampled; each share is then also given in ms a message (the share times that figure).
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

# Frames of the project's own packages, as py-spy prints them: "func (services/x.py:12)".
OURS = re.compile(r"\((?:bot|models|scheduler|services|webhooks|workers)/")
PACKAGE = re.compile(r"\(([A-Za-z_0-9]+)[/.]")


def summarise(path: Path, top: int, cpu_ms: float | None = None) -> list[str]:
    """Lines of the summary of the profile at `path`."""
    total = 0
    under: Counter[str] = Counter()
    ended_in: Counter[str] = Counter()
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        samples = int(count)
        total += samples
        frames = stack.split(";")
        for name in {re.sub(r":\d+\)$", ")", f) for f in frames if OURS.search(f)}:
            under[name] += samples
        found = PACKAGE.search(frames[-1])
        ended_in[found.group(1) if found else frames[-1][:40]] += samples
    if not total:
        return [f"{path}: no samples"]
    lines = [f"{path}: {total} samples"]
    lines += [
        f"{100 * n / total:5.1f}%"
        + (f" {cpu_ms * n / total:6.2f} ms" if cpu_ms else "")
        + f"  {name}"
        for name, n in under.most_common(top)
    ]
    lines.append("ended in (package of the innermost frame):")
    lines += [f"{100 * n / total:5.1f}%  {name}" for name, n in ended_in.most_common(12)]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("profile", type=Path)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--cpu-ms", type=float, help="the process's CPU ms a message")
    args = parser.parse_args()
    print("\n".join(summarise(args.profile, args.top, args.cpu_ms)))


if __name__ == "__main__":
    main()
