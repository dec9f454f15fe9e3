"""Generated camera streams for demos and tests: packaged face photos, framed like a kiosk
camera would see them, with scripted motion (head turns, nods and steps closer synthesised by
local warping, and the attacks: still photo, static replay, print rotated in plane, print
turned in depth, still prints swapped, a victim's photo followed by another person's head).

A source spec `synthetic:<script>[:<photo>]` becomes a short MJPG video in the temp folder,
played by `FrameSource` through a real `cv2.VideoCapture`. Photos are named ("astronaut" from
scikit-image, "grace_hopper" from Debian facedetect, "messi" from Debian opencv-doc) or a path.
Nothing is downloaded.
"""

from __future__ import annotations

import hashlib
import math
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from drivers.camera.detect import FaceDetector
from drivers.camera.errors import CameraUnavailableError, NoFaceError
from drivers.camera.results import Challenge, Image
from drivers.camera.settings import FaceSettings

__all__ = [
    "MOVES",
    "MOVE_CHALLENGES",
    "PHOTOS",
    "SCRIPTS",
    "Pose",
    "compose",
    "flat_turn",
    "head_turn",
    "load_photo",
    "parse_spec",
    "render_pose",
    "render_script",
    "rotate",
    "script_challenges",
    "script_poses",
    "write_synthetic_video",
    "zoom",
]

PHOTOS: dict[str, str] = {
    "grace_hopper": "/usr/share/doc/facedetect/examples/grace_hopper_512x512.jpg",
    "messi": "/usr/share/doc/opencv-doc/examples/data/messi5.jpg",
}
FRAME_W, FRAME_H = 640, 480
# The 5-point nose base sits about 0.6 inter-ocular distances in front of the eye plane on
# an adult head; the warp moves it by that lever times sin(theta).
NOSE_LEVER = 0.6


def load_photo(name: str) -> Image:
    """A packaged face photo by name ("astronaut", "grace_hopper", "messi") or a file path."""
    if name == "astronaut":
        try:
            from skimage import data  # dev extra; absent on a production terminal
        except ImportError:
            raise CameraUnavailableError(
                "photo 'astronaut' needs scikit-image", detail="pip install scikit-image"
            ) from None
        rgb = data.astronaut()  # type: ignore[no-untyped-call]
        return np.ascontiguousarray(rgb[:, :, ::-1], dtype=np.uint8)
    path = PHOTOS.get(name, name)
    img = cv2.imread(path, cv2.IMREAD_COLOR)
    if img is None:
        raise CameraUnavailableError("photo not found", detail=path)
    return np.asarray(img, dtype=np.uint8)


def default_photo() -> str:
    """The photo a bare `synthetic:<script>` uses: astronaut when scikit-image is installed."""
    try:
        import skimage  # noqa: F401
    except ImportError:
        return "grace_hopper"
    return "astronaut"


def compose(
    photo: Image,
    *,
    face_width: float = 0.32,
    centre: tuple[float, float] = (0.5, 0.5),
    light: float = 1.0,
    flip: bool = False,
    detector: FaceDetector | None = None,
) -> Image:
    """Frame `photo` as a 640x480 camera frame: the largest face scaled to `face_width` of the
    frame width and centred at `centre` (fractions), brightness times `light`, mirrored if
    `flip`. `NoFaceError` if the photo has no face."""
    det = detector or FaceDetector(FaceSettings(min_size_px=40))
    _, faces = det.detect(photo)
    if not faces:
        raise NoFaceError("no face in the photo")
    f = faces[0]
    s = face_width * FRAME_W / f.w
    cx, cy = f.centre
    m = np.array(
        [[s, 0.0, centre[0] * FRAME_W - s * cx], [0.0, s, centre[1] * FRAME_H - s * cy]],
        dtype=np.float64,
    )
    out = cv2.warpAffine(photo, m, (FRAME_W, FRAME_H), borderMode=cv2.BORDER_REPLICATE)
    if flip:
        out = cv2.flip(out, 1)
    if light != 1.0:
        out = cv2.convertScaleAbs(out, alpha=light, beta=0)
    return np.asarray(out, dtype=np.uint8)


