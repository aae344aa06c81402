"""The scripted model `scripted/<path>`: the only stand-in the test suite uses for a model.

It replays the replies listed in a YAML or JSON file, in order, through the real
`litellm.completion` path (registered as a litellm custom provider), so the gateway's
retries, accounting, budgets and logging run exactly as with a hosted model.

Script format::

    replies:                        # required, in order
      - "a reply text"
      - {content: "another", usage: {prompt_tokens: 10, completion_tokens: 3}}
      - {error: rate_limit, message: "slow down"}   # rate_limit|timeout|server_error|
                                                    # unavailable|connection|bad_request|auth
    record: sent.jsonl              # optional; default <script>.sent.jsonl next to it
    pricing: {input_per_token: 0.001, output_per_token: 0.002}   # optional; default: unpriced

Each gateway (one per run) replays the script from its first reply; calls made straight
through litellm share one position per process. Every request is recorded, in memory and appended to the record file, so a test in
another process can read what the model was sent (`sent_requests(path)`). Running out of
replies raises a non-retryable error naming the script; it never blocks. Like a real model, it
never reports more completion tokens than the call's `max_tokens` (a reply's `usage` is cut to
it, with finish_reason "length"), so budget tests see what a real model would do.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from selfcoder.core.errors import ModelError

PROVIDER = "scripted"
SESSION_KEY = "selfcoder_session"  # litellm metadata key: each gateway replays a script from its start
ERROR_KINDS = ("rate_limit", "timeout", "server_error", "unavailable", "connection", "bad_request", "auth")


@dataclass(frozen=True)
class Reply:
    content: str | None = None
    error: str | None = None
    message: str = ""
    usage: dict[str, int] | None = None


@dataclass(frozen=True)
class Script:
    path: Path
    replies: tuple[Reply, ...]
    record: Path
    pricing: dict[str, float] | None = None


def _bad(path: Path, why: str) -> ModelError:
    return ModelError(f"scripted model {path}: {why}")


def _parse_reply(path: Path, i: int, item: Any) -> Reply:
    where = f"replies[{i}]"
    if isinstance(item, str):
        return Reply(content=item)
    if not isinstance(item, dict):
        raise _bad(path, f"{where} must be a string or a mapping, not {type(item).__name__}")
    unknown = set(item) - {"content", "error", "message", "usage"}
    if unknown:
        raise _bad(path, f"{where} has unknown keys {sorted(unknown)} (allowed: content, error, message, usage)")
    if ("content" in item) == ("error" in item):
        raise _bad(path, f"{where} needs exactly one of 'content' or 'error'")
    usage = item.get("usage")
    if usage is not None:
        if not isinstance(usage, dict) or not all(
            k in ("prompt_tokens", "completion_tokens") and isinstance(v, int) and v >= 0 for k, v in usage.items()
        ):
            raise _bad(path, f"{where}.usage must map prompt_tokens/completion_tokens to non-negative integers")
    if "error" in item:
        if item["error"] not in ERROR_KINDS:
            raise _bad(path, f"{where}.error = {item['error']!r}: must be one of {', '.join(ERROR_KINDS)}")
        return Reply(error=item["error"], message=str(item.get("message") or f"scripted {item['error']}"), usage=usage)
    if not isinstance(item["content"], str):
        raise _bad(path, f"{where}.content must be a string")
    return Reply(content=item["content"], usage=usage)


def load_script(path: Path | str) -> Script:
    """Read and validate a script file; any problem is one `ModelError` line."""
    path = Path(path).expanduser().resolve()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise _bad(path, f"cannot read the reply file: {e.strerror}") from None
    try:
        if path.suffix == ".json":
            data = json.loads(text)
        else:
            import yaml

            data = yaml.safe_load(text)
    except Exception as e:  # yaml.YAMLError / json.JSONDecodeError
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise _bad(path, f"not valid {'JSON' if path.suffix == '.json' else 'YAML'}: {first}") from None
    if isinstance(data, list):
        data = {"replies": data}
    if not isinstance(data, dict) or not isinstance(data.get("replies"), list):
        raise _bad(path, "must hold a 'replies:' list")
    unknown = set(data) - {"replies", "record", "pricing"}
    if unknown:
        raise _bad(path, f"unknown top-level keys {sorted(unknown)} (allowed: replies, record, pricing)")
    replies = tuple(_parse_reply(path, i, item) for i, item in enumerate(data["replies"]))
    record = Path(data["record"]) if data.get("record") else path.with_name(path.name + ".sent.jsonl")
    if not record.is_absolute():
        record = path.parent / record
    pricing = data.get("pricing")
    if pricing is not None and not (
        isinstance(pricing, dict)
        and set(pricing) <= {"input_per_token", "output_per_token"}
        and all(isinstance(v, (int, float)) and v >= 0 for v in pricing.values())
    ):
        raise _bad(path, "pricing must map input_per_token/output_per_token to non-negative numbers")
    return Script(path=path, replies=replies, record=record, pricing=pricing)


def sent_requests(path: Path | str) -> list[dict[str, Any]]:
    """What the scripted model at `path` was sent, read from its record file (any process)."""
    record = load_script(path).record
    if not record.exists():
        return []
    return [json.loads(line) for line in record.read_text(encoding="utf-8").splitlines() if line.strip()]


@dataclass
class _State:
    script: Script
    next: int = 0
    sent: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _raise_scripted(reply: Reply, model: str) -> None:
    import litellm

    kw = {"message": reply.message, "model": model, "llm_provider": PROVIDER}
    exc = {
        "rate_limit": litellm.RateLimitError,
        "timeout": litellm.Timeout,
        "server_error": litellm.InternalServerError,
        "unavailable": litellm.ServiceUnavailableError,
        "connection": litellm.APIConnectionError,
        "bad_request": litellm.BadRequestError,
        "auth": litellm.AuthenticationError,
    }[reply.error or ""]
    raise exc(**kw)


def _estimate_tokens(text: str) -> int:
    """A deterministic stand-in for a tokenizer: about one token per 4 characters."""
    return max(1, (len(text) + 3) // 4) if text else 0


_handler = None
_register_lock = threading.Lock()


def ensure_registered():
    """Register the `scripted` provider with litellm (once per process); returns the handler."""
    global _handler
    import litellm
    from litellm import CustomLLM

    with _register_lock:
        if _handler is None:

            class ScriptedLLM(CustomLLM):
                """Replays a script's replies; records each request."""

                def __init__(self) -> None:
                    super().__init__()
                    self._states: dict[tuple[Path, str | None], _State] = {}
                    self._lock = threading.Lock()

                def state(self, path: Path | str, session: str | None = None) -> _State:
                    key = (Path(path).expanduser().resolve(), session)
                    with self._lock:
                        if key not in self._states:
                            self._states[key] = _State(load_script(key[0]))
                        return self._states[key]

                def reset(self, path: Path | str) -> None:
                    resolved = Path(path).expanduser().resolve()
                    with self._lock:
                        for key in [k for k in self._states if k[0] == resolved]:
                            del self._states[key]

                def completion(self, model, messages, *args, model_response=None, optional_params=None,
                               litellm_params=None, **kw):
                    import openai

                    session = ((litellm_params or {}).get("metadata") or {}).get(SESSION_KEY)
                    try:
                        return self._complete(model, messages, model_response, optional_params, session)
                    except openai.OpenAIError:  # every litellm exception: let it through as it is
                        raise
                    except Exception as e:  # would otherwise surface as a retryable connection error
                        raise litellm.BadRequestError(message=str(e), model=model, llm_provider=PROVIDER) from None

                def _complete(self, model, messages, model_response, optional_params, session):
                    st = self.state(model, session)
                    params = {k: v for k, v in (optional_params or {}).items() if k not in ("max_retries",)}
                    with st.lock:
                        n = st.next
                        entry = {"n": n, "ts": round(time.time(), 6), "session": session, "messages": messages,
                                 "params": params}  # fmt: skip
                        st.sent.append(entry)
                        st.script.record.parent.mkdir(parents=True, exist_ok=True)
                        with st.script.record.open("a", encoding="utf-8") as f:
                            f.write(json.dumps(entry, default=str) + "\n")
                        if n >= len(st.script.replies):
                            raise litellm.BadRequestError(
                                message=f"scripted model {st.script.path}: no reply left "
                                f"(all {len(st.script.replies)} used)",
                                model=model,
                                llm_provider=PROVIDER,
                            )
                        st.next += 1
                    reply = st.script.replies[n]
                    if reply.error:
                        _raise_scripted(reply, model)
                    prompt_text = "".join(str(m.get("content") or "") for m in messages)
                    usage = {
                        "prompt_tokens": _estimate_tokens(prompt_text),
                        "completion_tokens": _estimate_tokens(reply.content or ""),
                        **(reply.usage or {}),
                    }
                    limit = params.get("max_tokens") or params.get("max_completion_tokens")
                    capped = bool(limit) and usage["completion_tokens"] > int(limit)
                    if capped:  # as a real model: never more completion tokens than max_tokens
                        usage["completion_tokens"] = int(limit)
                    model_response.choices[0].message.content = reply.content
                    model_response.choices[0].finish_reason = "length" if capped else "stop"
                    model_response.usage = litellm.Usage(
                        prompt_tokens=usage["prompt_tokens"],
                        completion_tokens=usage["completion_tokens"],
                        total_tokens=usage["prompt_tokens"] + usage["completion_tokens"],
                    )
                    model_response.model = f"{PROVIDER}/{model}"
                    return model_response

            _handler = ScriptedLLM()
        if not any(item.get("provider") == PROVIDER for item in litellm.custom_provider_map):
            litellm.custom_provider_map = [
                *litellm.custom_provider_map,
                {"provider": PROVIDER, "custom_handler": _handler},
            ]
    return _handler


def register_pricing(script: Script) -> None:
    """Give litellm the script's prices so `completion_cost` works as for a hosted model."""
    if not script.pricing:
        return
    import litellm

    # register_model looks the provider up, and an unknown one prints a "Provider List" banner on
    # stdout (polluting `--json` output) unless litellm is quiet; this may run before import_litellm
    litellm.suppress_debug_info = True
    litellm.register_model(
        {
            f"{PROVIDER}/{script.path}": {
                "input_cost_per_token": float(script.pricing.get("input_per_token", 0.0)),
                "output_cost_per_token": float(script.pricing.get("output_per_token", 0.0)),
                "litellm_provider": PROVIDER,
                "mode": "chat",
            }
        }
    )


def reset(path: Path | str) -> None:
    """Forget a script's position in this process (the next call starts at its first reply)."""
    if _handler is not None:
        _handler.reset(path)
