"""The DAG layout the dashboard draws: columns by longest path, rows without overlap."""

from __future__ import annotations

from plait.server.layout import layout


def test_a_diamond_takes_three_columns_and_its_middle_two_rows() -> None:
    # a -> b, a -> c, (b, c) -> d
    graph = layout(["a", "b", "c", "d"], [(), (0,), (0,), (1, 2)])
    nodes = {n["id"]: n for n in graph["nodes"]}
    assert [nodes[i]["level"] for i in "abcd"] == [0, 1, 1, 2]
    assert {nodes["b"]["row"], nodes["c"]["row"]} == {0, 1}
    assert nodes["b"]["y"] != nodes["c"]["y"]
    assert nodes["a"]["x"] < nodes["b"]["x"] < nodes["d"]["x"]
    assert len(graph["edges"]) == 4


def test_a_step_sits_after_its_longest_chain_of_dependencies() -> None:
    # a -> b -> c, and a -> c directly: c still comes after b
    graph = layout(["a", "b", "c"], [(), (0,), (0, 1)])
    assert [n["level"] for n in graph["nodes"]] == [0, 1, 2]


def test_rows_follow_their_predecessors_to_avoid_crossings() -> None:
    # x1 -> y2 and x2 -> y1, declared crosswise: y1 is drawn beside x2
    graph = layout(["x1", "x2", "y1", "y2"], [(), (), (1,), (0,)])
    rows = {n["id"]: n["row"] for n in graph["nodes"]}
    assert rows["y2"] == rows["x1"]
    assert rows["y1"] == rows["x2"]


def test_an_empty_graph_has_no_size() -> None:
    graph = layout([], [])
    assert graph["nodes"] == []
    assert graph["width"] == 32
