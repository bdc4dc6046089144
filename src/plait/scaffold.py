"""Starting a new project from one of the guide's two workflow templates (`plait init`).

A template is three files shipped in ``plait/templates/``: a YAML workflow, the Python
agents it calls, and a pytest file that runs it. They are written into
``directory/name/`` with the placeholder ``__NAME__`` replaced by the project's name, so
the result runs (``plait run name.yaml``) and passes its tests (``pytest``) before anyone
edits it. Existing files are never overwritten.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

PLACEHOLDER = "__NAME__"
TEMPLATES: dict[str, str] = {
    "analysis": "validate -> three analyses in parallel -> synthesize -> report",
    "decision": "gather -> generate options -> evaluate in parallel -> decide -> recommend",
}
"""Template name -> the phases its workflow runs."""

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")


def init_project(name: str, template: str, directory: Path) -> list[Path]:
    """Write ``name.yaml``, ``name_agents.py`` and ``test_name.py`` into ``directory/name/``.

    Returns the written paths, in that order.

    Raises:
        ValueError: unknown template, or a name that cannot be a Python module name
            (letters, digits and underscores, starting with a letter).
        FileExistsError: one of the files exists already; nothing was written.
    """
    if template not in TEMPLATES:
        raise ValueError(
            f"unknown template {template!r}; choose one of: {', '.join(sorted(TEMPLATES))}"
        )
    if not _NAME.match(name):
        suggestion = re.sub(r"\W+", "_", name).strip("_") or "my_workflow"
        if not suggestion[0].isalpha():
            suggestion = f"wf_{suggestion}"
        raise ValueError(
            f"project name {name!r} must be letters, digits and underscores, starting with a "
            f"letter (it names Python files); try {suggestion!r}"
        )
    target = Path(directory) / name
    sources = resources.files("plait") / "templates"
    plan = [
        (f"{template}.yaml", target / f"{name}.yaml"),
        (f"{template}_agents.py", target / f"{name}_agents.py"),
        (f"{template}_test.py", target / f"test_{name}.py"),
    ]
    for _, path in plan:
        if path.exists():
            raise FileExistsError(
                f"{path} already exists; plait init never overwrites files: "
                "choose another name or directory, or move the file away"
            )
    target.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for source, path in plan:
        text = (sources / source).read_text(encoding="utf-8")
        # "x": fail rather than overwrite a file that appeared since the check above.
        with path.open("x", encoding="utf-8") as handle:
            handle.write(text.replace(PLACEHOLDER, name))
        written.append(path)
    return written
