#!/usr/bin/env python
"""Django's command-line utility for Assay."""

import os
import sys
from pathlib import Path


def main() -> None:
    """Run a management command; works before or after `pip install -e .`."""
    source_root = str(Path(__file__).resolve().parent / "platform")
    if source_root not in sys.path:
        sys.path.insert(0, source_root)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "assay.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
