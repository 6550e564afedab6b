"""Fault-injection benchmark: ``camsift run`` receiving files over FTP and into a watched folder while its main
process and its workers are killed (``SIGKILL``) at random moments, the MQTT broker away during one kill.

Prints the counts of ``tests/faults/harness.py``'s `replay`: files acknowledged, lost, doubled, given up,
notifications and MQTT events missing (all must be 0), kills of each kind, seconds; then the files behind each
non-zero count and what was still outstanding if the service stopped making progress. Needs Mosquitto (its
binary; the replay runs a broker of its own) and the scripted detector only.

Usage: python bench/faults.py [--files 66] [--kills 20] [--gap 2 6] [--seed 1] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the harness and the test helpers

from faults.harness import replay


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=66, help="files to hand in (half FTP, half folder)")
    parser.add_argument("--kills", type=int, default=20, help="SIGKILLs of the main process or a worker")
    parser.add_argument("--gap", type=float, nargs=2, default=(2.0, 6.0), help="seconds between kills (min max)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="print the counts as JSON")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="camsift-faults-") as scratch:
        counts = replay(Path(scratch), files=args.files, kills=args.kills, gap_s=tuple(args.gap), seed=args.seed)
    if args.json:
        print(json.dumps(counts.to_dict(), indent=2))
        return
    table = counts.to_dict()
    width = max(map(len, table))
    for key, value in table.items():
        print(f"{key:>{width}}: {value}")


if __name__ == "__main__":
    main()