def head_turn(image: Image, points: np.ndarray, theta: float, pitch: float = 0.0) -> Image:
    """Synthesise a 3-D head rotation from a frontal frame and its 5 landmarks: a turn by
    `theta` radians (+ = the subject's left) and a nod by `pitch` radians (+ = looking down).

    The face foreshortens along the eye axis by cos(theta) and across it by cos(pitch); the
    nose region moves off the eye midpoint by NOSE_LEVER * (sin(theta) along the eye axis,
    sin(pitch) across it) inter-ocular units, by a smooth local warp (`cv2.remap`)."""
    p = np.asarray(points, dtype=np.float64).reshape(5, 2)
    left, right = (p[0] + p[1]) / 2, (p[2] + p[3]) / 2
    e = float(np.linalg.norm(left - right))
    u = (left - right) / e
    v = np.array([-u[1], u[0]])  # across the eye axis
    mid = (left + right) / 2
    nose = p[4] - mid
    if float(nose @ v) < 0:
        v = -v  # v points from the eyes towards the nose (down the face)
    h, w = image.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    rel_x, rel_y = xx - mid[0], yy - mid[1]
    along = rel_x * u[0] + rel_y * u[1]
    down = rel_x * v[0] + rel_y * v[1]
    face_w = np.exp(-(rel_x**2 + rel_y**2) / (2 * (1.3 * e) ** 2))
    c, cp = math.cos(theta), math.cos(pitch)
    shrink = face_w * (along / c - along)  # sample further out: the face looks narrower
    squash = face_w * (down / cp - down)  # and shorter when it nods
    qx = xx + shrink * u[0] + squash * v[0]
    qy = yy + shrink * u[1] + squash * v[1]
    n_along, n_down = float(nose @ u), float(nose @ v)
    nose_out = mid + n_along * c * u + n_down * cp * v
    shift = NOSE_LEVER * e * (math.sin(theta) * u + math.sin(pitch) * v)
    tx, ty = nose_out + shift
    nose_w = np.exp(-((xx - tx) ** 2 + (yy - ty) ** 2) / (2 * (0.4 * e) ** 2))
    qx -= nose_w * shift[0]
    qy -= nose_w * shift[1]
    out = cv2.remap(
        image,
        qx.astype(np.float32),
        qy.astype(np.float32),
        cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )
    return np.asarray(out, dtype=np.uint8)


def zoom(image: Image, points: np.ndarray, factor: float) -> Image:
    """The citizen stepping closer: the frame scaled by `factor` about the face centre."""
    p = np.asarray(points, dtype=np.float64).reshape(5, 2)
    cx, cy = (float(v) for v in p.mean(axis=0))
    m = np.array([[factor, 0.0, cx * (1 - factor)], [0.0, factor, cy * (1 - factor)]])
    h, w = image.shape[:2]
    out = cv2.warpAffine(image, m, (w, h), borderMode=cv2.BORDER_REPLICATE)
    return np.asarray(out, dtype=np.uint8)


def flat_turn(image: Image, amount: float) -> Image:
    """A flat print turned in depth: perspective warp of the whole frame. `amount` in [-0.5,
    0.5]: the horizontal shrink; its sign says which edge comes nearer to the camera."""
    h, w = image.shape[:2]
    d = abs(amount) * w / 2
    pe = abs(amount) * h * 0.25  # the far edge gets shorter
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float32)
    if amount >= 0:
        dst = np.array([[d, pe], [w - d, 0], [w - d, h], [d, h - pe]], dtype=np.float32)
    else:
        dst = np.array([[d, 0], [w - d, pe], [w - d, h - pe], [d, h]], dtype=np.float32)
    m = cv2.getPerspectiveTransform(src, dst)
    out = cv2.warpPerspective(image, m, (w, h), borderMode=cv2.BORDER_REPLICATE)
    return np.asarray(out, dtype=np.uint8)


def rotate(image: Image, degrees: float) -> Image:
    """A print rotated in plane about the frame centre."""
    h, w = image.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    out = cv2.warpAffine(image, m, (w, h), borderMode=cv2.BORDER_REPLICATE)
    return np.asarray(out, dtype=np.uint8)


@dataclass(frozen=True, slots=True)
class Pose:
    """One scripted frame: head turn (rad, + = subject's left), nod (rad, + = down), in-plane
    rotation (deg), flat print turn, `zoom` (the face `1 + zoom` times larger: closer).
    `run` > 0: the frame repeats the previous one of the same run byte for byte (a still print
    in front of a camera that adds nothing). `other`: the second person's photo (an attacker
    taking over from the victim's photo)."""

    theta: float = 0.0
    roll: float = 0.0
    flat: float = 0.0
    pitch: float = 0.0
    zoom: float = 0.0
    run: int = 0
    other: bool = False


