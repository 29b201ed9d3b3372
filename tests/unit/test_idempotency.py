"""rule IDM-1's pure part: what a key may be, when two requests are the same, what a retry gets."""

from __future__ import annotations

import pytest

from billing.idempotency import KeyState, Verdict, fingerprint, key_problem, verdict


@pytest.mark.parametrize(
    ("key", "refused"),
    [
        ("6f1c0c1e-6a55-4b7e-9d8e-2f3a9c1b7d42", False),
        ("a", False),
        ("~ !", False),
        ("k" * 255, False),
        ("", True),
        ("k" * 256, True),
        ("tab\there", True),
        ("caf\u00e9", True),
        ("del\x7f", True),
    ],
)
def test_rule_idm_1_a_key_is_1_to_255_printable_ascii_characters(key: str, refused: bool) -> None:
    assert (key_problem(key) is not None) is refused


def test_rule_idm_1_the_same_request_has_the_same_fingerprint() -> None:
    base = fingerprint("mutation A { x }", "A", {"a": 1, "b": [1, 2]})
    assert fingerprint("mutation A { x }", "A", {"b": [1, 2], "a": 1}) == base
    assert fingerprint("mutation A { x }", "A", {"a": 1, "b": [2, 1]}) != base
    assert fingerprint("mutation A { x }", "A", {"a": 2, "b": [1, 2]}) != base
    assert fingerprint("mutation A { y }", "A", {"a": 1, "b": [1, 2]}) != base
    assert fingerprint("mutation A { x }", None, {"a": 1, "b": [1, 2]}) != base
    assert fingerprint("mutation A { x }", None, None) == fingerprint("mutation A { x }", None, {})


@pytest.mark.parametrize(
    ("stored", "state", "sent", "expected"),
    [
        ("f1", KeyState.DONE, "f1", Verdict.REPLAY),
        ("f1", KeyState.IN_PROGRESS, "f1", Verdict.IN_PROGRESS),
        ("f1", KeyState.DONE, "f2", Verdict.REUSED),
        ("f1", KeyState.IN_PROGRESS, "f2", Verdict.REUSED),
    ],
)
def test_rule_idm_1_what_a_request_under_a_used_key_gets(
    stored: str, state: KeyState, sent: str, expected: Verdict
) -> None:
    assert verdict(stored, state, sent) is expected
