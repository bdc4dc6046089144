"""`plait worker`: one member of a fleet; registered on the main `plait` group by cli.py."""

from __future__ import annotations

import asyncio
import sys

import click


@click.command()
@click.option(
    "--store",
    "store_url",
    envvar="PLAIT_STORE",
    required=True,
    metavar="URL",
    help="The shared store: postgresql://user@host:port/db.",
)
@click.option("--concurrency", default=8, show_default=True, help="Steps this worker runs at once.")
@click.option(
    "--lease",
    "lease_s",
    default=10.0,
    show_default=True,
    help="Seconds after which a silent worker's steps are taken over by others.",
)
@click.option(
    "--grace",
    "grace_s",
    default=30.0,
    show_default=True,
    help="On SIGTERM, seconds to let running steps finish before releasing them.",
)
@click.option("--name", default=None, help="This worker's name in the queue (default host:pid).")
def worker(
    store_url: str, concurrency: int, lease_s: float, grace_s: float, name: str | None
) -> None:
    """Run steps of any run in a PostgreSQL store, until SIGTERM.

    Start as many as you like, on as many machines; they share the work through
    the store. Runs are enqueued with `plait run WORKFLOW --store URL --detach`.
    """
    from plait.store.base import StoreError

    try:
        asyncio.run(_work(store_url, concurrency, lease_s, grace_s, name))
    except StoreError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)


async def _work(
    store_url: str, concurrency: int, lease_s: float, grace_s: float, name: str | None
) -> None:
    from plait.fleet.worker import Worker
    from plait.store import open_store
    from plait.store.base import StoreError
    from plait.store.postgres import PostgresStore

    store = open_store(store_url)
    if not isinstance(store, PostgresStore):
        raise StoreError(f"plait worker needs a postgresql:// store, not {store_url!r}")
    await store.open()
    try:
        member = Worker(store, concurrency=concurrency, lease_s=lease_s, grace_s=grace_s, name=name)
        member.install_signals()
        click.echo(f"plait worker {member.name} ready", err=True)
        await member.run()
    finally:
        await store.close()


async def detach(store_url: str, definition: object, inputs: dict[str, object]) -> str:
    """`plait run --detach`: enqueue the run; returns its id."""
    from plait.definition import WorkflowDefinition
    from plait.fleet.submit import submit
    from plait.store import open_store
    from plait.store.base import StoreError
    from plait.store.postgres import PostgresStore

    store = open_store(store_url)
    if not isinstance(store, PostgresStore):
        raise StoreError("--detach needs a postgresql:// store that workers share")
    if not isinstance(definition, WorkflowDefinition):
        raise StoreError("--detach runs declared (YAML/JSON) workflows, not code-first ones")
    await store.open()
    try:
        return await submit(store, definition, inputs)
    finally:
        await store.close()
