"""QR decoding for the e-SSC login: our decoder (zxing-cpp, drivers/camera/qr.py) beside OpenCV's
QRCodeDetector on the same generated degraded frames, in the same run.

Seven conditions (clean, small, blur, tilted, jpeg, dim, combined: drivers/camera/qr_frames.py),
FRAMES random 40-120 character tokens each on a textured 640 x 480 frame. Success is the exact
text; a wrong text counts against the decoder as `wrong`. Per-frame median milliseconds for both.
Headline (printed last): `ratio=<our decode share / OpenCV's> target>=1.2`.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import cv2  # noqa: E402

from drivers.camera.qr import QrDecoder  # noqa: E402
from drivers.camera.qr_frames import CONDITIONS, qr_frame  # noqa: E402

FRAMES = 30
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789-_."


def main() -> None:
    rng = random.Random(20261203)
    ours, theirs = QrDecoder(), cv2.QRCodeDetector()
    ok_ours = ok_cv = wrong_ours = wrong_cv = total = 0
    t_ours: list[float] = []
    t_cv: list[float] = []
    for name, condition in CONDITIONS.items():
        hits = 0
        for _ in range(FRAMES):
            text = "ESSC1." + "".join(rng.choice(ALPHABET) for _ in range(rng.randint(40, 120)))
            frame = qr_frame(text, condition, rng)
            total += 1
            start = time.perf_counter()
            got = ours.decode(frame)
            t_ours.append(time.perf_counter() - start)
            if text in got:
                ok_ours += 1
                hits += 1
            elif got:
                wrong_ours += 1
            start = time.perf_counter()
            cv_text, _, _ = theirs.detectAndDecode(frame)
            t_cv.append(time.perf_counter() - start)
            if cv_text == text:
                ok_cv += 1
            elif cv_text:
                wrong_cv += 1
        print(f"figure=decoded_{name} value={hits / FRAMES:.3f}")
    share_ours, share_cv = ok_ours / total, ok_cv / total
    print(f"figure=decode_share value={share_ours:.3f}")
    print(f"figure=opencv_decode_share value={share_cv:.3f}")
    print(f"figure=wrong_decodes value={wrong_ours} target<=0")
    print(f"figure=opencv_wrong_decodes value={wrong_cv}")
    print(f"figure=ms_per_frame value={statistics.median(t_ours) * 1000:.2f}")
    print(f"figure=opencv_ms_per_frame value={statistics.median(t_cv) * 1000:.2f}")
    print(f"ratio={share_ours / max(share_cv, 1e-9):.2f} target>=1.2")


if __name__ == "__main__":
    main()
