"""References, string templates and conditions: parsed once, evaluated safely."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from plait import ExpressionError
from plait.expressions import (
    Reference,
    bind_reference,
    compile_condition,
    compile_value,
    condition_names,
    parse_reference,
    references_in,
    unwrap_condition,
)

IDS = ["extract", "analyze", "extract_sales", "extract_marketing", "extract_finance"]
INDEX = {sid: i for i, sid in enumerate(IDS)}


@dataclass
class Scope:
    results: list[Any]
    statuses: list[Any] = field(default_factory=lambda: ["completed"] * len(IDS))
    run_inputs: dict[str, Any] = field(default_factory=dict)


def scope(run_inputs: dict[str, Any] | None = None, **results: Any) -> Scope:
    column = [results.get(sid) for sid in IDS]
    return Scope(column, run_inputs=run_inputs or {})


def render(value: Any, sc: Scope) -> Any:
    resolver = compile_value(value, lambda ref: bind_reference(ref, INDEX, IDS))
    return value if resolver is None else resolver(sc)


# --- parsing references ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("extract.result", Reference("extract.result", "extract", "result", ())),
        ("extract.status", Reference("extract.status", "extract", "status", ())),
        ("a.result.text", Reference("a.result.text", "a", "result", ("text",))),
        ("a.result[0]", Reference("a.result[0]", "a", "result", (0,))),
        ("a.result[-1]", Reference("a.result[-1]", "a", "result", (-1,))),
        ("a.result['k ey']", Reference("a.result['k ey']", "a", "result", ("k ey",))),
        ('a.result["k"].x', Reference('a.result["k"].x', "a", "result", ("k", "x"))),
        ("inputs.name", Reference("inputs.name", "inputs", "name", ())),
        ("extract_*.result", Reference("extract_*.result", "extract_*", "result", ())),
    ],
)
def test_a_reference_is_parsed_into_root_attribute_and_path(text: str, expected: Reference) -> None:
    assert parse_reference(text) == expected


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("extract", "incomplete reference: write extract.result"),
        ("inputs", "incomplete reference: write inputs.NAME"),
        ("extract.resutl", "reads .result or .status, not .resutl"),
        ("extract.result[", "cannot read the reference after 'extract.result'"),
        ("extract.result..x", "use .field, [0] or ['key']"),
        ("1abc.result", "starts with a step id or 'inputs'"),
        ("", "starts with a step id or 'inputs'"),
    ],
)
def test_bad_reference_syntax_raises_an_expression_error_saying_what_is_wrong(
    text: str, says: str
) -> None:
    with pytest.raises(ExpressionError) as info:
        parse_reference(text)
    assert says in str(info.value)
    assert info.value.expression == text


def test_references_are_found_anywhere_inside_nested_inputs() -> None:
    value = {"a": ["x {{ extract.result }} y", {"b": "{{analyze.result.score}}"}], "c": 3}
    assert [r.text for r in references_in(value)] == ["extract.result", "analyze.result.score"]


# --- resolving references ----------------------------------------------------------


def test_a_whole_string_reference_resolves_to_the_native_value() -> None:
    result = {"text": "hello", "scores": [0.5, 0.9]}
    assert render("{{ extract.result }}", scope(extract=result)) is result
    assert render("{{extract.result.scores}}", scope(extract=result)) == [0.5, 0.9]
    assert render("{{ analyze.result }}", scope(analyze=42)) == 42


def test_an_embedded_reference_is_interpolated_into_the_string() -> None:
    sc = scope(extract="hello", analyze={"score": 0.5, "tags": ["a"]})
    assert render("say {{ extract.result }}!", sc) == "say hello!"
    assert render("{{ analyze.result.score }}/{{ analyze.result.tags }}", sc) == '0.5/["a"]'


def test_an_interpolated_none_becomes_empty_text() -> None:
    assert render("[{{ extract.result }}]", scope(extract=None)) == "[]"


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ extract.result.doc.title }}", "T"),  # .field through nested mappings
        ("{{ extract.result.doc.pages[0] }}", "p1"),  # [0] indexes a list
        ("{{ extract.result.doc.pages[-1] }}", "p2"),  # negative indexes count from the end
        ("{{ extract.result['odd key'] }}", 1),  # ['key'] for keys that are not names
        ('{{ extract.result["odd key"] }}', 1),  # double quotes work too
        ("{{ extract.result.rows[1]['n'] }}", 2),  # segments chain
    ],
)
def test_fields_indexes_and_keys_are_followed(template: str, expected: Any) -> None:
    result = {
        "doc": {"title": "T", "pages": ["p1", "p2"]},
        "odd key": 1,
        "rows": [{"n": 1}, {"n": 2}],
    }
    assert render(template, scope(extract=result)) == expected


def test_an_attribute_of_an_object_result_is_read() -> None:
    @dataclass
    class Analysis:
        is_safe: bool
        _secret: str = "s"

    assert render("{{ analyze.result.is_safe }}", scope(analyze=Analysis(True))) is True
    with pytest.raises(ExpressionError, match="has no '_secret'"):
        render("{{ analyze.result._secret }}", scope(analyze=Analysis(True)))


def test_a_missing_key_names_the_keys_that_exist() -> None:
    with pytest.raises(ExpressionError, match=r"keys: text, score\) has no 'txt'"):
        render("{{ extract.result.txt }}", scope(extract={"text": "t", "score": 1}))


def test_a_status_reference_reads_the_steps_status_as_text() -> None:
    sc = scope()
    sc.statuses[INDEX["extract"]] = "skipped"
    assert render("{{ extract.status }}", sc) == "skipped"


def test_a_wildcard_reference_lists_matching_results_in_definition_order() -> None:
    sc = scope(extract_sales=[1], extract_marketing=[2], extract_finance=[3], extract="no")
    assert render("{{ extract_*.result }}", sc) == [[1], [2], [3]]
    assert render("{{ extract_*.result[0] }}", sc) == [1, 2, 3]


def test_a_wildcard_that_matches_no_step_is_an_error() -> None:
    with pytest.raises(ExpressionError, match="no step id matches 'load_\\*'"):
        bind_reference(parse_reference("load_*.result"), INDEX, IDS)


def test_a_reference_to_an_unknown_step_is_an_error() -> None:
    with pytest.raises(ExpressionError, match="unknown step 'nope'"):
        bind_reference(parse_reference("nope.result"), INDEX, IDS)


def test_input_references_read_the_run_inputs() -> None:
    sc = scope(run_inputs={"name": "Ada", "cfg": {"n": [4, 5]}})
    assert render("{{ inputs.name }}", sc) == "Ada"
    assert render("hi {{ inputs.name }}", sc) == "hi Ada"
    assert render("{{ inputs.cfg.n[1] }}", sc) == 5


def test_values_without_references_are_used_as_they_are() -> None:
    assert compile_value("plain {text}", lambda ref: pytest.fail("no bind")) is None
    assert compile_value({"a": [1, "b"]}, lambda ref: pytest.fail("no bind")) is None
    assert render({"n": 1, "t": ["{{ extract.result }}", 2]}, scope(extract="x")) == {
        "n": 1,
        "t": ["x", 2],
    }


# --- conditions --------------------------------------------------------------------


def evaluate(expression: str, sc: Scope) -> Any:
    return compile_condition(expression, INDEX)(sc)


@pytest.mark.parametrize(
    ("analysis", "expected"),
    [
        ({"is_safe": True, "confidence": 0.99}, True),
        ({"is_safe": True, "confidence": 0.5}, False),
        ({"is_safe": False, "confidence": 0.99}, False),
    ],
)
def test_the_guides_moderation_condition_reads_as_python(
    analysis: dict[str, Any], expected: bool
) -> None:
    text = "analyze.result.is_safe and analyze.result.confidence > 0.95"
    assert evaluate(text, scope(analyze=analysis)) is expected


def test_a_condition_may_be_wrapped_in_braces() -> None:
    assert unwrap_condition(" {{ analyze.result.ok }} ") == "analyze.result.ok"
    assert evaluate("{{ analyze.result.ok }}", scope(analyze={"ok": True})) is True


def test_a_condition_reads_mapping_keys_before_methods() -> None:
    # `items` is a dict method; in a condition it means the key "items".
    assert evaluate("len(analyze.result.items) == 2", scope(analyze={"items": [1, 2]})) is True


def test_a_condition_reads_statuses_and_inputs() -> None:
    sc = scope(run_inputs={"threshold": 3})
    sc.statuses[INDEX["extract"]] = "failed"
    assert evaluate("extract.status == 'failed' and inputs.threshold > 2", sc) is True


def test_a_condition_naming_an_unknown_step_is_refused_when_compiled() -> None:
    with pytest.raises(ExpressionError, match="unknown name analyse"):
        compile_condition("analyse.result.ok", INDEX)


def test_a_condition_with_bad_syntax_says_where() -> None:
    with pytest.raises(ExpressionError, match="invalid condition syntax at column"):
        compile_condition("analyze.result.ok and", INDEX)


def test_a_missing_key_in_a_condition_is_reported_once() -> None:
    with pytest.raises(ExpressionError) as info:
        evaluate("analyze.result.nope", scope(analyze={"ok": True}))
    assert str(info.value) == ("the value (keys: ok) has no 'nope' (in 'analyze.result.nope')")


def test_condition_names_ignore_comprehension_variables_and_safe_functions() -> None:
    assert condition_names("all(x > 1 for x in analyze.result) and len(extract.result)") == {
        "analyze",
        "extract",
    }


@pytest.mark.parametrize(
    "expression",
    [
        "().__class__",
        "().__class__.__bases__[0].__subclasses__()",
        "analyze.result.__class__",
        "analyze.__class__.__mro__",
        "'{0.__class__}'.format(1)",
        "'a' * (10**9)",
        "10 ** 10 ** 10",
        "(lambda: 1)()",
        "str.mro()",
    ],
)
def test_unsafe_expressions_raise_expression_errors_when_evaluated(expression: str) -> None:
    with pytest.raises(ExpressionError):
        evaluate(expression, scope(analyze={"ok": True}))


@pytest.mark.parametrize(
    "expression",
    ["__import__('os')", "open('/etc/passwd')", "eval('1')", "globals()", "getattr(1, 'real')"],
)
def test_builtins_outside_the_safe_list_are_unknown_names(expression: str) -> None:
    with pytest.raises(ExpressionError, match="unknown name"):
        compile_condition(expression, INDEX)


def test_an_unsafe_condition_never_executes_anything(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    attempts = [
        f"__import__('os').system('touch {marker}')",
        f"().__class__.__base__.__subclasses__()[0]('touch {marker}')",
        f"analyze.result.__class__.__init__.__globals__['os'].system('touch {marker}')",
    ]
    for expression in attempts:
        with pytest.raises(ExpressionError):
            evaluate(expression, scope(analyze={"ok": True}))
    assert not marker.exists()
