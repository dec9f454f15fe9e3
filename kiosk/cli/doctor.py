"""`kiosk doctor`: the self-test a technician runs after installing or repairing a terminal."""

from __future__ import annotations

import typer

from kiosk.cli.common import load_or_exit
from kiosk.doctor import Verdict, run_checks

__all__ = ["register"]

_MARK = {Verdict.PASS: "PASS", Verdict.WARN: "WARN", Verdict.FAIL: "FAIL"}


def doctor(ctx: typer.Context) -> None:
    """Check every device, the journal, the broker and the production rules; exit 1 on a FAIL."""
    config = load_or_exit(ctx).config
    failed = 0
    for check in run_checks(config):
        typer.echo(f"{_MARK[check.verdict]}  {check.name:<12} {check.detail}")
        if check.verdict is not Verdict.PASS and check.hint:
            typer.echo(f"      {'':<12} -> {check.hint}")
        failed += check.verdict is Verdict.FAIL
    typer.echo(f"{failed} check(s) failed" if failed else "all checks passed")
    raise typer.Exit(1 if failed else 0)


def register(root: typer.Typer) -> None:
    root.command("doctor")(doctor)
