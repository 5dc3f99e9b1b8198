"""What /privacy and the welcome tell respondents: the honest, jargon-free promise."""

from __future__ import annotations

import pytest

from .conftest import USER_ID, link_token, open_wave
from .fake_telegram import FakeUser

JARGON = ("eenrichtingscode", "one-way", "hmac", "hash", "sqlcipher", "salt", "wal")
FACTS = {
    "nl": (
        "Telegram-nummer",  # the id arrives with every tap
        "eigen chat",  # typed comments stay in the respondent's own chat
        "versleuteld",  # encrypted at rest
        "alleen uw eigen chat heeft",  # unfinished answers: locked by a key the chat holds
        "ten minste 4 anderen uit uw organisatie en rol",  # finished: released k at a time
        "ook niet wie de sleutel",  # after closing even the key holder links nothing
        "chatnummer, uw organisatie en uw taal",  # what opting in stores
        "minstens 5 mensen",  # k
        "minstens 10",  # comments
        "niet tegen 4 mensen uit uw eigen groep",  # the honest limit: k - 1 insiders
    ),
    "en": (
        "Telegram number",
        "own chat",
        "encrypted",
        "only your own chat holds",
        "at least 4 others of your organisation and role",
        "not even whoever holds the database key",
        "chat number, your organisation and your language",
        "at least 5 people",
        "at least 10",
        "not against 4 people of your own group",
    ),
}


@pytest.mark.parametrize("lang", ["nl", "en"])
async def test_privacy_says_what_is_kept_and_what_is_not_in_plain_words(app, server, lang):
    """/privacy and the welcome give every fact of the promise, without jargon."""
    user = FakeUser(server, USER_ID, language_code=lang)
    await user.send("/privacy")
    text = user.last["text"]
    for fact in FACTS[lang]:
        assert fact in text, fact
    words = text.lower().replace(",", " ").replace(".", " ").split()
    assert not [w for w in words if w in JARGON or w.startswith("eenrichting")]
    assert len(text) < 4096
    await open_wave(app)
    await user.send(f"/start {await link_token(app, 'dijkhoven')}")
    welcome = user.last["text"]
    assert all(fact in welcome for fact in FACTS[lang])
    assert len(welcome) < 4096
