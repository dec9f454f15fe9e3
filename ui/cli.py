"""The touchscreen's commands of the `kiosk` CLI: `kiosk ui` (the app with the core), `kiosk
screenshots` and `kiosk demo-screens`.

The ui package adds them through the entry point group `kiosk.commands` (pyproject.toml), which
kiosk/cli/main.py reads: kiosk itself never names ui. Kivy is imported inside the commands only,
so every other command starts without it (tests/ui/test_host.py).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from kiosk.cli.common import load_or_exit
from kiosk.config import ConfigError, load_config

__all__ = ["register"]


def screenshots(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option(help="Folder for one PNG per screen.")],
    lang: Annotated[str, typer.Option(help="zh_CN or en.")] = "zh_CN",
    elderly: Annotated[bool, typer.Option(help="Large print (elderly mode).")] = False,
) -> None:
    """Render every screen with demo data offscreen and write PNGs (no display needed)."""
    if lang not in ("zh_CN", "en"):
        raise typer.BadParameter("--lang must be zh_CN or en")
    cfg = load_or_exit(ctx).config.ui
    from kiosk.preview import StillPreview
    from ui.screenshots import take_screenshots

    written = take_screenshots(cfg, out.resolve(), language=lang, elderly=elderly,
                               preview=StillPreview())
    typer.echo(f"wrote {len(written)} screens to {out}")


def ui(
    ctx: typer.Context,
    offscreen: Annotated[bool, typer.Option(help="Render offscreen (tests, no display).")] = False,
) -> None:
    """Run the touchscreen with the core: devices, agent and session on their own threads."""
    from kiosk.cli.common import CliState

    state: CliState = ctx.ensure_object(CliState)
    try:
        loaded = load_config(state.config_path, profile=state.profile)
    except ConfigError as e:
        # An invalid config must not crash-loop under systemd: the panel says out of service.
        from kiosk.config.ui import UiConfig
        from ui.host import run_out_of_service

        code = run_out_of_service(UiConfig.model_validate({}), str(e), offscreen=offscreen)
        raise typer.Exit(code) from None
    from kiosk.logs import setup_logging
    from ui.host import run_kiosk

    setup_logging(loaded.config.logging)
    raise typer.Exit(run_kiosk(loaded, offscreen=offscreen, config_path=state.config_path,
                               profile=state.profile))


def demo_screens(
    out: Annotated[Path, typer.Option(help="Folder for a PNG of every screen shown.")] = Path(
        "var/demo/screens"),
    window: Annotated[bool, typer.Option(help="Show the journeys in a window.")] = False,
    once: Annotated[bool, typer.Option(help="Stop after the journeys and the agent's start.")]
    = False,
    state_dir: Annotated[
        Path | None, typer.Option(help="Where the demo keeps its state (default var/demo).")
    ] = None,
) -> None:
    """The demo (broker, central, emulated card, scanner, camera) with its journeys on the
    touchscreen: in a window when there is a display, else offscreen; a PNG of every screen."""
    from kiosk.config import load_config as load
    from kiosk.demo import DemoError, DemoOptions, run_demo
    from ui.journey_screens import JourneyScreens

    recorder = JourneyScreens(load(profile="demo").config.ui, out.resolve(), offscreen=not window)
    try:
        opts = DemoOptions(once=once, journey_runner=recorder)
        if state_dir is not None:
            opts = replace(opts, state_dir=state_dir.resolve())
        code = run_demo(opts, typer.echo)
    except DemoError as e:
        typer.echo(f"demo: {e}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"wrote {len(recorder.written)} screens of the journeys to {out}")
    raise typer.Exit(code)


def register(root: typer.Typer) -> None:
    root.command("ui")(ui)
    root.command("screenshots")(screenshots)
    root.command("demo-screens")(demo_screens)
