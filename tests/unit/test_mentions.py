"""People @mentioned in a Teams message, read at the edge: the bot itself is not one of them."""

from __future__ import annotations

from typing import Any

from bot.teams.handler import mentions_of, to_turn
from bot.turn import Mention

BOT = "28:bot-id"


def _message(*entities: Any) -> dict[str, Any]:
    return {
        "type": "message",
        "id": "a1",
        "text": "<at>Lärträff</at> lägg till arrangör <at>Megan Bowen</at>",
        "serviceUrl": "https://smba.example",
        "from": {"id": "29:alex", "aadObjectId": "aad-alex", "name": "Alex"},
        "recipient": {"id": BOT, "name": "Lärträff"},
        "conversation": {"id": "19:channel;messageid=1", "conversationType": "channel"},
        "entities": list(entities),
    }


def _mention(teams_id: str, name: str) -> dict[str, Any]:
    return {"type": "mention", "mentioned": {"id": teams_id, "name": name}, "text": f"<at>{name}</at>"}


def test_the_people_mentioned_without_the_bot_in_their_order() -> None:
    activity = _message(
        _mention(BOT, "Lärträff"), {"type": "clientInfo", "locale": "sv-SE"}, _mention("29:megan", "Megan Bowen")
    )
    turn = to_turn(activity)
    assert turn.text == "lägg till arrangör"
    assert turn.mentions == (Mention("29:megan", "Megan Bowen"),)


def test_malformed_entities_are_no_mentions() -> None:
    activity = _message("mention", {"type": "mention"}, {"type": "mention", "mentioned": "29:x"}, None)
    assert mentions_of(activity) == ()
    assert mentions_of({**activity, "entities": "not a list"}) == ()
