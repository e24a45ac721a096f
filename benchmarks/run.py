"""Run every benchmark (benchmarks/bench_*.py), each in its own Python process, one after another.

Separate processes keep one benchmark's imports, caches and memory from colouring the next one's
figures, and a failing benchmark does not stop the others. Each script prints its own table; this
script adds a closing summary and exits 1 if any benchmark failed.

    .venv/bin/python benchmarks/run.py              # everything
    .venv/bin/python benchmarks/run.py --quick      # passes --quick to the scripts that accept it
    .venv/bin/python benchmarks/run.py model        # only bench_model.py (names are matched as substrings)
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def scripts(only: list[str]) -> list[Path]:
    found = sorted(HERE.glob("bench_*.py"))
    return [p for p in found if not only or any(name in p.stem for name in only)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("only", nargs="*", help="run only the benchmarks whose file name contains one of these")
    parser.add_argument("--quick", action="store_true", help="shorter runs, where a benchmark supports it")
    args = parser.parse_args()
    chosen = scripts(args.only)
    if not chosen:
        print("no benchmarks found", file=sys.stderr)
        return 1
    outcomes = []
    for script in chosen:
        command = [sys.executable, str(script)]
        if args.quick and '"--quick"' in script.read_text(encoding="utf-8"):
            command.append("--quick")
        print(f"\n# {script.name}", flush=True)
        started = time.perf_counter()
        code = subprocess.run(command, cwd=HERE.parent, check=False).returncode
        outcomes.append((script.name, code, time.perf_counter() - started))
    print("\n# Summary\n\n| benchmark | result | seconds |\n|---|---|---|")
    for name, code, seconds in outcomes:
        print(f"| {name} | {'ok' if code == 0 else f'FAILED (exit {code})'} | {seconds:.1f} |")
    return 0 if all(code == 0 for _, code, _ in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
