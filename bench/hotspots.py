"""Summarise a py-spy raw (collapsed-stack) profile: where each thread spends its time.

    py-spy record --nonblocking --threads -f raw -o prof.txt --pid PID --duration 10
    .venv/bin/python -m bench.hotspots prof.txt [--top 25]

py-spy is not a project dependency: install it outside the venv, e.g.
`pip install --target /tmp/pyspy py-spy` and run /tmp/pyspy/bin/py-spy.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from collections.abc import Sequence

_THREAD = re.compile(r"^thread \((\d+)\)(?::\s*(.*))?$")


def parse(path: str) -> dict[str, Counter[tuple[str, ...]]]:
    """Stacks (outermost first) and their sample counts, per thread name."""
    names: dict[str, str] = {}
    stacks: dict[str, Counter[tuple[str, ...]]] = {}
    with open(path) as f:
        lines = f.read().splitlines()
    # Thread names appear on some stacks only: learn them first.
    for line in lines:
        head = line.split(";", 1)[0]
        m = _THREAD.match(head.rsplit(" ", 1)[0] if ";" not in line else head)
        if m and m.group(2):
            names[m.group(1)] = m.group(2)
    for line in lines:
        body, _, count = line.rpartition(" ")
        frames = body.split(";")
        m = _THREAD.match(frames[0])
        tid = m.group(1) if m else "?"
        name = names.get(tid, f"thread {tid}")
        stacks.setdefault(name, Counter())[tuple(frames[1:])] += int(count)
    return stacks


def summary(stacks: dict[str, Counter[tuple[str, ...]]], top: int = 20) -> str:
    """Per thread: its share of samples, then the top functions by self and inclusive time."""
    total = sum(sum(c.values()) for c in stacks.values())
    out = [f"{total} samples"]
    for name, counter in sorted(stacks.items(), key=lambda kv: -sum(kv[1].values())):
        n = sum(counter.values())
        if n < total * 0.01:
            continue
        own: Counter[str] = Counter()
        inclusive: Counter[str] = Counter()
        for frames, count in counter.items():
            if frames:
                own[frames[-1]] += count
            for frame in set(frames):
                inclusive[frame] += count
        out.append(f"\n== {name}: {n} samples ({100 * n / total:.0f}% of all)")
        out.append("  self time:")
        out += [f"    {100 * c / n:5.1f}%  {f}" for f, c in own.most_common(top)]
        out.append("  inclusive (project, websockets, sqlalchemy, asyncio frames):")
        keep = ("dispatch/", "protocol/", "websockets/", "sqlalchemy/", "asyncio/", "psycopg")
        shown = [(f, c) for f, c in inclusive.most_common() if any(k in f for k in keep)]
        out += [f"    {100 * c / n:5.1f}%  {f}" for f, c in shown[:top]]
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> None:
    """Print the summary of one profile."""
    parser = argparse.ArgumentParser(prog="python -m bench.hotspots", description=__doc__)
    parser.add_argument("profile")
    parser.add_argument("--top", type=int, default=20)
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    print(summary(parse(args.profile), args.top))


if __name__ == "__main__":
    main()
