"""Generated camera streams for demos and tests: packaged face photos, framed like a kiosk
camera would see them, with scripted motion (head turns synthesised by local warping, and the
attacks: still photo, static replay, print rotated in plane, print turned in depth).

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
    "PHOTOS",
    "SCRIPTS",
    "Pose",
    "compose",
    "flat_turn",
    "head_turn",
    "load_photo",
    "parse_spec",
    "render_script",
    "rotate",
    "script_challenges",
    "write_synthetic_video",
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


def head_turn(image: Image, points: np.ndarray, theta: float) -> Image:
    """Synthesise a 3-D head turn by `theta` radians (+ = the subject's left) from a frontal
    frame and its 5 landmarks: the face foreshortens along the eye axis by cos(theta) and the
    nose region moves across the eye midpoint by NOSE_LEVER * sin(theta) inter-ocular units,
    by a smooth local warp (`cv2.remap`)."""
    p = np.asarray(points, dtype=np.float64).reshape(5, 2)
    left, right = (p[0] + p[1]) / 2, (p[2] + p[3]) / 2
    e = float(np.linalg.norm(left - right))
    u = (left - right) / e
    mid = (left + right) / 2
    h, w = image.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    rel_x, rel_y = xx - mid[0], yy - mid[1]
    along = rel_x * u[0] + rel_y * u[1]
    face_w = np.exp(-(rel_x**2 + rel_y**2) / (2 * (1.3 * e) ** 2))
    c = math.cos(theta)
    shrink = face_w * (along / c - along)  # sample further out: the face looks narrower
    qx, qy = xx + shrink * u[0], yy + shrink * u[1]
    nose = p[4] - mid
    n_along = float(nose @ u)
    nose_out = mid + nose - n_along * u + n_along * c * u
    shift = NOSE_LEVER * math.sin(theta) * e
    tx, ty = nose_out + shift * u
    nose_w = np.exp(-((xx - tx) ** 2 + (yy - ty) ** 2) / (2 * (0.4 * e) ** 2))
    qx -= nose_w * shift * u[0]
    qy -= nose_w * shift * u[1]
    out = cv2.remap(
        image,
        qx.astype(np.float32),
        qy.astype(np.float32),
        cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )
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
    """One scripted frame: head turn (rad), in-plane rotation (deg), flat print turn."""

    theta: float = 0.0
    roll: float = 0.0
    flat: float = 0.0


def _ramp(key: str, peak: float, n: int = 5, hold: int = 4) -> list[Pose]:
    up = [peak * (i + 1) / n for i in range(n)]
    values = up + [peak] * hold + up[::-1][1:] + [0.0]
    return [Pose(**{key: v}) for v in values]


_REST = [Pose()] * 4
TURN = 0.75  # rad, about 43 degrees: a clear but comfortable turn
SCRIPTS: dict[str, list[Pose]] = {
    "still": [Pose()] * 24,
    "static": [Pose()] * 24,
    "turn-left": _REST + _ramp("theta", TURN) + _REST,
    "turn-right": _REST + _ramp("theta", -TURN) + _REST,
    "turn-left-right": _REST + _ramp("theta", TURN) + _REST + _ramp("theta", -TURN) + _REST,
    "turn-right-left": _REST + _ramp("theta", -TURN) + _REST + _ramp("theta", TURN) + _REST,
    "rotate": _REST + _ramp("roll", 12.0) + _REST + _ramp("roll", -12.0) + _REST,
    "print-turn": _REST + _ramp("flat", 0.35) + _REST + _ramp("flat", -0.35) + _REST,
}


def render_script(
    script: str,
    photo: Image,
    landmarks: Callable[[Image], np.ndarray],
    *,
    seed: int = 0,
) -> list[Image]:
    """The frames of `script` for an already framed `photo` (see `compose`). `landmarks`
    gives the 5 points of the frontal frame. Every script but "static" adds mild sensor noise
    (so frames differ like a real camera's); "static" repeats one frame byte for byte."""
    if script not in SCRIPTS:
        raise CameraUnavailableError("unknown synthetic script", detail=script)
    points = landmarks(photo)
    rng = np.random.default_rng(seed)
    frames: list[Image] = []
    for pose in SCRIPTS[script]:
        img = photo
        if pose.theta:
            img = head_turn(img, points, pose.theta)
        if pose.roll:
            img = rotate(img, pose.roll)
        if pose.flat:
            img = flat_turn(img, pose.flat)
        if script != "static":
            noise = rng.normal(0.0, 1.5, img.shape)
            img = np.clip(img.astype(np.float64) + noise, 0, 255).astype(np.uint8)
        frames.append(img)
    return frames


def parse_spec(spec: str) -> tuple[str, str]:
    """`synthetic:<script>[:<photo>]` -> (script, photo name or path)."""
    parts = spec.split(":", 2)
    if len(parts) < 2 or parts[0] != "synthetic" or not parts[1]:
        raise CameraUnavailableError("bad synthetic source", detail=spec)
    return parts[1], parts[2] if len(parts) == 3 and parts[2] else default_photo()


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

    framed = compose(load_photo(photo_name))
    frames = render_script(script, framed, points)
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
    """The challenges a generated stream can answer, in its order (None if it turns no way).
    A recorded stream cannot follow a random prompt; the demo asks what the script does."""
    if classify(spec) != "synthetic":
        return None
    script, _ = parse_spec(spec)
    order = {
        "turn-left": (Challenge.TURN_LEFT,),
        "turn-right": (Challenge.TURN_RIGHT,),
        "turn-left-right": (Challenge.TURN_LEFT, Challenge.TURN_RIGHT),
        "turn-right-left": (Challenge.TURN_RIGHT, Challenge.TURN_LEFT),
    }
    return order.get(script)


def classify(spec: str) -> str:
    """ "synthetic" for a generated stream spec, else "other"."""
    return "synthetic" if spec.startswith("synthetic:") else "other"
