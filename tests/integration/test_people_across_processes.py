"""A person in the loop, across processes: one runs, another answers, a third resumes.

The moderation workflow of the guide: `analyze`, then exactly one of `approve`,
`reject` or `human_review` (an approval step), then `publish`, which runs after
whichever branch succeeded (`trigger_rule: one_success`).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from integration_harness import Plait, wait_until, write

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_PAUSED = 0, 1, 2, 3

MODERATION = """\
workflow_id: moderation
inputs:
  content: string
steps:
  - step_id: analyze
    action: acts.py:analyze
    inputs: {content: "{{ inputs.content }}"}
  - step_id: approve
    action: acts.py:work
    condition: "analyze.result.is_safe and analyze.result.confidence > 0.95"
    inputs: {label: approve}
  - step_id: reject
    action: acts.py:work
    condition: "not analyze.result.is_safe and analyze.result.confidence > 0.95"
    inputs: {label: reject}
  - step_id: human_review
    kind: approval
    condition: "analyze.result.confidence <= 0.95"
    approval:
      prompt: Can this be published?
      assignees: [moderators]
{timeout}    inputs: {content: "{{ inputs.content }}", analysis: "{{ analyze.result }}"}
  - step_id: publish
    action: acts.py:publish
    trigger_rule: one_success
    inputs:
      approved: "{{ approve.result }}"
      rejected: "{{ reject.result }}"
      reviewed: "{{ human_review.result }}"
output: "{{ publish.result }}"
"""

TINY_TIMEOUT = 0.2


def moderation(tmp_path: Path, *, default: str | None = None) -> str:
    timeout = ""
    if default is not None:
        timeout = f"      timeout_seconds: {TINY_TIMEOUT}\n      default: {default}\n"
    write(tmp_path, "moderation.yaml", MODERATION.replace("{timeout}", timeout))
    return "moderation.yaml"


def run_until_a_person_is_needed(plait: Plait, workflow: str) -> str:
    started = plait("run", workflow, "-i", "content=maybe fine", "--quiet")
    assert started.returncode == EXIT_PAUSED, started.stderr
    run_id = plait.only_run()
    assert f"run {run_id} paused" in started.stdout
    assert f"plait approve {run_id} human_review" in started.stderr
    return run_id


def published(plait: Plait, run_id: str) -> dict[str, object]:
    result = json.loads(plait.steps(run_id)["publish"]["result"])
    assert isinstance(result, dict)
    return result


def test_an_approval_given_in_another_process_reaches_the_resumed_run(
    plait: Plait, tmp_path: Path
) -> None:
    run_id = run_until_a_person_is_needed(plait, moderation(tmp_path))

    approved = plait(
        "approve", run_id, "human_review", "--data", '{"note": "fine ✓"}', "--by", "ann"
    )
    resumed = plait("resume", run_id, "--quiet")

    assert approved.returncode == EXIT_OK, approved.stderr
    assert resumed.returncode == EXIT_OK, resumed.stderr
    assert plait.status(run_id) == "completed"
    reviewed = published(plait, run_id)["reviewed"]
    assert reviewed == {
        "approved": True,
        "data": {"note": "fine ✓"},
        "by": "ann",
        "reason": None,
        "timed_out": False,
    }
    steps = plait.steps(run_id)
    assert (steps["approve"]["status"], steps["reject"]["status"]) == ("skipped", "skipped")
    assert plait.started(run_id) == ["analyze", "publish"]  # analyze did not run again


def test_the_inbox_lists_what_waits_for_a_person_until_it_is_answered(
    plait: Plait, tmp_path: Path
) -> None:
    run_id = run_until_a_person_is_needed(plait, moderation(tmp_path))

    before = plait("inbox")
    listed = json.loads(plait("inbox", "--json").stdout)
    plait("approve", run_id, "human_review")
    after = plait("inbox")

    assert f"{run_id} human_review (for moderators): Can this be published?" in before.stdout
    [request] = listed
    assert (request["run_id"], request["step_id"], request["status"]) == (
        run_id,
        "human_review",
        "pending",
    )
    assert request["data"] == {
        "content": "maybe fine",
        "analysis": {"is_safe": True, "confidence": 0.5},
    }
    assert after.stdout.strip() == "nothing waits for a person"


def test_a_request_is_answered_once(plait: Plait, tmp_path: Path) -> None:
    run_id = run_until_a_person_is_needed(plait, moderation(tmp_path))
    plait("approve", run_id, "human_review", "--by", "ann")

    again = plait("reject", run_id, "human_review", "--reason", "changed my mind")

    assert again.returncode == EXIT_USAGE
    assert "already answered (approved)" in again.stderr
    assert "Traceback" not in again.stderr


def test_a_rejection_fails_the_step_with_the_reason(plait: Plait, tmp_path: Path) -> None:
    run_id = run_until_a_person_is_needed(plait, moderation(tmp_path))

    rejected = plait("reject", run_id, "human_review", "--reason", "too spicy", "--by", "bob")
    resumed = plait("resume", run_id, "--quiet")

    assert rejected.returncode == EXIT_OK, rejected.stderr
    assert resumed.returncode == EXIT_FAILED
    assert "too spicy" in resumed.stderr
    assert plait.status(run_id) == "failed"
    row = plait.run_row(run_id)
    assert row["failed_step"] == "human_review"
    step = plait.steps(run_id)["human_review"]
    assert step["status"] == "failed"
    assert "rejected by bob: too spicy" in step["error"]
    assert "publish" not in plait.started(run_id)


def test_a_run_that_stays_alive_applies_the_default_when_the_time_is_up(
    plait: Plait, tmp_path: Path
) -> None:
    workflow = moderation(tmp_path, default="approve")

    done = plait("run", workflow, "-i", "content=maybe fine", "--wait", "--quiet")

    assert done.returncode == EXIT_OK, done.stderr
    run_id = plait.only_run()
    reviewed = published(plait, run_id)["reviewed"]
    assert isinstance(reviewed, dict)
    assert (reviewed["approved"], reviewed["by"], reviewed["timed_out"]) == (True, "timeout", True)
    [request] = plait.query("SELECT status FROM human_requests WHERE run_id = ?", run_id)
    assert request["status"] == "expired"


@pytest.mark.parametrize("default", ["approve", "reject"])
def test_resuming_after_the_timeout_passed_applies_the_default_at_once(
    plait: Plait, tmp_path: Path, default: str
) -> None:
    run_id = run_until_a_person_is_needed(plait, moderation(tmp_path, default=default))
    [request] = plait.query("SELECT expires_at FROM human_requests WHERE run_id = ?", run_id)
    wait_until(lambda: time.time() > request["expires_at"], what="the request to expire")

    resumed = plait("resume", run_id, "--quiet")

    if default == "approve":
        assert resumed.returncode == EXIT_OK, resumed.stderr
        assert plait.status(run_id) == "completed"
        reviewed = published(plait, run_id)["reviewed"]
        assert isinstance(reviewed, dict)
        assert (reviewed["approved"], reviewed["timed_out"]) == (True, True)
    else:
        assert resumed.returncode == EXIT_FAILED, resumed.stderr
        assert plait.status(run_id) == "failed"
        assert "no answer before the timeout" in plait.steps(run_id)["human_review"]["error"]
    assert "waiting for a person" not in resumed.stderr
