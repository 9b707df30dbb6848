"""`python -m papercycle.daemon [--log-file FILE]`: the daemon in the foreground (what
`papercycle daemon start` runs detached)."""

from __future__ import annotations

import argparse
import sys

from papercycle.daemon.process import AlreadyRunning, configure_logging, run_foreground


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m papercycle.daemon")
    parser.add_argument("--log-file")
    args = parser.parse_args()
    configure_logging(args.log_file)
    try:
        return run_foreground()
    except AlreadyRunning as error:
        print(f"papercycle daemon: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
