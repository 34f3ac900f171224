"""The parsed states the directory keeps for replies (services/directory/views.py): an
entry is handed out only for the version it was parsed at, so a reply never shows an
actor as it was before a change the view has applied."""

from __future__ import annotations

from services.directory import views
from tests.unit.test_directory_domain import apply, new_actor, update


def test_a_state_is_handed_out_only_for_its_own_version():
    parsed = views.ParsedStates()
    first = new_actor()
    parsed.put(first)
    assert parsed.get(first.id, first.version) is first
    changed = apply(first, update(first, name="Wohnungsgenossenschaft Saarbrücken eG"))
    assert changed.version != first.version
    # The view holds the newer version now: the kept state is not it.
    assert parsed.get(first.id, changed.version) is None
    parsed.put(changed)
    assert parsed.get(first.id, changed.version) is changed
    assert parsed.get(first.id, first.version) is None


def test_the_least_recently_used_state_goes_first_when_full():
    parsed = views.ParsedStates(size=2)
    a, b, c = (new_actor().model_copy(update={"id": actor_id}) for actor_id in ("a", "b", "c"))
    parsed.put(a)
    parsed.put(b)
    assert parsed.get("a", a.version) is a  # a used more recently than b now
    parsed.put(c)
    assert parsed.get("b", b.version) is None
    assert parsed.get("a", a.version) is a and parsed.get("c", c.version) is c
