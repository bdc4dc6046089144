"""The `plait` command line: thin, it calls the same API a Python user calls.

Errors a user can cause print one message and exit 2 (1 for a failed run); the
traceback appears only with `--debug`. Heavy modules are imported inside the
commands so `plait --help` starts fast.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

if TYPE_CHECKING:
    from plait.engine import WorkflowEngine

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _log_format_option(fn: F) -> F:
    return click.option(
        "--log-format",
        type=click.Choice(["plain", "json"]),
        default=None,
        help="Progress as plain log lines or JSON lines, each with run and step ids.",
    )(fn)


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
    from plait.engine import ResumeRefusedError
    from plait.errors import DefinitionError, PlaitError
    from plait.store.base import StoreError

    try:
        code = action()
    except (DefinitionError, StoreError, ResumeRefusedError) as exc:
        if debug:
            raise
        _fail(str(exc))
    except PlaitError as exc:
        if debug:
            raise
        _fail(str(exc), EXIT_FAILED)
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    except BrokenPipeError:
        sys.stderr.close()  # the reader went away (e.g. `| head`): nothing more to say
        sys.exit(EXIT_FAILED)
    except Exception as exc:
        if debug:
            raise
        _fail(
            f"{type(exc).__name__}: {exc} (run again with --debug for the traceback)", EXIT_FAILED
        )
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


def _store_option(fn: F) -> F:
    return click.option(
        "--store",
        "store_url",
        envvar="PLAIT_STORE",
        metavar="URL",
        help="Where runs are kept: sqlite:///path.db (default ./.plait/plait.db), or memory://.",
    )(fn)


EXIT_PAUSED = 3


@main.command()
@click.argument("workflow", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "-i",
    "--input",
    "pairs",
    multiple=True,
    metavar="NAME=VALUE",
    help="A run input; repeat for several. Converted to the declared type.",
)
@click.option(
    "--inputs-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A JSON object of run inputs (values keep their JSON types).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as one JSON object.")
@click.option("--quiet", is_flag=True, help="No progress output.")
@click.option(
    "--wait",
    "wait_for_people",
    is_flag=True,
    help="Stay alive while a step waits for a person, instead of pausing the run.",
)
@click.option(
    "--record",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write each step's inputs and outputs to this cassette (JSON), for replay in tests.",
)
@click.option(
    "--detach", is_flag=True, help="Enqueue the run for `plait worker`s (postgresql:// store)."
)
@_log_format_option
@_store_option
@_debug_option
def run(
    workflow: Path,
    pairs: tuple[str, ...],
    inputs_file: Path | None,
    as_json: bool,
    quiet: bool,
    wait_for_people: bool,
    record: Path | None,
    log_format: str | None,
    store_url: str | None,
    debug: bool,
    detach: bool = False,
) -> None:
    """Run a workflow to its end; the run is kept in the store, so it can be resumed.

    WORKFLOW is a YAML/JSON file, or a code-first `file.py:function` or
    `package.module:function` decorated with @plait.workflow.

    Exit status: 0 completed, 1 failed or cancelled, 2 invalid workflow, input, store or
    usage, 3 paused (waiting for a person: see `plait inbox`).
    """

    def body() -> int:
        from plait.codefirst import WorkflowFunction
        from plait.loader import load_target
        from plait.run_inputs import check_inputs

        definition = load_target(str(workflow))
        texts, values = _parse_inputs(pairs, inputs_file)
        if isinstance(definition, WorkflowFunction):
            specs, step_ids = definition.input_specs, ()
        else:
            plan = definition.compile()
            specs, step_ids = plan.input_specs, plan.ids
            definition = _with_source(definition, str(workflow.resolve()))
        # Text from -i is converted to the declared types; JSON values are checked as they are.
        inputs = {
            **check_inputs(
                specs, texts, from_text=True, source=definition.source, fill_defaults=False
            ),
            **values,
        }

        if detach:  # the fleet runs it; print the run id
            from plait.fleet.cli import detach as enqueue

            click.echo(asyncio.run(enqueue(store_url or "", definition, inputs)))
            return EXIT_OK

        async def go(engine: WorkflowEngine) -> dict[str, Any]:
            return await engine.execute_workflow(definition, inputs)

        return asyncio.run(
            _drive(
                store_url,
                go,
                as_json,
                quiet,
                wait_for_people,
                title=f"{definition.name} ({definition.workflow_id})",
                step_ids=step_ids,
                log_format=log_format,
                record=record,
            )
        )

    _guarded(debug, body)


def _with_source(definition: Any, source: str) -> Any:
    # Resume reloads the workflow from an absolute path, whatever the caller's directory.
    object.__setattr__(definition, "source", source)
    return definition


async def _drive(
    store_url: str | None,
    work: Callable[[Any], Any],
    as_json: bool,
    quiet: bool,
    wait_for_people: bool = False,
    *,
    title: str = "",
    step_ids: tuple[str, ...] = (),
    log_format: str | None = None,
    record: Path | None = None,
) -> int:
    """Open the engine on the store, run `work(engine)` with a progress view, print, exit code."""
    from plait import progress
    from plait.engine import WorkflowEngine
    from plait.store import default_store_url

    engine = WorkflowEngine(store=store_url or default_store_url(), wait_for_people=wait_for_people)
    if record is not None:
        from plait.testing.cassette import record_to

        engine.add_listener(record_to(record))
    live = None
    if not quiet:
        if log_format == "json":
            engine.add_listener(progress.JsonLines(sys.stderr))
        elif sys.stderr.isatty() and not as_json and log_format is None and title:
            live = progress.LiveTable(step_ids, title)
            engine.add_listener(live)
        else:
            engine.add_listener(progress.LogLines(sys.stderr))
    try:
        await engine.open()
        if live is not None:
            with live:
                summaries = await work(engine)
        else:
            summaries = await work(engine)
    finally:
        await engine.aclose()
    if isinstance(summaries, dict):
        summaries = [summaries]
    code = EXIT_OK
    for summary in summaries:
        if as_json:
            from plait import jsonable

            click.echo(jsonable.dumps(_json_outcome(summary), indent=2))
        else:
            _print_outcome(summary)
        status = summary["status"]
        if status == "paused":
            code = max(code, EXIT_PAUSED)
        elif status != "completed":
            code = max(code, EXIT_FAILED) if code != EXIT_PAUSED else code
    return code


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
        "waiting_for": summary.get("waiting_for", []),
        "duration_s": summary["duration_s"],
    }


def _print_outcome(summary: dict[str, Any]) -> None:
    from plait import jsonable

    status = summary["status"]
    run_id = summary["run_id"]
    click.echo(f"run {run_id} {status} in {summary['duration_s']:.2f}s")
    if summary["error"]:
        where = f" in step {summary['failed_step']}" if summary["failed_step"] else ""
        click.echo(f"error{where}: {summary['error']}", err=True)
    for step in summary.get("waiting_for", []):
        click.echo(
            f"waiting for a person at step {step}: plait approve {run_id} {step} "
            f"(or plait reject {run_id} {step} --reason TEXT), then plait resume {run_id}",
            err=True,
        )
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
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["mermaid", "dot"]),
    default="mermaid",
    show_default=True,
    help="Text format of the graph.",
)
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


# --- durable runs: resume, control, people, history -------------------------------------


@main.command()
@click.argument("run_id", required=False)
@click.option("--all", "resume_all", is_flag=True, help="Resume every interrupted run.")
@click.option("--json", "as_json", is_flag=True, help="Print each outcome as JSON.")
@click.option("--quiet", is_flag=True, help="No progress output.")
@click.option(
    "--wait", "wait_for_people", is_flag=True, help="Stay alive while a step waits for a person."
)
@_store_option
@_debug_option
def resume(
    run_id: str | None,
    resume_all: bool,
    as_json: bool,
    quiet: bool,
    wait_for_people: bool,
    store_url: str | None,
    debug: bool,
) -> None:
    """Continue a paused or interrupted run; finished steps are not run again."""
    if bool(run_id) == resume_all:
        _fail("give a RUN_ID or --all (not both)")

    async def work(engine: Any) -> list[dict[str, Any]]:
        if run_id:
            return [await engine.resume(run_id)]
        rows = await engine.interrupted_runs()
        if not rows:
            click.echo("no interrupted runs", err=True)
        return [await engine.resume(row.run_id) for row in rows]

    _guarded(debug, lambda: asyncio.run(_drive(store_url, work, as_json, quiet, wait_for_people)))


@main.command()
@click.argument("run_id")
@click.option(
    "--from",
    "from_step",
    required=True,
    metavar="STEP",
    help="The first step to run again; everything downstream of it runs too.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
@click.option("--quiet", is_flag=True, help="No progress output.")
@_store_option
@_debug_option
def rerun(
    run_id: str, from_step: str, as_json: bool, quiet: bool, store_url: str | None, debug: bool
) -> None:
    """Start a new run that reuses the results upstream of STEP and runs the rest again."""
    _guarded(
        debug,
        lambda: asyncio.run(
            _drive(store_url, lambda engine: engine.rerun(run_id, from_step), as_json, quiet)
        ),
    )


def _control(action: str) -> Callable[..., None]:
    def command(run_id: str, store_url: str | None, debug: bool) -> None:
        async def go() -> int:
            from plait.engine import WorkflowEngine
            from plait.store import default_store_url

            async with WorkflowEngine(store=store_url or default_store_url()) as engine:
                click.echo(await engine.request(run_id, action))
            return EXIT_OK

        _guarded(debug, lambda: asyncio.run(go()))

    return command


main.command("pause", help="Let running steps finish and start no new ones (from any process).")(
    click.argument("run_id")(_store_option(_debug_option(_control("pause"))))
)
main.command("cancel", help="Cancel a run's in-flight steps; it ends as cancelled.")(
    click.argument("run_id")(_store_option(_debug_option(_control("cancel"))))
)


@main.command()
@click.argument("run_id")
@click.argument("step")
@click.option("--data", "data_text", metavar="JSON", help="Data for the answer, as JSON.")
@click.option("--by", help="Who answers (recorded with the answer).")
@_store_option
@_debug_option
def approve(
    run_id: str,
    step: str,
    data_text: str | None,
    by: str | None,
    store_url: str | None,
    debug: bool,
) -> None:
    """Approve a step that waits for a person; `--data` becomes part of its result."""
    data = None
    if data_text is not None:
        try:
            data = json.loads(data_text)
        except ValueError as exc:
            _fail(f"--data is not valid JSON: {exc}")

    async def go(engine: Any) -> None:
        await engine.approve(run_id, step, data, by=by)
        click.echo(f"approved {run_id} {step}; continue it with: plait resume {run_id}")

    _guarded(debug, lambda: _with_engine(store_url, go))


@main.command()
@click.argument("run_id")
@click.argument("step")
@click.option("--reason", required=True, help="Why; the step fails with this message.")
@click.option("--by", help="Who answers (recorded with the answer).")
@_store_option
@_debug_option
def reject(
    run_id: str, step: str, reason: str, by: str | None, store_url: str | None, debug: bool
) -> None:
    """Reject a step that waits for a person; the step fails with the reason."""

    async def go(engine: Any) -> None:
        await engine.reject(run_id, step, reason, by=by)
        click.echo(f"rejected {run_id} {step}; continue it with: plait resume {run_id}")

    _guarded(debug, lambda: _with_engine(store_url, go))


def _with_engine(store_url: str | None, work: Callable[[Any], Any]) -> int:
    async def go() -> int:
        from plait.engine import WorkflowEngine
        from plait.store import default_store_url

        async with WorkflowEngine(store=store_url or default_store_url()) as engine:
            await work(engine)
        return EXIT_OK

    return asyncio.run(go())


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the requests as JSON.")
@_store_option
@_debug_option
def inbox(as_json: bool, store_url: str | None, debug: bool) -> None:
    """List the requests that wait for a person."""

    async def go(engine: Any) -> None:
        from plait import jsonable

        requests = await engine.inbox()
        if as_json:
            import dataclasses

            click.echo(jsonable.dumps([dataclasses.asdict(r) for r in requests], indent=2))
            return
        if not requests:
            click.echo("nothing waits for a person")
        for r in requests:
            who = f" (for {', '.join(r.assignees)})" if r.assignees else ""
            click.echo(f"{r.run_id} {r.step_id}{who}: {r.prompt}")
            click.echo(f"    data: {jsonable.dumps(r.data)}")

    _guarded(debug, lambda: _with_engine(store_url, go))


@main.command()
@click.option("--status", help="Only runs with this status.")
@click.option("--workflow", "workflow_id", help="Only runs of this workflow id.")
@click.option("--limit", default=50, show_default=True, help="At most this many runs.")
@click.option("--json", "as_json", is_flag=True, help="Print the runs as JSON.")
@_store_option
@_debug_option
def runs(
    status: str | None,
    workflow_id: str | None,
    limit: int,
    as_json: bool,
    store_url: str | None,
    debug: bool,
) -> None:
    """List runs, newest first."""

    async def go(engine: Any) -> None:
        import dataclasses
        import datetime as dt

        from plait import jsonable

        assert engine.store is not None
        rows = await engine.store.list_runs(status=status, workflow_id=workflow_id, limit=limit)
        if as_json:
            keys = (
                "run_id",
                "workflow_id",
                "status",
                "created_at",
                "finished_at",
                "duration_s",
                "error",
                "parent_run_id",
            )
            click.echo(
                jsonable.dumps(
                    [{k: dataclasses.asdict(r)[k] for k in keys} for r in rows], indent=2
                )
            )
            return
        if not rows:
            click.echo("no runs")
        for r in rows:
            started = dt.datetime.fromtimestamp(r.created_at).strftime("%Y-%m-%d %H:%M:%S")
            took = f"{r.duration_s:.2f}s" if r.duration_s is not None else "-"
            click.echo(f"{r.run_id}  {r.workflow_id:<24} {r.status:<10} {started}  {took}")

    _guarded(debug, lambda: _with_engine(store_url, go))


@main.command()
@click.argument("run_id")
@click.option("--json", "as_json", is_flag=True, help="Print the run as JSON.")
@_store_option
@_debug_option
def show(run_id: str, as_json: bool, store_url: str | None, debug: bool) -> None:
    """Show a run: every step with status, attempts, timings, inputs, result and error."""

    async def go(engine: Any) -> None:
        import dataclasses

        from plait import jsonable

        store = engine.store
        run_row = await store.get_run(run_id)
        steps = await store.get_steps(run_id)
        attempts = await store.get_attempts(run_id)
        if as_json:
            click.echo(
                jsonable.dumps(
                    {
                        "run": dataclasses.asdict(run_row),
                        "steps": [dataclasses.asdict(s) for s in steps],
                        "attempts": [dataclasses.asdict(a) for a in attempts],
                    },
                    indent=2,
                )
            )
            return
        click.echo(f"run {run_row.run_id}: workflow {run_row.workflow_id}, {run_row.status}")
        if run_row.error:
            click.echo(f"  error: {run_row.error}")
        if run_row.inputs:
            click.echo(f"  inputs: {jsonable.dumps(run_row.inputs)}")
        for s in steps:
            took = f" {s.duration_s:.3f}s" if s.duration_s is not None else ""
            click.echo(
                f"  {s.step_id}: {s.status}, {s.attempts} attempt(s){took}"
                + (f" ({s.reason})" if s.reason else "")
            )
            if s.inputs is not None:
                click.echo(f"    inputs: {_clip(jsonable.dumps(s.inputs))}")
            if s.status == "completed":
                click.echo(f"    result: {_clip(jsonable.dumps(s.result))}")
            if s.error:
                click.echo(f"    error: {s.error}")
            for a in attempts:
                if a.step_id == s.step_id and a.error and a.outcome != s.status:
                    click.echo(f"    attempt {a.attempt} {a.outcome}: {a.error}")

    _guarded(debug, lambda: _with_engine(store_url, go))


def _clip(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _forwarding(name: str, target: str, summary: str) -> None:
    """Register `plait NAME` as a thin command that imports its real one only when used.

    Keeps `plait --help` fast: the stream and fleet commands pull in heavier modules.
    """

    def forward(ctx: click.Context) -> None:
        module_name, _, attr = target.partition(":")
        command = getattr(importlib.import_module(module_name), attr)
        command.main(args=ctx.args, prog_name=f"plait {name}", standalone_mode=True)

    forward.__doc__ = summary
    main.command(
        name,
        context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
        add_help_option=False,
    )(click.pass_context(forward))


_forwarding(
    "serve",
    "plait.server.cli:serve",
    "Serve the HTTP API, event triggers, schedules and the web dashboard.",
)
_forwarding(
    "stream",
    "plait.streams.cli:stream",
    "Run streams: windows of events, a workflow per window (`plait stream --help`).",
)
_forwarding(
    "worker",
    "plait.fleet.cli:worker",
    "Run steps of any run in a shared PostgreSQL store, as one of a fleet.",
)


@main.group()
def cache() -> None:
    """Manage the result cache of steps that declare `cache:`."""


@cache.command("clear")
@click.option("--workflow", "workflow_id", help="Only this workflow's entries.")
@click.option("--step", "step_id", help="Only this step's entries.")
@_store_option
@_debug_option
def cache_clear(
    workflow_id: str | None, step_id: str | None, store_url: str | None, debug: bool
) -> None:
    """Delete cached results (all, or one workflow's, or one step's)."""

    async def go(engine: Any) -> None:
        removed = await engine.store.cache_clear(workflow_id=workflow_id, step_id=step_id)
        click.echo(f"removed {removed} cached result{'s' if removed != 1 else ''}")

    _guarded(debug, lambda: _with_engine(store_url, go))


@main.command()
@click.argument("name")
@click.option(
    "--template",
    type=click.Choice(["analysis", "decision"]),
    default="analysis",
    show_default=True,
    help="The guide's analysis or decision workflow template.",
)
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Where the project folder is made.",
)
@_debug_option
def init(name: str, template: str, directory: Path, debug: bool) -> None:
    """Start a project NAME from a template: a runnable workflow, its agents and a test."""

    def body() -> int:
        from plait.scaffold import init_project

        try:
            written = init_project(name, template, directory)
        except (ValueError, FileExistsError) as exc:
            _fail(str(exc))
        for path in written:
            click.echo(f"wrote {path}")
        folder = written[0].parent
        click.echo(f"run it: cd {folder} && plait run {written[0].name}; test it: pytest")
        return EXIT_OK

    _guarded(debug, body)


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def _parse_since(text: str) -> float:
    """`90s`, `15m`, `2h`, `7d`, `1w` -> seconds."""
    import re

    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*", text)
    if not match:
        _fail(f"--since {text!r}: write a duration such as 30m, 2h, 7d or 1w")
    return float(match.group(1)) * _UNITS[match.group(2)]


@main.command()
@click.option("--workflow", "workflow_id", help="Only runs of this workflow id.")
@click.option(
    "--since",
    "since_text",
    metavar="DURATION",
    help="Only runs started within this long ago: 30m, 2h, 7d, 1w.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--prometheus", is_flag=True, help="Print Prometheus text exposition instead.")
@_store_option
@_debug_option
def stats(
    workflow_id: str | None,
    since_text: str | None,
    as_json: bool,
    prometheus: bool,
    store_url: str | None,
    debug: bool,
) -> None:
    """The health report: executions, success rate, durations, most common failures."""
    import time

    since = time.time() - _parse_since(since_text) if since_text else None

    async def go(engine: Any) -> None:
        from plait import jsonable
        from plait.monitoring.health import health_report

        report = await health_report(engine.store, workflow_id=workflow_id, since=since)
        if prometheus:
            from plait.monitoring.prometheus import render

            click.echo(render(report), nl=False)
        elif as_json:
            click.echo(jsonable.dumps(report, indent=2))
        else:
            _print_report(report)

    _guarded(debug, lambda: _with_engine(store_url, go))


def _print_report(report: dict[str, Any]) -> None:
    d = report["duration_s"]
    click.echo(
        f"total executions: {report['total_executions']} "
        f"({report['successes']} completed, {report['failures']} failed, "
        f"{report['cancelled']} cancelled)"
    )
    click.echo(f"success rate:     {report['success_rate']:.1%}")
    if d["mean"] is not None:
        click.echo(
            f"duration:         mean {d['mean']:.3f}s, p50 {d['p50']:.3f}s, "
            f"p95 {d['p95']:.3f}s, max {d['max']:.3f}s"
        )
    if report["most_common_failures"]:
        click.echo("most common failures:")
        for step, count in report["most_common_failures"]:
            click.echo(f"  {step}: {count}")
    for title, key in (("workflows", "workflows"), ("steps", "steps"), ("agents", "agents")):
        if not report[key]:
            continue
        click.echo(f"{title}:")
        for name, t in report[key].items():
            extra = "".join(
                f", {t[k]} {k}" for k in ("retries", "skips", "degraded", "cached") if t[k]
            )
            click.echo(f"  {name}: {t['executions']} runs, {t['success_rate']:.0%} ok{extra}")
