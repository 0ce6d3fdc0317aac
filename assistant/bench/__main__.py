"""``python -m assistant.bench JOB``: one scale point in its own process (see assistant.bench.scale)."""

from __future__ import annotations

import sys

from assistant.bench.scale import _worker

if __name__ == "__main__":
    _worker(sys.argv[1])
