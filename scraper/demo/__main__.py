"""``python -m scraper.demo serve [--host H] [--port P] [--size N] [--seed S] [--layout L] [--fault X]``.

Runs the demo portal in the foreground. Once listening it prints exactly one
line, ``serving http://HOST:PORT/``, and serves until SIGTERM or SIGINT.
Bad arguments give a one-line error on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType
from typing import NoReturn

from scraper.demo.app import FAULT_MODES
from scraper.demo.layouts import LAYOUTS
from scraper.demo.server import DemoServer
from scraper.demo.site import MAX_SIZE, MIN_SIZE, DemoSite


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (no usage dump)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None


def _port(text: str) -> int:
    value = _int(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}")
    return value


def _size(text: str) -> int:
    value = _int(text)
    if not MIN_SIZE <= value <= MAX_SIZE:
        raise argparse.ArgumentTypeError(f"must be between {MIN_SIZE} and {MAX_SIZE}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m scraper.demo", description="The demo district portal.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    serve = sub.add_parser("serve", help="serve the demo portal until SIGTERM / Ctrl-C")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=_port, default=0, help="0 picks a free port (default)")
    serve.add_argument("--size", type=_size, default=200, help="number of articles")
    serve.add_argument("--seed", type=_int, default=1, help="content seed")
    serve.add_argument("--layout", choices=sorted(LAYOUTS), default="thanhhoa")
    serve.add_argument("--fault", action="append", choices=sorted(FAULT_MODES), default=[],
                       help="misbehave like a real portal (repeatable; see scraper.demo.app)")
    serve.add_argument("--verbose", action="store_true", help="log every request to stderr")
    serve.add_argument("--documents", action="store_true",
                       help="attach real PDF/DOCX documents (one scanned, one large) to every "
                            "fourth article (scraper.demo.documents)")
    return parser


def serve(args: argparse.Namespace) -> int:
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    site = DemoSite(size=args.size, seed=args.seed, layout=args.layout,
                    documents=args.documents)
    server = DemoServer(site, host=args.host, port=args.port, quiet=not args.verbose,
                        faults=frozenset(args.fault))
    try:
        server.start()
    except OSError as exc:
        print(f"python -m scraper.demo: error: cannot listen on {args.host}:{args.port}: "
              f"{exc.strerror or exc}", file=sys.stderr)
        return 1
    print(f"serving {server.base_url}", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        return serve(args)
    return 2  # unreachable: the subcommand is required


if __name__ == "__main__":
    sys.exit(main())
