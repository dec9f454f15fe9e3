"""`kiosk camera check` and `kiosk face verify`: the camera and face commands of the CLI."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Annotated

import typer

from drivers.camera.errors import CameraError
from drivers.camera.frames import annotate, save_image
from drivers.camera.quality import assess
from drivers.camera.results import Challenge, QualityReason, QualityVerdict
from drivers.camera.settings import FaceSettings, SourceSettings
from drivers.camera.source import FrameSource
from kiosk.camera_access import camera_settings
from kiosk.cli.common import fail, load_or_exit

__all__ = ["EXIT_NOT_LIVE", "EXIT_NO_MATCH", "EXIT_QUALITY", "camera_app", "face_app", "register"]

camera_app = typer.Typer(help="Camera: frame source and face quality.", no_args_is_help=True)
face_app = typer.Typer(help="Face: 1:1 verification with liveness.", no_args_is_help=True)

# Exit status, stable for scripts (0 = success, 1 = camera or input error).
EXIT_QUALITY = 2
EXIT_NO_MATCH = 2
EXIT_NOT_LIVE = 3

SourceOpt = Annotated[
    str | None,
    typer.Option(
        "--source",
        "-s",
        help="Device index, video file or synthetic:<script>[:<photo>] (default: config).",
    ),
]
LangOpt = Annotated[str, typer.Option("--lang", help="Language of citizen messages: zh_CN, en.")]


def register(root: typer.Typer) -> None:
    """Add the `camera` and `face` groups to the root CLI."""
    root.add_typer(camera_app, name="camera")
    root.add_typer(face_app, name="face")


def _settings(ctx: typer.Context, source: str | None) -> tuple[SourceSettings, FaceSettings]:
    config = load_or_exit(ctx).config
    try:
        src = camera_settings(config, source)
    except CameraError as e:  # a generated or file source on a production terminal
        raise fail(f"camera error [{e.code.value}]: {e.detail}") from None
    return src, config.face.to_settings()


@camera_app.command("check")
def check(
    ctx: typer.Context,
    source: SourceOpt = None,
    snapshot: Annotated[
        Path | None, typer.Option("--snapshot", help="Save the last frame, annotated, here.")
    ] = None,
    frames: Annotated[int, typer.Option("--frames", min=1, help="Frames to judge.")] = 15,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds to wait per frame.")] = 5.0,
    lang: LangOpt = "zh_CN",
) -> None:
    """Open the source, print its frame rate and the face quality verdict.

    Exit 0 when the last frame passes every quality gate, 2 when it does not, 1 when the
    camera gives no frame.
    """
    src_settings, face_settings = _settings(ctx, source)
    from drivers.camera.detect import FaceDetector  # cv2 cascade only when the command runs

    try:
        detector = FaceDetector(face_settings)
    except CameraError as e:
        raise fail(f"face detector error [{e.code.value}]: {e}") from None
    cam = FrameSource(src_settings, name="check")
    cam.start()
    verdict: QualityVerdict | None = None
    last = None
    try:
        for frame in cam.frames(timeout=timeout, limit=frames):
            grey, faces = detector.detect(frame.image)
            verdict = assess(grey, faces, face_settings)
            last = frame
        stats = cam.stats()
    finally:
        cam.stop()
    if verdict is None or last is None:
        raise fail(f"camera error: no frame from {src_settings.source} ({stats.last_error})")
    typer.echo(f"source={src_settings.source} size={stats.size[0]}x{stats.size[1]}")
    typer.echo(
        f"fps={stats.fps:.1f} captured={stats.captured} dropped={stats.dropped} "
        f"invalid={stats.invalid} health={stats.health.value}"
    )
    typer.echo(
        f"quality={verdict.reason.value} faces={verdict.faces} width={verdict.face_width:.2f} "
        f"offcentre={verdict.offcentre:.2f} brightness={verdict.brightness:.0f} "
        f"sharpness={verdict.sharpness:.0f}"
    )
    typer.echo(f"message={verdict.message(lang)}")
    if snapshot is not None:
        try:
            save_image(snapshot, annotate(last.image, verdict))
        except CameraError as e:
            raise fail(f"snapshot error: {e}") from None
        typer.echo(f"snapshot={snapshot}")
    if not verdict.ok:
        raise typer.Exit(EXIT_QUALITY)


def _parse_challenges(text: str | None, source: str, least: int) -> tuple[Challenge, ...] | None:
    """The fixed challenges typed (the check refuses fewer than `least`), else a generated
    stream's own movements when it makes at least `least`, else None (drawn at random)."""
    if text:
        try:
            return tuple(Challenge(c.strip()) for c in text.split(",") if c.strip())
        except ValueError:
            hint = (
                " (blink is not offered: the 5-point landmark model has no eyelids)"
                if "blink" in text
                else ""
            )
            names = ", ".join(c.value for c in Challenge)
            raise fail(f"unknown challenge in {text!r}: use {names}{hint}") from None
    from drivers.camera.synthetic import script_challenges

    scripted = script_challenges(source)
    return scripted if scripted is not None and len(scripted) >= least else None