def _ramp(key: str, peak: float, n: int = 5, hold: int = 4, **extra: bool | int) -> list[Pose]:
    up = [peak * (i + 1) / n for i in range(n)]
    values = up + [peak] * hold + up[::-1][1:] + [0.0]
    return [Pose(**{key: v}, **extra) for v in values]  # type: ignore[arg-type]


_REST = [Pose()] * 4
TURN = 0.75  # rad, about 43 degrees: a clear but comfortable turn
NOD_UP = -0.35  # rad: looking up far shortens the nose drop fast and the face embeds worse
NOD_DOWN = 0.5  # rad: looking down grows the nose drop slowly (the face squashes too)
CLOSER = 0.35  # 35 % larger: a step towards the camera

# One movement each, from a frontal rest back to it: the parts "+"-joined scripts are made of.
MOVES: dict[str, list[Pose]] = {
    "turn-left": _REST + _ramp("theta", TURN),
    "turn-right": _REST + _ramp("theta", -TURN),
    "look-up": _REST + _ramp("pitch", NOD_UP),
    "look-down": _REST + _ramp("pitch", NOD_DOWN),
    "move-closer": _REST + _ramp("zoom", CLOSER),
}
MOVE_CHALLENGES: dict[str, Challenge] = {
    "turn-left": Challenge.TURN_LEFT,
    "turn-right": Challenge.TURN_RIGHT,
    "look-up": Challenge.LOOK_UP,
    "look-down": Challenge.LOOK_DOWN,
    "move-closer": Challenge.MOVE_CLOSER,
}


def _still(run: int, n: int = 6, **pose: float) -> list[Pose]:
    return [Pose(run=run, **pose)] * n  # type: ignore[arg-type]


SCRIPTS: dict[str, list[Pose]] = {
    "still": [Pose()] * 24,
    "static": [Pose()] * 24,
    **{name: poses + _REST for name, poses in MOVES.items()},
    "turn-left-right": _REST + _ramp("theta", TURN) + _REST + _ramp("theta", -TURN) + _REST,
    "turn-right-left": _REST + _ramp("theta", -TURN) + _REST + _ramp("theta", TURN) + _REST,
    "rotate": _REST + _ramp("roll", 12.0) + _REST + _ramp("roll", -12.0) + _REST,
    "print-turn": _REST + _ramp("flat", 0.35) + _REST + _ramp("flat", -0.35) + _REST,
    # issue 8: still prints swapped in front of the camera, each run byte-identical
    "print-swap": _still(1)
    + _still(2, theta=TURN)
    + _still(3)
    + _still(4, theta=-TURN)
    + _still(5),
    # issue 8: the victim's photo for the opening match, then the attacker's own head turning
    "mixed-identity": [Pose()] * 6
    + _ramp("theta", TURN, other=True)
    + [Pose(other=True)] * 4
    + _ramp("theta", -TURN, other=True)
    + [Pose(other=True)] * 6,
}


def script_poses(script: str) -> list[Pose]:
    """The poses of a named script, or of "+"-joined movements ("turn-left+look-up+...",
    each movement once, ending frontal); `CameraUnavailableError` for an unknown name."""
    if script in SCRIPTS:
        return SCRIPTS[script]
    parts = script.split("+")
    if len(parts) > 1 and all(p in MOVES for p in parts):
        return [pose for p in parts for pose in MOVES[p]] + _REST + _REST
    raise CameraUnavailableError("unknown synthetic script", detail=script)


def render_script(
    script: str,
    photo: Image,
    landmarks: Callable[[Image], np.ndarray],
    *,
    seed: int = 0,
    other: Image | None = None,
) -> list[Image]:
    """The frames of `script` for an already framed `photo` (see `compose`). `landmarks`
    gives the 5 points of a frontal frame; `other` is the second person's framed photo
    (scripts with `Pose.other`). Every script but "static" adds mild sensor noise (so frames
    differ like a real camera's); "static" repeats one frame byte for byte, as does a run."""
    poses = script_poses(script)
    if any(p.other for p in poses) and other is None:
        raise CameraUnavailableError("script needs a second photo", detail=script)
    points = landmarks(photo)
    other_points = landmarks(other) if other is not None else points
    rng = np.random.default_rng(seed)
    frames: list[Image] = []
    last_run = 0
    for pose in poses:
        if pose.run and pose.run == last_run:
            frames.append(frames[-1])
            continue
        last_run = pose.run
        noisy = script != "static"
        frames.append(render_pose(pose, photo, points, other, other_points, rng, noisy))
    return frames


