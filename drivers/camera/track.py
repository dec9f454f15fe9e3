"""One face followed frame to frame, and whether it moves like a head (pure, no I/O).

Identity continuity
-------------------
Once the check has a face, every later face must be the same one seen moving: its box overlaps
the previous box by at least `track_min_iou` (intersection over union), its 5 landmarks moved
on average at most `track_max_landmark_step` inter-ocular distances since the previous frame
(scaled up when frames were dropped), no second face of comparable size stays for
`second_face_frames` frames, and the face is never missing for longer than `track_lost_s`.
A face put in place of another (a photo swapped for a head) breaks the box or the landmark
continuity unless aligned to the pixel; the embedding samples of `drivers.camera.check`
catch the aligned swap.

Continuous motion (the print-swap test)
---------------------------------------
A head moving between two poses passes through the poses in between: a minimum-jerk
movement (how heads move to a target) spreads even a quick 0.2 s turn over three frames at
15 fps (21 %, 58 %, 21 % of its way). Prints swapped in front of the camera give the
opposite signature: runs of near-identical frames joined by jumps.

The pose step between consecutive frames is measured in challenge thresholds, each movement
on what only it changes: ``max(|d yaw| / turn_threshold, min(|d ln drop|, |d ln aspect|) /
pitch_threshold, min(|d ln eye|, |d ln drop|) / ln closer_ratio)``, with drop the nose's
distance below the eye line and eye the eye distance, in pixels (a turn shortens the eye line
and keeps the drop; a nod changes the drop and keeps the eye line; a step closer scales
both). A frame byte-identical to the previous one is a step of 0.

Frames are near-identical when their step is below `still_step` (0.3; the detector's own
jitter on a still face reaches 0.2) and below `jump_share` (0.3) of the jump beside them. A
jump is a step above `jump_step` (1.0 per `nominal_frame_s`, scaled with the real interval)
with `still_frames` near-identical steps before it and one after it; it ends the liveness
check as DISCONTINUOUS. Measured: a swapped print moves the pose by 1.3 to 2.9 thresholds in
one frame with only jitter (or nothing, for byte-identical frames) around it; generated head
movements of 0.2-0.53 s have frame steps below 1.0 except when the detector's response to the
rendered pose is uneven (bench/liveness.py: 3.5 % of genuine checks end so). Not claimed:
prints swapped through many intermediate poses, each step small against the jitter (a
flip-book, close to a video replay: see docs/face-check.md for what an RGB camera cannot
stop).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from drivers.camera.liveness import HeadPose
from drivers.camera.results import FaceBox, IdentityOutcome, LivenessOutcome
from drivers.camera.settings import FaceSettings

__all__ = ["FaceTrack", "TrackBreak", "iou", "pose_step"]


@dataclass(frozen=True, slots=True)
class TrackBreak:
    """Why the check cannot go on with this track: an identity or a liveness outcome."""

    outcome: IdentityOutcome | LivenessOutcome
    detail: str


def iou(a: FaceBox, b: FaceBox) -> float:
    """Intersection over union of two boxes (0 = apart, 1 = the same)."""
    x0, y0 = max(a.x, b.x), max(a.y, b.y)
    x1, y1 = min(a.x + a.w, b.x + b.w), min(a.y + a.h, b.y + b.h)
    inter = max(0, x1 - x0) * max(0, y1 - y0)
    union = a.area + b.area - inter
    return inter / union if union > 0 else 0.0


def pose_step(a: HeadPose, b: HeadPose, settings: FaceSettings) -> float:
    """The pose change from `a` to `b` in challenge thresholds (see the module docstring)."""
    s = settings
    yaw = abs(b.yaw - a.yaw) / s.turn_threshold
    aspect = abs(math.log(b.aspect / a.aspect))
    if a.eye_px <= 0 or b.eye_px <= 0:
        return max(yaw, aspect / s.pitch_threshold)
    eye = abs(math.log(b.eye_px / a.eye_px))
    drop = abs(math.log((b.eye_px / b.aspect) / (a.eye_px / a.aspect)))
    # each movement on what only it changes: a turn shortens the eye line and keeps the nose
    # drop (so neither a nod nor a step closer), a nod changes the drop and the aspect, a
    # step closer scales the eye line and the drop together
    nod = min(drop, aspect) / s.pitch_threshold
    closer = min(eye, drop) / math.log(s.closer_ratio)
    return max(yaw, nod, closer)


class FaceTrack:
    """Follows the face of one check. `feed` takes each frame's chosen face (None = none),
    its landmarks and pose, whether a second comparable face is in the frame, whether the
    frame is fresh (not a byte-for-byte repeat) and its time; it returns a `TrackBreak` once
    the track is broken (and keeps returning it), else None."""

    def __init__(self, settings: FaceSettings) -> None:
        self._s = settings
        self._box: FaceBox | None = None
        self._points: npt.NDArray[np.float64] | None = None
        self._pose: HeadPose | None = None
        self._seen_at = 0.0
        self._second = 0
        self._steps: list[float] = []  # the last pose steps (a still run is small ones)
        self._jump: float | None = None  # a jump seen after a still run, judged next frame
        self.broken: TrackBreak | None = None
        self.frames = 0  # face frames followed

    @property
    def started(self) -> bool:
        return self._box is not None

    def _break(self, outcome: IdentityOutcome | LivenessOutcome, detail: str) -> TrackBreak:
        self.broken = TrackBreak(outcome, detail)
        return self.broken

    def feed(
        self,
        face: FaceBox | None,
        points: npt.NDArray[np.float64] | None,
        pose: HeadPose | None,
        *,
        second_face: bool,
        fresh: bool,
        at: float,
    ) -> TrackBreak | None:
        if self.broken is not None:
            return self.broken
        s = self._s
        if face is None or points is None:
            self._second = 0
            if self.started and at - self._seen_at > s.track_lost_s:
                return self._break(
                    IdentityOutcome.TRACK_LOST, f"no face for {at - self._seen_at:.2f} s"
                )
            return None
        if self._box is None or self._points is None:
            self._take(face, points, pose, at)
            return None
        self._second = self._second + 1 if second_face else 0
        if self._second >= s.second_face_frames:
            return self._break(IdentityOutcome.SECOND_FACE, "a second face stayed in the frame")
        dt = max(at - self._seen_at, 0.0)
        slack = max(1.0, dt / s.nominal_frame_s)  # dropped frames allow proportionally more
        overlap = iou(self._box, face)
        if overlap < s.track_min_iou:
            return self._break(IdentityOutcome.TRACK_LOST, f"face box jumped (IoU {overlap:.2f})")
        eye = _eye_distance(self._points)
        moved = float(np.mean(np.linalg.norm(points - self._points, axis=1))) / max(eye, 1e-6)
        if moved > s.track_max_landmark_step * slack:
            return self._break(
                IdentityOutcome.TRACK_LOST, f"landmarks jumped {moved:.2f} eye distances"
            )
        if pose is not None and self._pose is not None:
            step = pose_step(self._pose, pose, s) if fresh else 0.0
            jump = self._jump
            if jump is not None and step < min(s.still_step, s.jump_share * jump):
                # near-identical frames, one jump, a near-identical frame: prints swapped
                return self._break(
                    LivenessOutcome.DISCONTINUOUS,
                    f"pose jumped {jump:.2f} thresholds between near-identical frames",
                )
            # a jump: larger than `jump_step`, and the `still_frames` steps before it are
            # near-identical frames (jitter, and small against it): a head that moves that
            # fast was already moving the frame before
            before = self._steps[-s.still_frames :]
            big = (
                step > s.jump_step * slack
                and len(before) >= s.still_frames
                and max(before) < min(s.still_step, s.jump_share * step)
            )
            self._jump = step if big else None
            self._steps.append(step)
            del self._steps[: -s.still_frames]
        self._take(face, points, pose, at)
        return None

    def _take(
        self,
        face: FaceBox,
        points: npt.NDArray[np.float64],
        pose: HeadPose | None,
        at: float,
    ) -> None:
        self._box, self._points, self._seen_at = face, np.array(points, dtype=np.float64), at
        if pose is not None:
            self._pose = pose
        self.frames += 1


def _eye_distance(points: npt.NDArray[np.float64]) -> float:
    p = np.asarray(points, dtype=np.float64).reshape(5, 2)
    return float(np.linalg.norm((p[0] + p[1]) / 2 - (p[2] + p[3]) / 2))
