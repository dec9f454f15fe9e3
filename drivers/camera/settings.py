"""The frozen settings the camera layer is built with (filled from [camera] and [face])."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FaceSettings", "SourceSettings"]


@dataclass(frozen=True, slots=True)
class SourceSettings:
    """Frame source settings; all durations in seconds.

    `source` is a device index ("0"), a video file path, or a generated stream
    (`synthetic:<script>[:<photo>]`, see `drivers.camera.synthetic`).
    """

    source: str = "0"
    width: int = 640
    height: int = 480
    # consecutive failed reads before the device counts as gone (a USB camera pulled out
    # returns False from read() at once; one glitch must not drop the session)
    max_failed_reads: int = 5
    reconnect_initial: float = 0.5
    reconnect_max: float = 10.0
    reconnect_factor: float = 2.0
    # files play at their own frame rate (as a camera would); 0 = as fast as they decode
    pace_files: bool = True
    loop_files: bool = True
    synthetic_fps: float = 15.0


@dataclass(frozen=True, slots=True)
class FaceSettings:
    """Detection, quality gates, verification and liveness settings.

    Fractions are of the frame width/height; brightness is the mean grey level 0-255 of the
    face crop; sharpness is the variance of the Laplacian of the face crop scaled to 128x128 px
    (after a 3x3 Gaussian).
    """

    # detection: Haar alt2 found all three test faces with no false positive at 9-12 ms per
    # 640x480 frame (LBP: 3-4 ms but missed messi5; default: a false positive), see bench
    cascade: str = "haarcascade_frontalface_alt2.xml"
    scale_factor: float = 1.2
    min_neighbors: int = 5
    min_size_px: int = 80
    equalize: bool = True
    # quality gates
    min_face_width: float = 0.14  # below: too far
    max_face_width: float = 0.65  # above: too close
    max_offcentre: float = 0.22  # face centre to frame centre, fraction of frame size
    min_brightness: float = 60.0
    max_brightness: float = 200.0
    min_sharpness: float = 30.0
    several_faces_min_width: float = 0.6  # a second face this big (vs the largest) counts
    # verification: dlib ResNet distance; 0.6 is dlib's "same person" bound, 0.5 trades a few
    # false rejects for fewer false accepts (dlib reports 99.38 % on LFW at 0.6)
    match_threshold: float = 0.5
    verify_frames: int = 3  # median distance over this many good frames
    # liveness (see drivers.camera.liveness for why these measures)
    challenges: tuple[str, ...] = ("turn_left", "turn_right")
    challenge_count: int = 2
    step_timeout: float = 6.0
    frontal_max: float = 0.08  # |yaw proxy| allowed for the frontal baseline
    baseline_frames: int = 2
    turn_threshold: float = 0.10  # yaw proxy change in the challenged direction
    hold_frames: int = 2
    min_offset_per_foreshortening: float = 1.0
    seed: int | None = None  # fixed in tests; None = OS randomness
