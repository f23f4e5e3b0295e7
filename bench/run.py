"""Run the benchmark scenarios and print every figure with its target, met or missed.

    .venv/bin/python -m bench.run                    # every scenario, default settings
    .venv/bin/python -m bench.run ingest memory      # some of them
    .venv/bin/python -m bench.run --quick            # fewer runs and smaller loads: a smoke test

Scenarios: ``ingest`` (1), ``sockets`` (2), ``inbox`` (3; needs the databases from ``bench.generate``),
``search`` (4), ``memory`` (5). Each is also a module of its own with more options
(``python -m bench.<scenario> --help``). Figures land in ``bench/results/*.json``.
"""

from __future__ import annotations

import argparse

from bench import procs

SCENARIOS = ("ingest", "sockets", "inbox", "search", "memory")
QUICK = {
    "ingest": ["--runs", "1", "--messages", "200", "--seconds", "3", "--light-seconds", "3", "--baseline-seconds", "2"],
    "sockets": ["--runs", "1", "--levels", "500", "--hold", "3", "--variants", "threadline-web", "floor"],
    "inbox": ["--runs", "1", "--per-run", "20", "--scales", "10k"],
    "memory": ["--runs", "1", "--settle", "2"],
    "search": ["--runs", "1", "--per-run", "2", "--messages", "2000", "--articles", "100"],
}


def search(argv: list[str]) -> None:
    from bench import search_latency

    search_latency.main(argv)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("scenarios", nargs="*", metavar="scenario", help=f"any of: {', '.join(SCENARIOS)}")
    parser.add_argument("--quick", action="store_true", help="one short run of each: a smoke test, not figures")
    args = parser.parse_args(argv)
    unknown = set(args.scenarios) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(sorted(unknown))}")
    procs.raise_open_files()
    for name in args.scenarios or SCENARIOS:
        extra = QUICK.get(name, []) if args.quick else []
        if name == "search":
            search(extra)
            continue
        module = __import__(f"bench.{name}", fromlist=["main"])
        module.main(extra)


if __name__ == "__main__":
    main()
