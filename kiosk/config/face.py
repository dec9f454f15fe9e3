"""Face section [face]: detection, quality gates, 1:1 match and liveness (identity check)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from drivers.camera.settings import FaceSettings
from kiosk.config.base import ConfigSection

__all__ = ["FaceConfig"]

ChallengeName = Literal["turn_left", "turn_right", "look_up", "look_down", "move_closer"]


class FaceConfig(ConfigSection):
    """Face detection, quality gates, verification threshold and the liveness challenge.

    Fractions are of the frame width; brightness is the face crop's mean grey (0-255);
    sharpness the Laplacian variance of the face crop at 128x128 px; durations in seconds.
    """

    cascade: str = Field(
        "haarcascade_frontalface_alt2.xml",
        title="Face detector cascade",
        description="File in cv2.data.haarcascades, /usr/share/opencv4/lbpcascades, or a path.",
    )
    scale_factor: float = Field(1.2, gt=1.0, le=2.0, title="Cascade scale step")
    min_neighbors: int = Field(5, ge=1, le=20, title="Cascade minNeighbors")
    min_size_px: int = Field(80, ge=20, le=1000, title="Smallest face searched (px)")
    equalize: bool = Field(True, title="Equalise the histogram before detection")
    min_face_width: float = Field(0.14, gt=0, lt=1, title="Below this face width: too far")
    max_face_width: float = Field(0.65, gt=0, le=1, title="Above this face width: too close")
    max_offcentre: float = Field(0.22, gt=0, le=0.5, title="Largest face-centre offset")
    min_brightness: float = Field(60.0, ge=0, le=255, title="Below: too dark")
    max_brightness: float = Field(200.0, ge=0, le=255, title="Above: too bright")
    min_sharpness: float = Field(30.0, ge=0, title="Below: blurred")
    several_faces_min_width: float = Field(
        0.6, gt=0, le=1, title="A second face at least this wide (vs the largest) is refused"
    )
    match_threshold: float = Field(
        0.5, gt=0, lt=2, title="Embedding distance below which faces match (dlib: 0.6)"
    )
    verify_frames: int = Field(3, ge=1, le=20, title="Good frames compared (median distance)")
    challenges: tuple[ChallengeName, ...] = Field(
        ("turn_left", "turn_right", "look_up", "look_down", "move_closer"),
        min_length=3,
        title="Liveness challenges drawn from",
        description="What the 5-point landmarks support: head turns, nods, moving closer. Blink "
        "is not offered: the 5-point model has no eyelids (the 68-point model may not ship; "
        "MediaPipe is not installed). Each draw holds at least one head turn.",
    )
    challenge_count: int = Field(
        3, ge=3, le=6, title="Challenges asked per check (distinct while the pool allows)"
    )
    step_timeout_s: float = Field(6.0, gt=0, le=60, title="Time limit of one challenge")
    frontal_max: float = Field(0.08, gt=0, le=0.5, title="Yaw proxy allowed as 'frontal'")
    baseline_frames: int = Field(2, ge=1, le=30, title="Frontal frames before a challenge")
    turn_threshold: float = Field(0.10, gt=0, le=1, title="Yaw proxy change that counts as a turn")
    hold_frames: int = Field(2, ge=1, le=30, title="Fewest fresh frames a movement is held")
    hold_frames_max: int = Field(
        4, ge=1, le=30, title="Most fresh frames a movement is held (each step draws its hold)"
    )
    min_offset_per_foreshortening: float = Field(
        0.8, ge=0, le=20, title="Nose travel per eye-line foreshortening (3-D check)"
    )
    pitch_threshold: float = Field(
        0.08, gt=0, le=1, title="Relative nose-drop change that counts as a nod (look up/down)"
    )
    nod_eye_tolerance: float = Field(
        0.08, gt=0, le=0.5, title="Eye-distance change a nod may have (else it is a turn)"
    )
    closer_ratio: float = Field(
        1.2, gt=1, le=3, title="Eye-distance growth that counts as moving closer"
    )
    identity_threshold: float = Field(
        0.6, gt=0, lt=2, title="Largest distance of frames sampled during the challenge"
    )
    track_min_iou: float = Field(
        0.3, ge=0, le=1, title="Face box overlap of consecutive frames (one face followed)"
    )
    track_max_landmark_step: float = Field(
        0.5, gt=0, le=5, title="Largest landmark move per frame (inter-ocular distances)"
    )
    track_lost_s: float = Field(0.5, gt=0, le=10, title="No face this long: the track is lost")
    second_face_frames: int = Field(
        2, ge=1, le=30, title="Frames with a second face that end the check"
    )
    still_step: float = Field(
        0.3, gt=0, le=5, title="Pose step (thresholds) below which frames are near-identical"
    )
    still_frames: int = Field(1, ge=1, le=30, title="Near-identical steps before a jump")
    jump_step: float = Field(
        1.0, gt=0, le=10, title="Pose step (thresholds per 1/15 s) that may be a print swap"
    )
    jump_share: float = Field(
        0.3, gt=0, lt=1, title="A jump has steps beside it below this share of it"
    )
    max_attempts_per_session: int = Field(
        3, ge=1, le=20, title="Face checks one session may start (kiosk.face_attempts)"
    )
    max_failures_per_card: int = Field(
        5, ge=1, le=100, title="Failed face checks per card within the window"
    )
    card_failure_window_s: float = Field(
        86400.0, gt=0, le=30 * 86400, title="Window of the per-card failure count"
    )
    seed: int | None = Field(None, title="Fixed challenge order seed (tests only)")

    def to_settings(self) -> FaceSettings:
        """The frozen settings the face layer takes."""
        return FaceSettings(
            cascade=self.cascade,
            scale_factor=self.scale_factor,
            min_neighbors=self.min_neighbors,
            min_size_px=self.min_size_px,
            equalize=self.equalize,
            min_face_width=self.min_face_width,
            max_face_width=self.max_face_width,
            max_offcentre=self.max_offcentre,
            min_brightness=self.min_brightness,
            max_brightness=self.max_brightness,
            min_sharpness=self.min_sharpness,
            several_faces_min_width=self.several_faces_min_width,
            match_threshold=self.match_threshold,
            verify_frames=self.verify_frames,
            challenges=tuple(self.challenges),
            challenge_count=self.challenge_count,
            step_timeout=self.step_timeout_s,
            frontal_max=self.frontal_max,
            baseline_frames=self.baseline_frames,
            turn_threshold=self.turn_threshold,
            hold_frames=self.hold_frames,
            hold_frames_max=max(self.hold_frames, self.hold_frames_max),
            min_offset_per_foreshortening=self.min_offset_per_foreshortening,
            pitch_threshold=self.pitch_threshold,
            nod_eye_tolerance=self.nod_eye_tolerance,
            closer_ratio=self.closer_ratio,
            seed=self.seed,
            identity_threshold=self.identity_threshold,
            track_min_iou=self.track_min_iou,
            track_max_landmark_step=self.track_max_landmark_step,
            track_lost_s=self.track_lost_s,
            second_face_frames=self.second_face_frames,
            still_step=self.still_step,
            still_frames=self.still_frames,
            jump_step=self.jump_step,
            jump_share=self.jump_share,
        )
