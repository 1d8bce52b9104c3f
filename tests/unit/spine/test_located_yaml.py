from __future__ import annotations

from spine.located_yaml import load_located, render_path


def test_every_value_has_its_line_and_a_missing_path_falls_back_to_its_parent() -> None:
    located, problems = load_located("name: p\nsteps:\n  - id: a\n    config:\n      topic: t\n")
    assert problems == []
    assert located is not None
    assert located.data == {"name": "p", "steps": [{"id": "a", "config": {"topic": "t"}}]}
    assert located.line(("steps", 0, "config", "topic")) == 5
    assert located.line(("steps", 0, "config", "nope")) == 5  # the mapping's first line
    assert render_path(("steps", 0, "config", "topic")) == "steps[0].config.topic"


def test_duplicate_keys_syntax_errors_and_empty_text_are_problems_with_lines() -> None:
    located, problems = load_located("a: 1\nb: 2\na: 3\n")
    assert located is not None
    assert located.data == {"a": 1, "b": 2}
    assert [(p.kind, p.path, p.line) for p in problems] == [("duplicate_key", ("a",), 3)]
    located, problems = load_located("a: [unclosed\n")
    assert located is None
    assert (problems[0].kind, problems[0].line) == ("syntax", 2)
    located, problems = load_located("")
    assert located is None
    assert problems[0].kind == "empty"
