"""``corespond triage replay``: how a policy would have routed a file of past calls."""

import sys
from pathlib import Path

import click

from services.common.policy_files import (
    DEFAULT_POLICY_DIR,
    PolicyFileError,
    load_policy_dir,
    load_policy_file,
)
from services.triage.app.evaluate import Scores, evaluate
from services.triage.app.replay import BadLine, Summary, replay


@click.group()
def triage() -> None:
    """Triage tools."""


@triage.command("replay")
@click.argument("calls_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--policy",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A (draft) policy file replacing its jurisdiction's policy.",
)
@click.option("--jurisdiction", help="Decide every call under this jurisdiction.")
@click.option(
    "--policy-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_POLICY_DIR,
    show_default=True,
)
@click.option(
    "--expect",
    is_flag=True,
    help='Score the decisions against each line\'s "expected" label: safety misses, '
    "deflection misses, priority accuracy, flag recall (exit 1 on a safety miss).",
)
@click.option(
    "--diff",
    "other_policy",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Also decide every call under this policy file (whatever the call's jurisdiction) "
    "and list the calls whose roles, priority or flags it moves.",
)
def replay_cmd(
    calls_file: Path,
    policy: Path | None,
    jurisdiction: str | None,
    policy_dir: Path,
    expect: bool,
    other_policy: Path | None,
) -> None:
    """Decide each call of CALLS_FILE (JSON lines); decisions to stdout, summary to stderr.

    Exit status: 0 if every line was decided, 1 if any line was bad (or, with
    --expect, any safety miss), 2 for usage errors.
    """
    try:
        book = load_policy_dir(policy_dir)
        if policy:
            book = book.with_policy(load_policy_file(policy, named_for_jurisdiction=False))
        other = (
            load_policy_file(other_policy, named_for_jurisdiction=False) if other_policy else None
        )
    except PolicyFileError as exc:
        raise click.UsageError(str(exc)) from exc
    summary = Summary()
    scores = Scores()
    moved: list[str] = []
    failed = unlabelled = 0
    with calls_file.open() as lines:
        for outcome in replay(lines, book, jurisdiction, other):
            if isinstance(outcome, BadLine):
                failed += 1
                click.echo(f"{calls_file}:{outcome.line}: {outcome.error}", err=True)
                continue
            click.echo(outcome.as_json())
            summary.add(outcome.decision)
            if expect and outcome.call is not None:
                if outcome.expected is None:
                    unlabelled += 1
                else:
                    call_id = str(outcome.call_id or f"line {outcome.line}")
                    scores.add(call_id, outcome.call, outcome.expected, outcome.decision)
            change = outcome.moved()
            if change:
                moved.append(f"  {outcome.call_id or f'line {outcome.line}'}: {change}")
    click.echo(summary.render(failed), err=True)
    if other_policy:
        click.echo(f"\ncalls moved by {other_policy}: {len(moved)}", err=True)
        for line in moved:
            click.echo(line, err=True)
    if expect:
        click.echo("\n" + scores.render(), err=True)
        if unlabelled:
            click.echo(f"lines without an expected label (not scored): {unlabelled}", err=True)
    sys.exit(1 if failed or (expect and scores.safety_misses) else 0)


@triage.command("evaluate")
@click.argument("corpus", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--policy-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_POLICY_DIR,
    show_default=True,
)
@click.option("--show-misses", is_flag=True, help="List every field the engine got wrong.")
def evaluate_cmd(corpus: Path, policy_dir: Path, show_misses: bool) -> None:
    """Score triage against a labelled corpus (JSON lines with "expected"): accuracy by field.

    Exit status 1 if any call lost a responder that safety needs (police, EMT, naloxone).
    """
    try:
        book = load_policy_dir(policy_dir)
    except PolicyFileError as exc:
        raise click.UsageError(str(exc)) from exc
    with corpus.open() as lines:
        scores = evaluate(lines, book)
    click.echo(scores.render())
    if show_misses:
        for miss in scores.misses:
            click.echo(
                f"  {miss.call_id} {miss.field}: expected {miss.expected}, got {miss.got}"
                f"  | {miss.narrative[:90]}"
            )
    sys.exit(1 if scores.safety_misses else 0)
