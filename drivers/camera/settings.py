"""The frozen settings the camera layer is built with (filled from [camera] and [face])."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["MIN_CHALLENGES", "FaceSettings", "SourceSettings"]

# The fewest liveness challenges any face check asks: with the five challenges, 3 in random order
# leave 54 orders a prepared recording must guess (docs/face-check.md); 2 would leave far fewer.
MIN_CHALLENGES = 3


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
    # a production terminal takes frames only from a camera device (kiosk/camera_access.py)
    devices_only: bool = False


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
    challenges: tuple[str, ...] = (
        "turn_left",
        "turn_right",
        "look_up",
        "look_down",
        "move_closer",
    )
    challenge_count: int = 3  # distinct challenges per check; at least one is a head turn
    # The fewest challenges an override (`FaceVerifier.check(challenges=...)`) may ask. The kiosk
    # config never lowers it; only a test studying one step's mechanics builds settings with less.
    min_challenges: int = MIN_CHALLENGES
    step_timeout: float = 6.0
    frontal_max: float = 0.08  # |yaw proxy| allowed for the frontal baseline
    baseline_frames: int = 2
    turn_threshold: float = 0.10  # yaw proxy change in the challenged direction
    hold_frames: int = 2  # fewest fresh frames a pose is held; each step draws its own hold
    hold_frames_max: int = 4  # ... up to this many (random holds)
    min_offset_per_foreshortening: float = 0.8
    pitch_threshold: float = 0.08  # relative change of the nose drop below the eye line (nod)
    nod_eye_tolerance: float = 0.08  # a nod keeps the eye distance within this fraction
    closer_ratio: float = 1.2  # eye distance growth that counts as "moved closer"
    seed: int | None = None  # fixed in tests; None = OS randomness
    # identity held throughout (see drivers.camera.track and drivers.camera.check)
    identity_threshold: float = 0.6  # frames sampled during the challenge (dlib's bound)
    track_min_iou: float = 0.3  # face boxes of consecutive frames overlap at least this much
    track_max_landmark_step: float = 0.5  # mean landmark move per frame, inter-ocular distances
    track_lost_s: float = 0.5  # no face for longer than this once tracked: the track is lost
    second_face_frames: int = 2  # consecutive frames with a second face that end the check
    # continuous motion (drivers.camera.track): near-identical frames joined by a jump
    still_step: float = 0.3  # a step below this (in thresholds) joins near-identical frames
    still_frames: int = 1  # near-identical steps before a jump (a swap after the baseline: 1)
    jump_step: float = 1.0  # pose step above this (thresholds per nominal frame) may be a jump
    jump_share: float = 0.3  # ... when the steps beside it are below this share of it
    nominal_frame_s: float = 1 / 15  # the frame interval the step bounds are stated for
