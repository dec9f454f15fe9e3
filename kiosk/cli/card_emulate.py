"""`kiosk card emulate`: run the card emulator in the foreground (demo; owned by the emulator)."""

from __future__ import annotations

import typer

from drivers.card.emulator import ProfileError, list_profiles
from drivers.card.emulator.harness import HarnessError
from drivers.card.emulator.runner import EmulatorRun, run_foreground
from kiosk.cli import card as card_cli
from kiosk.cli.common import fail, load_or_exit

__all__ = ["emulate_cmd", "register"]


def emulate_cmd(
    ctx: typer.Context,
    profile: str = typer.Option("ssc2", "--profile", help="Card profile (see --list)."),
    slot: int = typer.Option(0, "--slot", min=0, max=1, help="Reader slot of the card."),
    port: int | None = typer.Option(None, "--port", help="vpcd port of slot 0 (config default)."),
    psam: bool = typer.Option(False, "--psam", help="Also insert the test PSAM in slot 1."),
    pcscd: bool = typer.Option(
        True, "--pcscd/--no-pcscd", help="Start a private pcscd (root) or join a running vpcd."
    ),
    lenient: bool = typer.Option(False, "--lenient", help="Answer without 61xx/6Cxx."),
    list_only: bool = typer.Option(False, "--list", help="List the profiles and exit."),
) -> None:
    """Run the emulated card reader until Ctrl-C: pcscd -> vpcd -> this emulator."""
    if list_only:
        for name in list_profiles():
            typer.echo(name)
        return
    if profile not in list_profiles():
        raise fail(f"unknown profile {profile!r}; profiles: {', '.join(list_profiles())}")
    if psam and slot == 1:
        raise fail("--psam uses slot 1: put the card in slot 0")
    cfg = load_or_exit(ctx).config.card_emulator
    run = EmulatorRun(
        profile=profile,
        slot=slot,
        port=port or cfg.port,
        psam=psam,
        with_pcscd=pcscd,
        isolate=cfg.isolate,
        netns=cfg.netns,
        t0_strict=not lenient,
        latency_s=cfg.latency_s,
        silence_s=cfg.silence_s,
        absent_s=cfg.absent_s,
        retry_s=cfg.retry_s,
        start_timeout_s=cfg.pcscd_start_timeout_s,
    )
    try:
        run_foreground(run, typer.echo)
    except (HarnessError, ProfileError, OSError) as exc:
        raise fail(f"card emulator: {exc}") from None


def register(root: typer.Typer) -> None:
    """Adds `emulate` to the `card` group defined in kiosk.cli.card."""
    card_cli.app.command("emulate")(emulate_cmd)
