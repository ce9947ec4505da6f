"""The one error family of the package: every failure a user can cause is a :class:`SemeqError`.

``code`` is a short machine-readable word that the OSC protocol sends in ``/semeq/error`` replies
and the CLI maps to an exit status; the message is a sentence a person understands.
"""


class SemeqError(ValueError):
    """A request that cannot be carried out, with a clear message."""

    code = "error"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
