"""Compiling a definition: every problem reported at once, each naming its step and field."""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Any

import pytest

from plait import DefinitionError, InputSpec, RetryPolicy, WorkflowDefinition, WorkflowStep
from plait.graph import Plan


async def work(**inputs: Any) -> Any:
    return inputs


async def needs_text(text: str, context: Any = None) -> str:
    return text


def step(step_id: str, *deps: str, **kwargs: Any) -> WorkflowStep:
    kwargs.setdefault("action", work)
    return WorkflowStep(step_id, dependencies=list(deps) or None, **kwargs)


def workflow(*steps: WorkflowStep, **kwargs: Any) -> WorkflowDefinition:
    return WorkflowDefinition("wf", "Workflow", "", list(steps), **kwargs)


def problems_of(definition: WorkflowDefinition) -> list[str]:
    with pytest.raises(DefinitionError) as info:
        definition.compile()
    return [str(p) for p in info.value.problems]


def only_problem(definition: WorkflowDefinition) -> str:
    problems = problems_of(definition)
    assert len(problems) == 1, problems
    return problems[0]


def deps_of(plan: Plan, step_id: str) -> set[str]:
    return {plan.ids[i] for i in plan.preds[plan.index_of[step_id]]}


# --- a valid definition ------------------------------------------------------------


def test_a_valid_definition_compiles_into_an_ordered_plan() -> None:
    plan = workflow(step("c", "a", "b"), step("a"), step("b", "a")).compile()
    position = {plan.ids[i]: k for k, i in enumerate(plan.order)}
    assert position["a"] < position["b"] < position["c"]
    assert deps_of(plan, "c") == {"a", "b"}
    assert {plan.ids[j] for j in plan.succs[plan.index_of["a"]]} == {"b", "c"}


def test_compiling_twice_returns_the_same_plan() -> None:
    definition = workflow(step("a"))
    assert definition.compile() is definition.compile()


def test_references_add_dependencies() -> None:
    plan = workflow(
        step("extract"),
        step("summarize", inputs={"text": "{{ extract.result.text }}"}),
        step("report", inputs={"parts": ["{{ summarize.result }}", "x {{ extract.status }}"]}),
    ).compile()
    assert deps_of(plan, "summarize") == {"extract"}
    assert deps_of(plan, "report") == {"summarize", "extract"}


def test_a_wildcard_reference_depends_on_every_matching_step() -> None:
    plan = workflow(
        step("extract_sales"),
        step("extract_finance"),
        step("other"),
        step("clean", inputs={"data": "{{extract_*.result}}"}),
    ).compile()
    assert deps_of(plan, "clean") == {"extract_sales", "extract_finance"}


def test_a_condition_expression_adds_the_steps_it_reads_as_dependencies() -> None:
    plan = workflow(
        step("analyze"), step("approve", condition="analyze.result.ok and inputs.strict")
    ).compile()
    assert deps_of(plan, "approve") == {"analyze"}


def test_priority_is_the_length_of_the_longest_path_to_an_end() -> None:
    plan = workflow(step("a"), step("b", "a"), step("c", "b"), step("d", "a")).compile()
    assert {sid: plan.priority[i] for i, sid in enumerate(plan.ids)} == {
        "a": 3,
        "b": 2,
        "c": 1,
        "d": 1,
    }


def test_downstream_is_a_step_and_everything_after_it() -> None:
    plan = workflow(step("a"), step("b", "a"), step("c", "b"), step("d")).compile()
    assert plan.downstream("b") == {"b", "c"}


def test_an_action_named_by_text_is_imported() -> None:
    plan = workflow(step("dump", action="json:dumps", inputs={"obj": [1]})).compile()
    import json

    assert plan.steps[0].fn is json.dumps


def test_an_action_in_a_python_file_is_found_next_to_the_definition(tmp_path: Path) -> None:
    (tmp_path / "acts.py").write_text("def shout(text):\n    return text.upper()\n")
    definition = WorkflowDefinition(
        "wf",
        "wf",
        "",
        [step("s", action="acts.py:shout", inputs={"text": "hi"})],
        source=str(tmp_path / "flow.yaml"),
    )
    assert definition.compile().steps[0].fn("hi") == "HI"


# --- each kind of problem ----------------------------------------------------------


def test_duplicate_step_ids_are_reported_at_the_second_one() -> None:
    problem = only_problem(workflow(step("a"), step("b"), step("a")))
    assert problem == "<workflow>: steps[2].step_id: duplicate step id 'a'"


