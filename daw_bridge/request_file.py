"""Requests as files: ``semeq send --request FILE --answer FILE``, what the REAPER scripts run.

REAPER's ``ExecProcess`` runs a program without a shell and splits its command line its own way
(see ``docs/reaper.md``), so the scripts put no data on the command line: they write the request
as a JSON object (``{"op": "adapt", "text": "warmer", ...}``) into a file, start the client
without waiting, and poll for the answer file. This module is the client's side of that:

1. ``<answer>.started`` is created at once (the script knows the client runs);
2. the request is sent through ``send(op, fields)`` (the OSC client); a request naming a REAPER
   track's ``items`` is sent with ``path`` = the request file itself, which the server reads and
   mixes (:func:`daw_bridge.items.read_track_file`): an item list can be far longer than a UDP
   datagram. Every failure becomes an
   error answer (``{"ok": false, "code": "server_down" | "timeout" | "bad_request_file" | the
   server's code, "message": ...}``) so that the script always gets an answer file;
3. the answer is written atomically (temporary name + rename: a poll never reads half a file),
   unless the request file has been deleted meanwhile: that is how a script cancels.

Only ``json``, ``os`` and ``pathlib`` are imported (the client must start fast: REAPER pays for it
on every action), so the answer's atomic write is done here rather than with :mod:`daw_bridge.files`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

#: Largest request file read (bytes): an item list of a few hundred items fits many times over.
MAX_REQUEST_BYTES = 4 * 1024 * 1024

Send = Callable[[str, dict], dict]

#: Members of a request that describe a REAPER track; they stay in the file, which travels as ``path``.
TRACK_FIELDS = ("items", "span_s", "length_s", "sample_rate_hz")

#: Exit codes, as ``semeq send``'s: 0 answered, 1 bad request file, 3 server down, 4 timeout, 5 error reply.
EXIT_CODES = {"server_down": 3, "timeout": 4, "bad_request_file": 1}


def started_marker(answer_path: Path) -> Path:
    """The file created when the client starts: ``<answer>.started``."""
    return Path(str(answer_path) + ".started")


def read_json(path: Path, max_bytes: int, what: str) -> Any:
    """The JSON value in a file of at most ``max_bytes``; :class:`OSError` if unreadable,
    :class:`ValueError` (a sentence naming ``what``) if too large or not JSON."""
    data = Path(path).read_bytes()
    if len(data) > max_bytes:
        raise ValueError(f"the {what} {path} is larger than {max_bytes} bytes")
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"the {what} {path} is not JSON: {exc}") from None


def read_request(request_path: Path) -> tuple[str, dict]:
    """The op and fields of a request file; raises :class:`ValueError` with a sentence."""
    try:
        request = read_json(request_path, MAX_REQUEST_BYTES, "request file")
    except OSError as exc:
        raise ValueError(f"cannot read the request file {request_path}: {exc.strerror or exc}") from None
    if not isinstance(request, Mapping) or not isinstance(request.get("op"), str):
        raise ValueError("the request file must hold a JSON object with an 'op' (e.g. \"adapt\")")
    fields = {k: v for k, v in request.items() if k != "op"}
    if "items" in fields:  # the server reads the items from this very file (see daw_bridge.items)
        fields = {k: v for k, v in fields.items() if k not in TRACK_FIELDS}
        fields["path"] = str(Path(request_path).resolve())
    return request["op"], fields


def write_answer(path: Path, answer: dict) -> None:
    """Write the answer through a hidden temporary name beside ``path`` and a rename (atomic)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(answer, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def error(code: str, message: str, **extra: Any) -> dict:
    """An error answer as the server shapes them."""
    return {"ok": False, "code": code, "message": message, **extra}


def answer_request_file(request_path: Path, answer_path: Path, send: Send, failures: Mapping[type, str]) -> int:
    """Answer one request file into ``answer_path``; returns the exit code.

    ``send(op, fields)`` returns the answer dict; an exception whose type is a key of ``failures``
    becomes the error answer with that code (an exception carrying ``.answer`` uses that answer).
    """
    request_path, answer_path = Path(request_path), Path(answer_path)
    started_marker(answer_path).touch()
    try:
        op, fields = read_request(request_path)
    except ValueError as exc:
        answer = error("bad_request_file", str(exc))
    else:
        try:
            answer = send(op, fields)
        except tuple(failures) as exc:
            answer = getattr(exc, "answer", None) or error(_code_for(exc, failures), str(exc), op=op)
        except Exception as exc:  # noqa: BLE001 - a bug here must still give the waiting script an answer
            answer = error("client_error", f"the client failed: {type(exc).__name__}: {exc}", op=op)
    if not request_path.exists():  # cancelled by the script: nobody waits for this answer
        started_marker(answer_path).unlink(missing_ok=True)
        return 0
    write_answer(answer_path, answer)
    if answer.get("ok", False):
        return 0
    return EXIT_CODES.get(answer.get("code"), 5)


def _code_for(exc: BaseException, failures: Mapping[type, str]) -> str:
    for kind, code in failures.items():
        if isinstance(exc, kind):
            return code
    return "error"
