"""The model, reached only through the gateway's unix socket (OpenAI chat-completions format).

The sandbox has no network and no keys: the host runner mounts a socket at
$SELFCODER_LLM_SOCKET; the gateway behind it picks the real model, counts tokens and
enforces the budget. Standard library only (http.client over AF_UNIX).
"""

import http.client
import json
import socket
import time


class BudgetExceeded(Exception):
    """The gateway refused the call: this run's budget is spent (HTTP 429, budget_exceeded)."""


class ModelError(Exception):
    """No usable answer after the retries (connection refused, HTTP errors, malformed JSON)."""


class UnixHTTPConnection(http.client.HTTPConnection):
    """http.client's connection, but connected to a unix socket path instead of host:port."""

    def __init__(self, socket_path, timeout):
        super().__init__("localhost", timeout=timeout)
        self.socket_path = socket_path

    def connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self.socket_path)
        self.sock = sock


class LLMClient:
    def __init__(self, socket_path, model="default", temperature=0, retries=2, backoff_s=0.5):
        self.socket_path, self.model, self.temperature = socket_path, model, temperature
        self.retries, self.backoff_s = retries, backoff_s

    def chat(self, messages, deadline, temperature=None):
        """Send the conversation; return (reply text, tokens this call used).
        `deadline` is a time.monotonic() value: no attempt starts or waits past it."""
        body = json.dumps({"model": self.model, "messages": messages,
                           "temperature": self.temperature if temperature is None else temperature,
                           }).encode("utf-8")
        problem = "no attempt made"
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(min(self.backoff_s * attempt, max(0.0, deadline - time.monotonic())))
            timeout = deadline - time.monotonic()
            if timeout <= 0:
                raise ModelError("out of time while waiting for the model (%s)" % problem)
            try:
                status, data = self._post(body, timeout)
            except (OSError, http.client.HTTPException) as e:
                problem = "%s: %s" % (type(e).__name__, e)
                continue
            error = data.get("error") if isinstance(data, dict) else None
            if status == 429 and isinstance(error, dict) and error.get("type") == "budget_exceeded":
                raise BudgetExceeded(str(error.get("message") or "budget exceeded"))
            if status != 200:
                problem = "HTTP %d: %s" % (status, json.dumps(data)[:300])
                continue
            try:
                content = data["choices"][0]["message"].get("content") or ""
                usage = data.get("usage") or {}
            except (KeyError, IndexError, TypeError, AttributeError):
                problem = "malformed response: %s" % json.dumps(data)[:300]
                continue
            tokens = usage.get("total_tokens") or (
                (usage.get("prompt_tokens") or 0) + (usage.get("completion_tokens") or 0))
            return content, int(tokens or (len(body) + len(content)) // 4)  # estimate if no usage
        raise ModelError(problem)

    def _post(self, body, timeout):
        conn = UnixHTTPConnection(self.socket_path, timeout)
        try:
            conn.request("POST", "/v1/chat/completions", body=body,
                         headers={"Content-Type": "application/json"})
            resp = conn.getresponse()
            raw = resp.read()
        finally:
            conn.close()
        try:
            return resp.status, json.loads(raw.decode("utf-8", "replace"))
        except ValueError:
            return resp.status, {"raw": raw[:300].decode("utf-8", "replace")}