def render_pose(
    pose: Pose,
    photo: Image,
    points: np.ndarray,
    other: Image | None = None,
    other_points: np.ndarray | None = None,
    rng: np.random.Generator | None = None,
    noise: bool = True,
) -> Image:
    """One frame of `pose` (see `render_script`); sensor noise sigma 1.5 unless `noise` is
    False or the pose is a still run."""
    img, pts = photo, points
    if pose.other and other is not None:
        img = other
        pts = other_points if other_points is not None else points
    if pose.theta or pose.pitch:
        img = head_turn(img, pts, pose.theta, pose.pitch)
    if pose.zoom:
        img = zoom(img, pts, 1.0 + pose.zoom)
    if pose.roll:
        img = rotate(img, pose.roll)
    if pose.flat:
        img = flat_turn(img, pose.flat)
    if noise and not pose.run:
        gen = rng if rng is not None else np.random.default_rng(0)
        grain = gen.normal(0.0, 1.5, img.shape)
        img = np.clip(img.astype(np.float64) + grain, 0, 255).astype(np.uint8)
    return img


def parse_spec(spec: str) -> tuple[str, str]:
    """`synthetic:<script>[:<photo>]` -> (script, photo name or path). The photo of a
    two-person script is "<victim>+<attacker>" (default: the default photo, then the other
    packaged person)."""
    parts = spec.split(":", 2)
    if len(parts) < 2 or parts[0] != "synthetic" or not parts[1]:
        raise CameraUnavailableError("bad synthetic source", detail=spec)
    script = parts[1]
    photo = parts[2] if len(parts) == 3 and parts[2] else default_photo()
    if any(p.other for p in script_poses(script)) and "+" not in photo:
        photo += "+" + ("grace_hopper" if photo != "grace_hopper" else "astronaut")
    return script, photo


def write_synthetic_video(spec: str, *, fps: float = 15.0, folder: Path | None = None) -> Path:
    """Render `spec` to an MJPG .avi (cached by spec in the temp folder) and return its path."""
    script, photo_name = parse_spec(spec)
    # the key covers this module's code, so a changed script never replays a stale video
    code = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()
    key = hashlib.sha256(f"{spec}|{fps}|{code}".encode()).hexdigest()[:16]
    out_dir = folder or Path(tempfile.gettempdir()) / "kiosk-synthetic"
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{script}-{key}.avi"
    if path.is_file():
        return path
    from drivers.camera.verify import FaceEmbedder  # dlib only when a stream is generated

    settings = FaceSettings()
    detector = FaceDetector(settings)
    embedder = FaceEmbedder(settings)

    def points(img: Image) -> np.ndarray:
        _, faces = detector.detect(img)
        if not faces:
            raise NoFaceError("no face in the framed photo")
        return embedder.landmarks(img, faces[0])

    names = photo_name.split("+", 1)
    framed = compose(load_photo(names[0]))
    second = compose(load_photo(names[1])) if len(names) == 2 else None
    frames = render_script(script, framed, points, other=second)
    tmp = path.with_suffix(f".{os.getpid()}.part.avi")  # parallel test workers may race
    writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter.fourcc(*"MJPG"), fps, (FRAME_W, FRAME_H))
    if not writer.isOpened():
        raise CameraUnavailableError("cannot write synthetic video", detail=str(tmp))
    for f in frames:
        writer.write(f)
    writer.release()
    tmp.replace(path)
    return path


def script_challenges(spec: str) -> tuple[Challenge, ...] | None:
    """The challenges a generated stream can answer, in its order (None if it moves no way).
    A recorded stream cannot follow a random prompt; the demo asks what the script does."""
    if classify(spec) != "synthetic":
        return None
    script, _ = parse_spec(spec)
    order = {
        "turn-left-right": (Challenge.TURN_LEFT, Challenge.TURN_RIGHT),
        "turn-right-left": (Challenge.TURN_RIGHT, Challenge.TURN_LEFT),
        "mixed-identity": (Challenge.TURN_LEFT, Challenge.TURN_RIGHT),
        "print-swap": (Challenge.TURN_LEFT, Challenge.TURN_RIGHT),
    }
    if script in order:
        return order[script]
    parts = script.split("+")
    if all(p in MOVE_CHALLENGES for p in parts):
        return tuple(MOVE_CHALLENGES[p] for p in parts)
    return None


def classify(spec: str) -> str:
    """ "synthetic" for a generated stream spec, else "other"."""
    return "synthetic" if spec.startswith("synthetic:") else "other"
