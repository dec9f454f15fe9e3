"""Fuzz: every entry point that takes outside bytes (card answers, MQTT payloads at the kiosk,
the central and the fleet monitor, config files and overrides, fingerprint frames), fed
mutated seeds for 40 s in all (`--minutes N` for a long run; the same as `python -m tests.fuzz`).

Figure lines per entry point (inputs, escapes, slowest input), the peak memory, then the
headline LAST: `ratio=<share of inputs that ended in success or a documented error> target>=1`.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fuzz.__main__ import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(default_minutes=40 / 60))
