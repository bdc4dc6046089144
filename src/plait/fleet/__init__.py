"""A fleet of workers sharing one PostgreSQL store: the same workflow files, many machines.

Layering: `queue` is the only module that speaks SQL (claims, leases, fenced
commits, fleet-wide limits); `progress` decides what a finished step releases by
replaying the run's outcomes through the pure `plait.scheduler.Scheduler`;
`plans` loads and caches compiled workflows; `worker` is the async shell that
claims, executes with `plait.policies.StepPolicies` (through `RunExecution`),
and commits; `submit` enqueues runs; `cli` is the `plait worker` command.
Nothing is imported here, so `plait --help` stays fast.
"""

from __future__ import annotations
