"""A streamed model call that is given up on only when it makes *no progress*, never for being slow.

Why: on a loaded 2-core machine the local model took more than the gateway's 300 s total timeout
to read a 5k-token prompt; the call was abandoned and retried while llama.cpp was still computing
it, so the retry queued behind the abandoned request and the run spent its whole time on one reply.

So the local model's replies are streamed (`stream=True` through litellm to llama.cpp's OpenAI
endpoint) and a watchdog thread watches for progress:

- a token (a content or tool-call delta) is progress;
- before the first token, the server process burning CPU is progress too (it is reading the
  prompt, or finishing a request queued before ours: slow, not dead);
- nothing of either for `stall_timeout_s` seconds is a stall. The watchdog then half-closes the
  HTTP connection (shutdown SHUT_WR: the server sees its client gone, ends the response and
  closes; llama.cpp stops generating at its next token) and the call waits for that close, up
  to CLOSE_GRACE_S, before it raises `Stalled`, which the gateway may retry: so the abandoned
  request has ended on the server before a retry is sent.

SSE keep-alive pings (llama-cpp-python's server sends one every 15 s) are not progress: a server
whose generation hangs keeps pinging. The HTTP client is our own (its sockets are tracked so that
the watchdog can shut them down from its thread: closing a socket another thread is blocked in
does not wake it). Usage: the stream's usage chunk when the server sends one (`include_usage`),
else the prompt counted by litellm's tokenizer and one completion token per streamed delta.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

WATCH_SLICE_S = 0.1  # how often the watchdog looks
CLOSE_GRACE_S = 10.0  # how long a server may take to end a response whose client left
CPU_BUSY_FRACTION = 0.2  # a server using this share of a CPU between two looks is working


class Stalled(Exception):
    """No token, and no work on the server, for `stall_timeout_s` seconds; the request was stopped."""


@dataclass
class StreamStats:
    """What the trajectory records about a streamed reply."""

    tokens: int = 0
    first_token_s: float | None = None
    duration_s: float = 0.0
    server_busy_s: float = 0.0  # time before the first token during which the server burned CPU
    aborted: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"tokens": self.tokens, "first_token_s": self.first_token_s, "duration_s": round(self.duration_s, 3),
                "server_busy_s": round(self.server_busy_s, 3), "aborted": self.aborted}  # fmt: skip


class _TrackingBackend:
    """httpcore's sync network backend, remembering each socket it opens (to shut them down)."""

    def __init__(self) -> None:
        import httpcore

        self._inner = httpcore.SyncBackend()
        self.sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    def connect_tcp(self, *args: Any, **kwargs: Any):
        stream = self._inner.connect_tcp(*args, **kwargs)
        with self._lock:
            self.sockets.append(stream.get_extra_info("socket"))
        return stream

    def connect_unix_socket(self, *args: Any, **kwargs: Any):
        stream = self._inner.connect_unix_socket(*args, **kwargs)
        with self._lock:
            self.sockets.append(stream.get_extra_info("socket"))
        return stream

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def shutdown_all(self, how: int = socket.SHUT_RDWR) -> None:
        with self._lock:
            for sock in self.sockets:
                try:
                    sock.shutdown(how)  # sends FIN at once; SHUT_RD also wakes a blocked recv
                except OSError:
                    pass


def _cpu_seconds(pid: int | None) -> float | None:
    if not pid:
        return None
    try:
        import psutil

        t = psutil.Process(pid).cpu_times()
        return t.user + t.system + getattr(t, "children_user", 0.0) + getattr(t, "children_system", 0.0)
    except Exception:  # psutil.Error: gone, or not ours to read
        return None


@dataclass
class _Watch:
    stall_timeout_s: float
    server_pid: int | None
    closed: threading.Event
    backend: _TrackingBackend
    stats: StreamStats
    last_progress: float = field(default_factory=time.monotonic)
    done: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        cpu = _cpu_seconds(self.server_pid)
        while not self.done.wait(WATCH_SLICE_S):
            now = time.monotonic()
            if self.stats.tokens == 0:
                busy = _cpu_seconds(self.server_pid)
                if busy is not None and cpu is not None and busy - cpu >= CPU_BUSY_FRACTION * WATCH_SLICE_S:
                    self.stats.server_busy_s += WATCH_SLICE_S
                    self.last_progress = now
                cpu = busy if busy is not None else cpu
            if self.closed.is_set():
                self.stats.aborted = "closed"
            elif now - self.last_progress > self.stall_timeout_s:
                self.stats.aborted = "stalled"
            else:
                continue
            self.backend.shutdown_all(socket.SHUT_WR)  # "I am gone": the server ends the response
            if not self.done.wait(CLOSE_GRACE_S):
                self.backend.shutdown_all(socket.SHUT_RDWR)  # it did not: stop reading it
            return


