"""Command-line options that several ``servicematch`` commands share, defined once so they keep one
name, type and default everywhere."""
from __future__ import annotations

import argparse
from pathlib import Path


def add_models_option(parser: argparse.ArgumentParser, help: str | None = None) -> None:
    """``--models``: the models root (trained versions and CURRENT), ``models/`` unless given."""
    parser.add_argument("--models", type=Path, default=Path("models"), help=help)
