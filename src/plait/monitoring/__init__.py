"""Monitoring: the guide's health report from the store, live Prometheus metrics, traces, logs.

`health` computes figures from stored runs (so they survive restarts); `prometheus`
and `tracing` are listeners on the run events of one process; `logs` writes JSON
lines. Each imports its library lazily: none costs anything unless used.
"""

from __future__ import annotations