@pytest.mark.parametrize("bad_id", ["bad-id", "1st", "has space", ""])
def test_a_step_id_must_be_a_name(bad_id: str) -> None:
    problem = only_problem(workflow(step(bad_id)))
    assert problem.startswith("<workflow>: steps[0].step_id: step id")
    assert repr(bad_id) in problem


def test_inputs_is_reserved_for_run_inputs() -> None:
    assert "'inputs' is reserved" in only_problem(workflow(step("inputs")))


def test_an_unknown_dependency_suggests_the_closest_step() -> None:
    problem = only_problem(workflow(step("extract"), step("report", "extrct")))
    assert problem == (
        "<workflow>: steps[1].dependencies: unknown dependency 'extrct'; did you mean 'extract'?"
    )


def test_an_unknown_dependency_with_no_close_match_lists_the_known_steps() -> None:
    problem = only_problem(workflow(step("extract"), step("report", "zzz")))
    assert problem.endswith("unknown dependency 'zzz'; known steps: extract, report")


def test_a_step_cannot_depend_on_itself() -> None:
    assert "step 'a' depends on itself" in only_problem(workflow(step("a", "a")))


def _cycle_path(problem: str) -> list[str]:
    match = re.search(r"dependency cycle: ([\w >-]+)$", problem)
    assert match, problem
    return match.group(1).split(" -> ")


def test_a_two_step_cycle_prints_its_path() -> None:
    problem = only_problem(workflow(step("a", "b"), step("b", "a")))
    assert problem.endswith("dependency cycle: a -> b -> a")
    assert ".dependencies" in problem


def test_a_longer_cycle_prints_a_closed_path_along_its_edges() -> None:
    definition = workflow(step("start"), step("a", "c", "start"), step("b", "a"), step("c", "b"))
    path = _cycle_path(only_problem(definition))
    assert path[0] == path[-1]
    assert sorted(path[:-1]) == ["a", "b", "c"]
    # Each arrow points from a step to one that depends on it.
    for before, after in itertools.pairwise(path):
        assert before in definition.step(after).dependencies  # type: ignore[operator]


def test_a_cycle_made_by_references_is_found_too() -> None:
    problem = only_problem(
        workflow(
            step("a", inputs={"x": "{{ b.result }}"}),
            step("b", inputs={"x": "{{ a.result }}"}),
        )
    )
    assert sorted(_cycle_path(problem)[:-1]) == ["a", "b"]


def test_a_reference_to_an_unknown_step_names_the_input_and_suggests() -> None:
    problem = only_problem(
        workflow(step("extract"), step("s", inputs={"text": "{{ nope.result }}"}))
    )
    assert problem.startswith("<workflow>: steps[1].inputs.text: unknown step 'nope'")
    close = only_problem(workflow(step("extract"), step("s", inputs={"t": "{{ extrct.result }}"})))
    assert close.endswith("did you mean 'extract'?")


@pytest.mark.parametrize(
    ("template", "says"),
    [
        ("{{ extract.resutl }}", "reads .result or .status, not .resutl"),
        ("{{ extract }}", "incomplete reference: write extract.result"),
        ("{{ extract.result[ }}", "cannot read the reference"),
        ("{{ nothing_* .result }}", "no step id matches 'nothing_*'"),
    ],
)
def test_bad_reference_syntax_names_the_input(template: str, says: str) -> None:
    problem = only_problem(workflow(step("extract"), step("s", inputs={"text": template})))
    assert problem.startswith("<workflow>: steps[1].inputs.text: ")
    assert says in problem


def test_a_step_cannot_refer_to_itself() -> None:
    problem = only_problem(workflow(step("s", inputs={"x": "{{ s.result }}"})))
    assert "step 's' refers to itself" in problem


def test_a_reference_to_an_undeclared_input_is_reported() -> None:
    declared = {"topic": InputSpec("topic")}
    problem = only_problem(workflow(step("s", inputs={"x": "{{ inputs.topc }}"}), inputs=declared))
    assert problem.startswith("<workflow>: steps[0].inputs.x: unknown input 'topc'")
    assert "declared inputs: topic" in problem


@pytest.mark.parametrize(
    ("action", "says"),
    [
        ("no_such_module:fn", "cannot import module 'no_such_module'"),
        ("json:no_such_function", "'json' has no attribute 'no_such_function'"),
        ("json", "must look like 'package.module:function'"),
        ("os:sep", "is a str, not a callable"),
        ("missing.py:fn", "does not exist"),
        (None, "every step needs an action"),
    ],
)
def test_an_action_that_cannot_be_found_names_the_step(action: Any, says: str) -> None:
    problem = only_problem(workflow(step("s", action=action)))
    assert problem.startswith("<workflow>: steps[0].action: ")
    assert says in problem


