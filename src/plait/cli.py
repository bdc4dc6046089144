"""The `plait` command line: thin, it calls the same API a Python user calls.

Errors a user can cause print one message and exit 2 (1 for a failed run); the
traceback appears only with `--debug`. Heavy modules are imported inside the
commands so `plait --help` starts fast.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _debug_option(fn: F) -> F:
    return click.option("--debug", is_flag=True, help="Show Python tracebacks for errors.")(fn)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="plait")
def main() -> None:
    """plait runs AI-agent workflows: declared graphs (YAML/JSON) or Python."""


def _fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def _guarded(debug: bool, action: Callable[[], int]) -> NoReturn:
    """Run a command body; turn the errors a user can cause into one clear message."""
    from plait.errors import DefinitionError, PlaitError

    try:
        code = action()
    except DefinitionError as exc:
        if debug:
            raise
        _fail(str(exc))
    except PlaitError as exc:
        if debug:
            raise
        _fail(str(exc), EXIT_FAILED)
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    except Exception as exc:
        if debug:
            raise
        _fail(f"{type(exc).__name__}: {exc} (run again with --debug for the traceback)",
              EXIT_FAILED)
    sys.exit(code)


def _parse_inputs(
    pairs: tuple[str, ...], inputs_file: Path | None
) -> tuple[dict[str, str], dict[str, Any]]:
    """`-i NAME=VALUE` pairs (text, converted later to the declared types) and file values."""
    from_file: dict[str, Any] = {}
    if inputs_file is not None:
        try:
            loaded = json.loads(inputs_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            _fail(f"{inputs_file}: cannot read the inputs file as JSON: {exc}")
        if not isinstance(loaded, dict):
            _fail(f"{inputs_file}: the inputs file must hold a JSON object of name -> value")
        from_file.update(loaded)
    texts: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            _fail(f"-i {pair!r}: write inputs as NAME=VALUE")
        texts[name.strip()] = value
        from_file.pop(name.strip(), None)  # the command line wins over the file
    return texts, from_file


@main.command()
@click.argument("workflow", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-i", "--input", "pairs", multiple=True, metavar="NAME=VALUE",
              help="A run input; repeat for several. Converted to the declared type.")
@click.option("--inputs-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A JSON object of run inputs (values keep their JSON types).")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as one JSON object.")
@click.option("--quiet", is_flag=True, help="No progress output.")
@_debug_option
def run(workflow: Path, pairs: tuple[str, ...], inputs_file: Path | None, as_json: bool,
        quiet: bool, debug: bool) -> None:
    """Run a workflow file to its end.

    Exit status: 0 completed, 1 failed or cancelled, 2 invalid workflow, input or usage.
    """

    def body() -> int:
        from plait.loader import load_workflow

        definition = load_workflow(workflow)
        texts, values = _parse_inputs(pairs, inputs_file)
        return asyncio.run(_run(definition, texts, values, as_json, quiet))

    _guarded(debug, body)


async def _run(definition: Any, texts: dict[str, str], values: dict[str, Any],
               as_json: bool, quiet: bool) -> int:
    from plait import jsonable, progress
    from plait.engine import WorkflowEngine
    from plait.run_inputs import check_inputs

    plan = definition.compile()
    # Text from -i is converted to the declared types; JSON values are checked as they are.
    inputs = {**check_inputs(plan.input_specs, texts, from_text=True, source=definition.source,
                             fill_defaults=False), **values}
    engine = WorkflowEngine()
    live = None
    if not quiet:
        if sys.stderr.isatty() and not as_json:
            live = progress.LiveTable(plan.ids, f"{definition.name} ({definition.workflow_id})")
            engine.add_listener(live)
        else:
            engine.add_listener(progress.LogLines(sys.stderr))
    try:
        if live is not None:
            with live:
                summary = await engine.execute_workflow(definition, inputs)
        else:
            summary = await engine.execute_workflow(definition, inputs)
    finally:
        engine.close()
    if as_json:
        click.echo(jsonable.dumps(_json_outcome(summary), indent=2))
    else:
        _print_outcome(summary)
    return EXIT_OK if summary["status"] == "completed" else EXIT_FAILED


def _json_outcome(summary: dict[str, Any]) -> dict[str, Any]:
    return {
        "run_id": summary["run_id"],
        "workflow_id": summary["workflow_id"],
        "status": summary["status"],
        "results": summary["results"],
        "output": summary["output"],
        "error": summary["error"],
        "steps": {
            sid: {k: step[k] for k in ("status", "attempts", "duration_s", "error")}
            for sid, step in summary["steps"].items()
        },
        "duration_s": summary["duration_s"],
    }


def _print_outcome(summary: dict[str, Any]) -> None:
    from plait import jsonable

    status = summary["status"]
    click.echo(f"run {summary['run_id']} {status} in {summary['duration_s']:.2f}s")
    if summary["error"]:
        click.echo(f"error in step {summary['failed_step']}: {summary['error']}", err=True)
    output = summary["output"]
    if output is not None:
        click.echo(output if isinstance(output, str) else jsonable.dumps(output, indent=2))


@main.command()
@click.argument("workflow", type=click.Path(dir_okay=False, path_type=Path))
@_debug_option
def validate(workflow: Path, debug: bool) -> None:
    """Check a workflow file without running it; lists every problem (exit 0 or 2)."""

    def body() -> int:
        from plait.loader import load_workflow

        definition = load_workflow(workflow)
        plan = definition.compile()
        click.echo(f"{workflow}: ok ({len(plan.steps)} steps, workflow {definition.workflow_id})")
        return EXIT_OK

    _guarded(debug, body)


@main.command()
@click.argument("workflow", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["mermaid", "dot"]), default="mermaid",
              show_default=True, help="Text format of the graph.")
@_debug_option
def graph(workflow: Path, fmt: str, debug: bool) -> None:
    """Print a workflow's dependency graph as Mermaid or Graphviz DOT text."""

    def body() -> int:
        from plait.diagram import to_dot, to_mermaid
        from plait.loader import load_workflow

        plan = load_workflow(workflow).compile()
        click.echo(to_mermaid(plan) if fmt == "mermaid" else to_dot(plan))
        return EXIT_OK

    _guarded(debug, body)
