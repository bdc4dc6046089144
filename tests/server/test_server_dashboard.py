"""The dashboard in a real headless Chromium: start a run, watch its graph, answer a request.

Needs Debian's `chromium` and the `playwright` package (the driver only; its own
browser download is never used). Without them the tests skip, saying why; on CI
(`CI=true`) they fail instead, so a missing install cannot pass unnoticed.
Screenshots of every page land in `test-artifacts/server/`.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from server_support import Server, config_for, serving, wait_status, write_workflows

CHROMIUM = os.environ.get("PLAIT_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "server"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[browser-tests]')"
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        return f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    missing = _missing()
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests cannot run on CI: {missing}")
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("dashboard")
    folder = write_workflows(root / "workflows")
    with serving(config_for(folder, root / "plait.db")) as server:
        yield server


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    # A 401 before the token is given is logged as a failed resource: expected, not a bug.
    tab.on(
        "console",
        lambda msg: (
            errors.append(msg.text)
            if msg.type == "error" and not msg.text.startswith("Failed to load resource")
            else None
        ),
    )
    yield tab
    context.close()
    assert errors == [], f"the page reported errors: {errors}"


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_start_a_run_from_the_form_and_watch_its_steps_complete(page: Any, site: Server) -> None:
    page.goto(f"{site.url}/workflows/greet")
    page.fill("#input-name", "Grace")
    page.fill("#input-times", "3")
    page.check("#input-loud")
    page.fill("#input-tags", '["vip"]')
    shot(page, "start-form")
    page.click("#start-run")
    page.wait_for_url(f"{site.url}/runs/*")
    run_id = page.url.rsplit("/", 1)[1]
    for step_id in ("hello", "shout", "measure"):
        page.wait_for_selector(f'svg.dag [data-step="{step_id}"][data-status="completed"]')
    assert page.locator("#run-summary .badge").inner_text() == "completed"
    with site.client() as http:
        run = http.get(f"/api/runs/{run_id}").json()["run"]
    assert run["inputs"] == {"name": "Grace", "times": 3, "loud": True, "tags": ["vip"]}
    page.click('svg.dag [data-step="shout"]')
    detail = page.locator("#step-detail")
    detail.wait_for()
    assert detail.get_attribute("data-step") == "shout"
    text = detail.inner_text()
    assert "HELLO GRACE" in text  # the result
    assert "Attempts" in text
    shot(page, "run")


def test_a_form_error_names_the_input(page: Any, site: Server) -> None:
    page.goto(f"{site.url}/workflows/greet")
    page.fill("#input-name", "Ann")
    page.fill("#input-tags", "not json")
    page.click("#start-run")
    assert "tags" in page.locator("#start-error").inner_text()


def test_a_failed_step_shows_its_error(page: Any, site: Server) -> None:
    with site.client() as http:
        run_id = http.post("/api/workflows/failing/runs", json={}).json()["run_id"]
        wait_status(http, run_id, "failed")
    page.goto(f"{site.url}/runs/{run_id}")
    page.click('svg.dag [data-step="bad"][data-status="failed"]')
    assert "boom" in page.locator("#step-detail pre.error").inner_text()
    shot(page, "run-failed")


def test_approve_a_request_from_the_inbox(page: Any, site: Server) -> None:
    with site.client() as http:
        run_id = http.post("/api/workflows/review/runs", json={"inputs": {"draft": "v2"}}).json()[
            "run_id"
        ]
        page.goto(f"{site.url}/runs/{run_id}")
        page.wait_for_selector('svg.dag [data-step="approve"][data-status="waiting"]')
        shot(page, "run-waiting")
        page.goto(f"{site.url}/inbox")
        card = page.locator(f'[data-request="{run_id}/approve"]')
        card.wait_for()
        assert "Publish this draft?" in card.inner_text()
        assert page.locator("#inbox-count").inner_text() != ""
        shot(page, "inbox")
        card.locator(".answer-by").fill("Edith")
        card.locator("button.approve").click()
        card.wait_for(state="detached")
        detail = wait_status(http, run_id, "completed")
    answer = next(s for s in detail["steps"] if s["step_id"] == "approve")["result"]
    assert answer["approved"] is True
    assert answer["by"] == "Edith"


def test_runs_list_updates_without_a_reload(page: Any, site: Server) -> None:
    page.goto(f"{site.url}/")
    page.wait_for_selector("#runs-table")
    with site.client() as http:
        run_id = http.post("/api/workflows/greet/runs", json={"inputs": {"name": "Live"}}).json()[
            "run_id"
        ]
    row = page.locator(f'tr[data-run="{run_id}"]')
    row.wait_for()
    row.locator('.badge[data-status="completed"]').wait_for()
    shot(page, "runs")


def test_health_page_shows_success_rate_and_duration_per_workflow(page: Any, site: Server) -> None:
    with site.client() as http:
        run_id = http.post("/api/workflows/greet/runs", json={"inputs": {"name": "H"}}).json()[
            "run_id"
        ]
        wait_status(http, run_id, "completed")
        http.post("/events", json={"type": "nobody_listens"})
    page.goto(f"{site.url}/health")
    row = page.locator('#health-workflows tr[data-workflow="greet"]')
    row.wait_for()
    assert "100.0%" in row.inner_text()
    assert " ms" in row.inner_text() or " s" in row.inner_text()
    assert "nobody_listens" in page.locator("#health").inner_text()
    shot(page, "health")


def test_workflows_and_events_pages(page: Any, site: Server) -> None:
    page.goto(f"{site.url}/workflows")
    page.locator('tr[data-workflow="on_signup"]').wait_for()
    assert "event customer_signup" in page.locator('tr[data-workflow="on_signup"]').inner_text()
    assert "broken.yaml" in page.inner_text("#workflow-list")
    shot(page, "workflows")
    page.goto(f"{site.url}/events")
    page.fill("#event-form [name=type]", "customer_signup")
    page.fill("#event-form [name=data]", '{"customer_id": "C-9", "plan": "enterprise"}')
    page.click("#event-form button[type=submit]")
    page.wait_for_selector('#events-body .badge[data-status="handled"]')
    assert "2 run(s) started" in page.inner_text("#event-form")
    shot(page, "events")


def test_with_a_token_the_dashboard_asks_for_it_once(page: Any, tmp_path: Path) -> None:
    folder = write_workflows(tmp_path / "workflows")
    with serving(config_for(folder, tmp_path / "plait.db", token="tok-123")) as server:
        page.goto(f"{server.url}/")
        dialog = page.locator("#token-dialog")
        dialog.wait_for(state="visible")
        shot(page, "token")
        page.fill("#token-input", "tok-123")
        page.click("#token-submit")
        page.wait_for_selector("#runs-table")
        dialog.wait_for(state="hidden")
        page.goto(f"{server.url}/workflows")  # same tab: the token is remembered
        page.locator('tr[data-workflow="greet"]').wait_for()
        assert not page.locator("#token-dialog").is_visible()
        stored = page.evaluate("sessionStorage.getItem('plait.token')")
        assert stored == "tok-123"
