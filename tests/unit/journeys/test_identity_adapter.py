"""The journeys' face adapter asks a generated stream what it does, never fewer challenges than
the policy's count (at least 3): a stream of fewer movements is asked nothing (the verifier
draws its own, and the stream then fails)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, cast

import pytest

from drivers.camera.errors import NoFaceError
from drivers.camera.results import Challenge, Frame
from drivers.camera.service import FaceVerifier
from drivers.camera.settings import FaceSettings, SourceSettings
from drivers.camera.source import FrameSource
from kiosk.journeys.adapters.identity import CameraAndScanner, ReferenceSource
from kiosk.session.events import FaceFailed

THREE = (Challenge.TURN_LEFT, Challenge.LOOK_UP, Challenge.TURN_RIGHT)


class _Verifier:
    """Records the fixed challenges each live check is given, then finds no face."""

    def __init__(self) -> None:
        self.asked: list[tuple[Challenge, ...] | None] = []

    def check_live(
        self, frames: Iterable[Frame], *, challenges: tuple[Challenge, ...] | None = None
    ) -> Any:
        self.asked.append(challenges)
        raise NoFaceError("no face in the test")


class _Camera:
    def frames(self, timeout: float) -> Iterator[Frame]:
        return iter(())


@pytest.mark.parametrize(
    ("source", "count", "expected"),
    [
        ("synthetic:turn-left+look-up+turn-right", 3, THREE),
        ("synthetic:turn-left+look-up+turn-right+look-down", 3, THREE),  # its first three
        ("synthetic:turn-left-right", 3, None),  # two movements: not asked two
        ("synthetic:turn-left+look-up+turn-right", 4, None),
        ("synthetic:turn-left-right", 2, None),  # a count below 3 is raised to 3
        ("synthetic:turn-left+look-up+turn-right", 1, THREE),
        ("synthetic:still", 3, None),
        ("0", 3, None),  # a real camera: the verifier draws at random
    ],
)
def test_a_stream_is_asked_its_movements_only_when_it_makes_enough(
    source: str, count: int, expected: tuple[Challenge, ...] | None
) -> None:
    verifier = _Verifier()
    adapter = CameraAndScanner(
        SourceSettings(source=source),
        FaceSettings(),
        None,
        ReferenceSource(),
        verifier=cast(FaceVerifier, verifier),
        camera=cast(FrameSource, _Camera()),
    )
    assert isinstance(adapter.capture_live_face(1, count), FaceFailed)
    assert verifier.asked == [expected]