def test_an_action_file_that_fails_to_import_says_why(tmp_path: Path) -> None:
    bad = tmp_path / "broken.py"
    bad.write_text("raise RuntimeError('nope')\n")
    problem = only_problem(workflow(step("s", action=f"{bad}:fn")))
    assert "raised RuntimeError: nope" in problem


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("retry_count", "x", "retry_count must be a whole number of attempts >= 0, not 'x'"),
        ("retry_count", -1, "not -1"),
        ("retry_count", True, "not True"),
        ("timeout_seconds", -1, "timeout_seconds must be a positive number of seconds, not -1"),
        ("timeout_seconds", 0, "not 0"),
        ("timeout_seconds", "5", "not '5'"),
        ("trigger_rule", "sometimes", "unknown trigger_rule 'sometimes'; use one of all_success"),
        ("condition", 42, "condition must be an expression string or a callable"),
        ("condition", "ghost.result", "unknown name ghost"),
        ("inputs", ["x"], "inputs must be a mapping"),
    ],
)
def test_a_field_of_the_wrong_type_is_reported_at_that_field(
    field: str, value: Any, says: str
) -> None:
    problem = only_problem(workflow(step("s", **{field: value})))
    assert problem.startswith(f"<workflow>: steps[0].{field}: ")
    assert says in problem


def test_an_input_the_action_does_not_accept_is_reported() -> None:
    problem = only_problem(workflow(step("s", action=needs_text, inputs={"text": "t", "txt": 1})))
    assert problem == (
        "<workflow>: steps[0].inputs: the action takes no input named 'txt' (it takes: text)"
    )


def test_a_required_parameter_the_step_does_not_give_is_reported() -> None:
    problem = only_problem(workflow(step("s", action=needs_text, inputs={})))
    assert problem.endswith("the action needs input 'text', which the step does not give")


def test_an_action_taking_keyword_arguments_accepts_any_input() -> None:
    workflow(step("s", action=work, inputs={"anything": 1})).compile()


@pytest.mark.parametrize(
    ("kwargs", "field", "says"),
    [
        ({"max_concurrency": 0}, "max_concurrency", "max_concurrency must be a whole number >= 1"),
        ({"agent_concurrency": {"llm": 0}}, "agent_concurrency.llm", "limit for agent 'llm'"),
        ({"on_failure": "explode"}, "on_failure", "on_failure must be 'cancel' or 'continue'"),
        ({"timeout_seconds": 0}, "timeout_seconds", "timeout_seconds must be a positive number"),
        ({"output": "{{ nope.result }}"}, "output", "unknown step 'nope'"),
    ],
)
def test_a_bad_workflow_setting_is_reported_at_its_field(
    kwargs: dict[str, Any], field: str, says: str
) -> None:
    problem = only_problem(workflow(step("a"), **kwargs))
    assert problem.startswith(f"<workflow>: {field}: ")
    assert says in problem


def test_a_workflow_needs_a_step() -> None:
    assert only_problem(workflow()) == "<workflow>: steps: a workflow needs at least one step"


def test_every_problem_is_reported_at_once() -> None:
    definition = workflow(
        step("a"),
        step("a"),
        step("b", "ghost", action="no_such_module:fn", retry_count="x"),
        step("c", inputs={"t": "{{ nope.result }}"}, trigger_rule="sometimes"),
        step("d", "e"),
        step("e", "d"),
        max_concurrency=0,
    )
    with pytest.raises(DefinitionError) as info:
        definition.compile()
    fields = [p.location.field for p in info.value.problems]
    assert sorted(fields, key=str) == sorted(
        [
            "steps[1].step_id",
            "steps[2].action",
            "steps[2].dependencies",
            "steps[2].retry_count",
            "steps[3].inputs.t",
            "steps[3].trigger_rule",
            "steps[4].dependencies",  # the cycle d -> e -> d
            "max_concurrency",
        ],
        key=str,
    )
    message = str(info.value)
    assert message.startswith("8 problems in the workflow definition:\n")
    assert all(str(p) in message for p in info.value.problems)


def test_a_definition_error_is_a_value_error() -> None:
    assert issubclass(DefinitionError, ValueError)


def test_a_retry_policy_with_negative_delays_is_refused_when_built() -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        RetryPolicy(initial_delay=-1)
