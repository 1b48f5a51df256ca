"""Call recordings: the ``recording`` objects of ``log/retrieve`` and the bearer links they carry.

A link is ``/play-recording-public/<base64 of URL-encoded JSON>?rlt=<account token>``, as
the live service's are: anyone holding it can download the call, with no ``auth_token``.
The ``rlt`` value is one per account (derived from the API token here), so it is a secret.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
from typing import Any
from urllib.parse import quote, unquote

from airflow_provider_convoso.testing.emulator.world import World

#: The path every recording link starts with.
RECORDING_PATH = "/play-recording-public/"

#: A recording's bytes start as an MP3 with an ID3 tag does.
_ID3 = b"ID3\x04\x00\x00\x00\x00\x00\x00"


class RecordingAnswers(World):
    """Recording objects for call-log rows, and the downloads their links serve."""

    @property
    def recording_token(self) -> str:
        """The account's ``rlt`` value: every link carries it (a test looks for it in outputs)."""
        return hashlib.sha256(f"rlt:{self.token}".encode()).hexdigest()[:32]

    def recording_link(self, call_id: str) -> str:
        """The public link of a call's recording."""
        payload = quote(json.dumps({"account_id": 4242, "u_id": call_id.rjust(32, "0")}))
        encoded = base64.urlsafe_b64encode(payload.encode()).decode()
        return f"{self.url}{RECORDING_PATH}{encoded}?rlt={self.recording_token}"

    def recording_objects(self, call_id: str) -> list[dict[str, Any]]:
        """The ``recording`` list of an answered call (``public_url`` first, ``src`` a bare name)."""
        knobs = self._knobs
        number = int(call_id)
        no_link = knobs.recording_no_link_every and number % knobs.recording_no_link_every == 0
        return [
            {
                "recording_id": f"r{call_id}",
                "src": f"{call_id}-all.mp3",
                "filename": f"{call_id}-all.mp3",
                "type": "mp3",
                "public_url": None if no_link else self.recording_link(call_id),
            }
        ]

    def recording_audio(self, call_id: str) -> bytes:
        """A recording's bytes: deterministic per call, a few to a few dozen kilobytes."""
        size = self._knobs.recording_bytes or 4_000 + int(call_id) % 17 * 1_500
        return _ID3 + random.Random(f"{self.seed}:audio:{call_id}").randbytes(size - len(_ID3))

    def recording_answer(self, path: str, params: dict[str, str]) -> tuple[int, str, bytes]:
        """A download: ``(status, content type, body)``; the knobs make some fail as the live ones do."""
        knobs = self._knobs
        try:
            decoded = json.loads(unquote(base64.urlsafe_b64decode(path[len(RECORDING_PATH) :]).decode()))
            call_id = str(int(decoded["u_id"]))
        except (ValueError, KeyError, TypeError):
            return 404, "text/html", b"<html><body>Not found</body></html>"
        number = int(call_id)
        if params.get("rlt") != self.recording_token or (
            knobs.recording_expired_every and number % knobs.recording_expired_every == 0
        ):
            return 403, "text/html", b"<html><body>This link has expired</body></html>"
        if knobs.recording_missing_every and number % knobs.recording_missing_every == 0:
            return 404, "text/html", b"<html><body>Recording not found</body></html>"
        if knobs.recording_tiny_every and number % knobs.recording_tiny_every == 0:
            return 200, "text/html; charset=UTF-8", b"<html><body>error</body></html>"
        return 200, "audio/mpeg", self.recording_audio(call_id)