def stream_completion(
    litellm,
    *,
    model: str,
    messages: list[dict[str, Any]],
    api_base: str,
    api_key: str | None,
    params: dict[str, Any],
    metadata: dict[str, Any],
    stall_timeout_s: float,
    server_pid: int | None = None,
    closed: threading.Event | None = None,
    on_token: Callable[[StreamStats], None] | None = None,
) -> tuple[Any, StreamStats]:
    """One streamed call; returns (a litellm `ModelResponse` as a non-streamed call gives, stats).

    Raises `Stalled` when the watchdog gave up (the request is stopped on the server by then),
    and whatever litellm raises for connection and server errors."""
    import httpx
    import openai

    stats = StreamStats()
    backend = _TrackingBackend()
    transport = httpx.HTTPTransport()
    transport._pool._network_backend = backend  # httpx has no public hook for the network backend
    http = httpx.Client(transport=transport, timeout=httpx.Timeout(30.0, read=None))
    client = openai.OpenAI(base_url=api_base, api_key=api_key or "none", http_client=http, max_retries=0)
    watch = _Watch(stall_timeout_s, server_pid, closed or threading.Event(), backend, stats)
    watcher = threading.Thread(target=watch.run, name="llm-stall-watch", daemon=True)
    started = time.monotonic()
    chunks: list[Any] = []
    usage = None
    try:
        watcher.start()
        try:
            response = litellm.completion(model=model, messages=messages, stream=True, client=client,
                                          stream_options={"include_usage": True}, api_base=api_base,
                                          api_key=api_key, num_retries=0, metadata=metadata, **params)  # fmt: skip
            for chunk in response:
                chunks.append(chunk)
                if getattr(chunk, "usage", None) is not None and getattr(chunk.usage, "prompt_tokens", 0):
                    usage = chunk.usage
                if any(_has_delta(c) for c in (getattr(chunk, "choices", None) or [])):
                    stats.tokens += 1
                    watch.last_progress = time.monotonic()
                    if stats.first_token_s is None:
                        stats.first_token_s = round(watch.last_progress - started, 3)
                    if on_token is not None:
                        on_token(stats)
        except Exception:
            if stats.aborted:
                raise _stalled(stats) from None
            raise
        if stats.aborted:
            raise _stalled(stats)
    finally:
        watch.done.set()
        http.close()
        watcher.join(timeout=5)
        stats.duration_s = time.monotonic() - started
    return _assemble(litellm, model, messages, chunks, usage, stats), stats


def _stalled(stats: StreamStats) -> Exception:
    if stats.aborted == "closed":
        return Stalled("the gateway was closed during the call")
    where = f"after {stats.tokens} tokens" if stats.tokens else "before the first token, with the server idle"
    return Stalled(f"no progress {where}; the request was stopped")


def _has_delta(choice: Any) -> bool:
    delta = getattr(choice, "delta", None)
    return bool(delta is not None and (getattr(delta, "content", None) or getattr(delta, "tool_calls", None)))


def _assemble(litellm, model: str, messages: list[dict[str, Any]], chunks: list[Any], usage: Any, stats: StreamStats):
    """The chunks as one `ModelResponse`, with usage counted when the server sent none."""
    raw = litellm.stream_chunk_builder(chunks, messages=messages) if chunks else None
    if raw is None:
        raise litellm.APIConnectionError(message="the stream ended without a reply", model=model, llm_provider="openai")
    if usage is not None:
        prompt, completion = int(usage.prompt_tokens or 0), int(usage.completion_tokens or 0)
    else:
        try:
            prompt = int(litellm.token_counter(model=model, messages=messages))
        except Exception:
            from selfcoder.llm.budget import estimate_prompt_tokens

            prompt = estimate_prompt_tokens(messages)
        completion = stats.tokens
    raw.usage = litellm.Usage(prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion)
    return raw
