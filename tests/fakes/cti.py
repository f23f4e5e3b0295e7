"""A local fake PBX speaking Zammad's generic CTI API (CHANNELS.md §6.2, §6.4).

``PbxDriver`` builds ``newCall`` / ``answer`` / ``hangup`` events exactly as the contract's examples do,
sends them as JSON or as form data (``user[]`` repeated), with the token in the URL's ``token`` query
parameter (what a PBX built for Zammad can be given) or in a header, and returns the responses.
"""

from __future__ import annotations

import itertools
import json
import urllib.parse

TOKEN = "cti_token_for_tests"


class PbxDriver:
    def __init__(self, *, path: str, token: str = TOKEN, to: str = "492214710334"):
        self.path = path
        self.token = token
        self.to = to
        self._ids = itertools.count(1)

    def new_call_id(self) -> str:
        return f"307fa962-de8d-4ffc-817b-{next(self._ids):012d}"

    def event(self, event: str, call_id: str, *, caller: str = "493023125741", direction: str = "in",
              **extra) -> dict:
        ends = (caller, self.to) if direction == "in" else (self.to, caller)
        return {"event": event, "from": ends[0], "to": ends[1], "direction": direction, "callId": call_id, **extra}

    def post(self, client, payload: dict, *, form: bool = False, token: str | None = None, in_header: bool = False):
        token = self.token if token is None else token
        target = self.path if in_header else f"{self.path}?{urllib.parse.urlencode({'token': token})}"
        headers = {"X-Cti-Token": token} if in_header else {}
        if form:
            pairs = []
            for name, value in payload.items():
                if name == "user" and isinstance(value, list):
                    pairs += [("user[]", item) for item in value]
                else:
                    pairs.append((name, value))
            return client.post(target, data=urllib.parse.urlencode(pairs),
                               content_type="application/x-www-form-urlencoded", headers=headers)
        return client.post(target, data=json.dumps(payload), content_type="application/json", headers=headers)

    def call(self, client, *, caller: str = "493023125741", answered_by: str = "", cause: str = "normalClearing",
             users: list[str] | None = None, form: bool = False) -> tuple[str, list]:
        """A whole call: newCall, then answer (when ``answered_by``), then hangup. Returns (callId, responses)."""
        call_id = self.new_call_id()
        steps = [self.event("newCall", call_id, caller=caller, user=users or [], queue="support")]
        if answered_by:
            steps.append(self.event("answer", call_id, caller=caller, answeringNumber=answered_by))
        steps.append(self.event("hangup", call_id, caller=caller, cause=cause, answeringNumber=answered_by))
        return call_id, [self.post(client, step, form=form) for step in steps]
