"""Workflow definitions: list, show (steps, edges, inputs, graph), validate, start a run."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Request

from plait.errors import DefinitionError
from plait.loader import parse_workflow
from plait.server import views
from plait.server.auth import require_token, services
from plait.server.catalog import Entry
from plait.server.schemas import StartRun, ValidateText
from plait.server.services import Services
from plait.triggers import compile_triggers

router = APIRouter(prefix="/api", dependencies=[Depends(require_token)], tags=["workflows"])
ServicesDep = Annotated[Services, Depends(services)]


@router.get("/workflows", summary="The served workflows, and files that could not be loaded")
async def list_workflows(s: ServicesDep) -> dict[str, Any]:
    return {
        "workflows": [views.workflow_summary(e.definition) for e in s.catalog.entries()],
        "problems": [{"file": f, "error": e} for f, e in s.catalog.problems().items()],
    }


@router.post(
    "/workflows/validate",
    summary="Check a workflow given as YAML or JSON text (raw body, or JSON {text})",
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {"schema": ValidateText.model_json_schema()},
                "text/yaml": {"schema": {"type": "string"}},
            }
        }
    },
)
async def validate(request: Request, s: ServicesDep) -> dict[str, Any]:
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    raw = await request.body()
    if media == "application/json" or media.endswith("+json"):
        from pydantic import ValidationError

        try:
            text = ValidateText.model_validate_json(raw).text
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "body"
            raise HTTPException(
                422 if first["type"] != "json_invalid" else 400,
                f'send {{"text": "<workflow YAML>"}} ({where}: {first["msg"]})',
            ) from None
    else:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise HTTPException(400, "the workflow text is not UTF-8") from None
    folder = s.config.workflows_dir
    # Relative action paths resolve as they would for a file in the served folder.
    source = str(folder / "posted-workflow.yaml") if folder else None
    try:
        definition = parse_workflow(text, source=source)
        definition.compile()
        compile_triggers(definition)
    except DefinitionError as exc:
        problems = [
            {"field": p.location.field, "line": p.location.line, "message": p.message}
            for p in exc.problems
        ]
        return {"valid": False, "error": str(exc), "problems": problems}
    return {"valid": True, "workflow": views.workflow_detail(definition)}


@router.get("/workflows/{workflow_id}", summary="A workflow's steps, edges, inputs and triggers")
async def get_workflow(workflow_id: str, s: ServicesDep) -> dict[str, Any]:
    return views.workflow_detail(_entry(s, workflow_id).definition)


@router.post("/workflows/{workflow_id}/runs", status_code=201, summary="Start a run")
async def start_run(
    workflow_id: str, s: ServicesDep, body: Annotated[StartRun | None, Body()] = None
) -> dict[str, Any]:
    entry = _entry(s, workflow_id)
    run_id = await s.runs.start(entry.definition, (body or StartRun()).inputs)
    return {
        "run_id": run_id,
        "workflow_id": workflow_id,
        "links": {"run": f"/api/runs/{run_id}", "page": f"/runs/{run_id}"},
    }


def _entry(s: Services, workflow_id: str) -> Entry:
    entry = s.catalog.get(workflow_id)
    if entry is None:
        ids = [e.definition.workflow_id for e in s.catalog.entries()]
        known = ", ".join(ids[:20]) + (", ..." if len(ids) > 20 else "") if ids else "none"
        raise HTTPException(404, f"unknown workflow {workflow_id!r} (served workflows: {known})")
    return entry
