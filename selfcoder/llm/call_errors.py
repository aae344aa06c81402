"""What a failed model call was, for the gateway's retries and its one-line `ModelError`: the
kind ("rate limit", "no progress", ...), the message without litellm's prefixes, and whether a
retry may help. Rate limits, timeouts, stalls, connection and server errors may pass; an
authentication failure or a bad request is the same on every try, so it is never retried."""

from __future__ import annotations

RETRYABLE = ("RateLimitError", "Timeout", "APIConnectionError", "InternalServerError",
             "ServiceUnavailableError", "BadGatewayError")  # fmt: skip


def retryable(e: BaseException) -> bool:
    """Whether another try of the call may succeed (a stalled local reply, or a transient error)."""
    return type(e).__name__ == "Stalled" or any(c.__name__ in RETRYABLE for c in type(e).__mro__)


def one_line(e: BaseException) -> str:
    """The error's message without the exception names litellm and the providers put in front."""
    text = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    # "litellm.InternalServerError: InternalServerError: OpenAIException - Connection error." → "Connection error."
    while True:
        head, sep, rest = text.partition(": ")
        if sep and (head.startswith("litellm.") or head.endswith(("Error", "Exception", "Timeout"))) and " " not in head:
            text = rest
            continue
        head, sep, rest = text.partition(" - ")
        if sep and head.endswith(("Exception", "Error")) and " " not in head:
            text = rest
            continue
        return text[:300]


def error_kind(e: BaseException) -> str:
    """What went wrong, in words: "rate limit", "timeout", "connection error", "no progress", ..."""
    if type(e).__name__ == "Stalled":
        return "no progress"
    if "connection error" in str(e).lower() or "connect" in type(e).__name__.lower():
        return "connection error"
    names = {cls.__name__ for cls in type(e).__mro__}
    for name, kind in (("RateLimitError", "rate limit"), ("Timeout", "timeout"), ("APIConnectionError", "connection error"),
                       ("AuthenticationError", "authentication failed"), ("BadRequestError", "bad request"),
                       ("NotFoundError", "not found"), ("ServiceUnavailableError", "service unavailable"),
                       ("InternalServerError", "server error"), ("BadGatewayError", "server error")):  # fmt: skip
        if name in names:
            return kind
    return type(e).__name__