@face_app.command("verify")
def verify(
    ctx: typer.Context,
    reference: Annotated[
        Path, typer.Option("--reference", help="Reference photo (JPEG/PNG), e.g. card EF08.")
    ],
    source: SourceOpt = None,
    challenges: Annotated[
        str | None,
        typer.Option(
            "--challenges",
            help="Fixed challenges, comma separated (default: random; a synthetic turning "
            "source asks what it does).",
        ),
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Seed of the challenge order.")] = None,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds to wait per frame.")] = 5.0,
    lang: LangOpt = "zh_CN",
) -> None:
    """Verify the face in front of the camera against a reference photo, with a liveness
    challenge and the same face followed throughout. Prints match, distance, the liveness
    and identity outcomes. Exit 0 only on match, live and identity held; 2 no match, 3 not
    live or not the same face throughout, 1 camera or photo error (or a generated/file
    source on a production terminal)."""
    src_settings, face_settings = _settings(ctx, source)
    try:
        photo = reference.read_bytes()
    except OSError as e:
        raise fail(f"reference photo error: {e}") from None
    fixed = _parse_challenges(challenges, src_settings.source, face_settings.min_challenges)
    from drivers.camera.service import FaceVerifier  # dlib models only when the command runs

    if seed is None:
        seed = face_settings.seed
    try:
        verifier = FaceVerifier(face_settings, random.Random(seed) if seed is not None else None)
    except CameraError as e:
        raise fail(f"face model error [{e.code.value}]: {e}") from None

    def show(what: QualityReason | Challenge) -> None:
        typer.echo(f"prompt={what.value} ({what.message(lang)})")

    cam = FrameSource(src_settings, name="verify")
    cam.start()
    try:
        result = verifier.check(photo, cam.frames(timeout=timeout), challenges=fixed, prompt=show)
    except CameraError as e:
        raise fail(f"face error [{e.code.value}]: {e}") from None
    except ValueError as e:  # fewer fixed challenges than a check asks
        raise fail(f"face check refused: {e}") from None
    finally:
        cam.stop()
    match, live = result.match, result.liveness
    if match is None:
        typer.echo("match=none distance=none (no usable frontal face)")
    else:
        typer.echo(
            f"match={'yes' if match.match else 'no'} distance={match.distance:.3f} "
            f"threshold={match.threshold:.2f} frames={match.frames}"
        )
    if live is not None:
        asked = ",".join(c.value for c in live.challenges)
        typer.echo(
            f"liveness={live.outcome.value} challenges={asked} passed={live.passed_steps}"
            f" detail={live.detail}"
        )
    ident = result.identity
    if ident is not None:
        closing = "none" if ident.closing is None else f"{ident.closing:.3f}"
        typer.echo(
            f"identity={ident.outcome.value} samples={ident.samples} worst={ident.worst:.3f}"
            f" closing={closing}"
        )
    if result.passed:
        typer.echo("result=pass")
        return
    typer.echo(f"result=fail reason={result.reason} message={result.message(lang)}")
    if match is None or not match.match:
        raise typer.Exit(EXIT_NO_MATCH)
    raise typer.Exit(EXIT_NOT_LIVE)
