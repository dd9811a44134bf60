"""The one exception a request can end with; the HTTP layer turns it into a JSON answer."""

from __future__ import annotations

from typing import Any

CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHENTICATED",
    404: "RESOURCE_DOES_NOT_EXIST",
    408: "REQUEST_TIMEOUT",
    413: "REQUEST_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    422: "INVALID_PARAMETER_VALUE",
    500: "INTERNAL_ERROR",
    503: "SERVICE_UNAVAILABLE",
}


class RequestError(Exception):
    """A request the server refuses, with the column and the problem when a column is at fault.

    ``problem`` is one of ``missing``, ``extra``, ``type``, ``unseen_category``, ``width``,
    ``format`` so that a client can branch on it without parsing the sentence.
    """

    def __init__(
        self,
        status: int,
        message: str,
        *,
        column: str | None = None,
        problem: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.column = column
        self.problem = problem
        self.headers = headers or {}  # Retry-After on a 503, Connection: close on a 408

    def body(self) -> dict[str, Any]:
        """Readable by MLflow clients (``error_code``/``message``) and OIP ones (``error``)."""
        out: dict[str, Any] = {
            "error": self.message,
            "error_code": CODES.get(self.status, "BAD_REQUEST"),
            "message": self.message,
        }
        if self.column is not None:
            out["column"] = self.column
        if self.problem is not None:
            out["problem"] = self.problem
        return out
