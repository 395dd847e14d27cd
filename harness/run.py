#!/usr/bin/env python3
"""Entry point of the interop harness: `.tools/py/bin/python harness/run.py {generate|read|check|versions}`."""

import faulthandler
import os
import sys

# A crash inside a native reader (DuckDB, pyarrow, the JVM bridge) prints the Python stack that led to it.
faulthandler.enable()

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from iceberg_harness.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
