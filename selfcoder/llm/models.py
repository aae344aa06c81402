"""Turn `model.name` from the settings into what litellm is called with.

- `auto`: a hosted default when OPENAI_API_KEY or ANTHROPIC_API_KEY is set, else `local`.
- `local`: the offline Qwen2.5-Coder model behind a llama.cpp server (see local_server.py).
- `scripted/<path>`: the scripted test model (see scripted.py).
- anything else: a litellm model name, checked up front: a name litellm cannot place with
  a provider, or a hosted provider whose API key variable is unset, is one `ModelError` line
  before any request is made.

`auto`, `local` and `scripted/` resolve without importing litellm.

Keys: with an explicit `api_base`, litellm attaches the provider's key from the environment, so
`api_base` (like the model name) must come from the user. It does: `load_settings` takes
`model.*` only from trusted layers (a repository's config is screened, see config_trust.py), the
local server's endpoint gets the placeholder key "x", and the gateway socket never lets an agent
choose the model, the endpoint or a key (only CALL_PARAMS pass through).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Mapping

from selfcoder.core.errors import ModelError

LOCAL = "local"
AUTO = "auto"
SCRIPTED_PREFIX = "scripted/"
LOCAL_ALIAS = "qwen2.5-coder-1.5b"  # the --model_alias the llama.cpp server answers to

# (env var, model) in order of preference when model.name is "auto".
HOSTED_DEFAULTS: tuple[tuple[str, str], ...] = (
    ("OPENAI_API_KEY", "gpt-4o-mini"),
    ("ANTHROPIC_API_KEY", "anthropic/claude-haiku-4-5"),
)

Kind = Literal["hosted", "local", "scripted"]


@dataclass(frozen=True)
class ModelChoice:
    """A model name resolved to its kind; `litellm_model` is what litellm.completion gets
    (for `local` it is filled in once the server's port is known)."""

    name: str  # as configured (after `auto` is resolved)
    kind: Kind
    litellm_model: str
    api_base: str | None = None
    api_key: str | None = None
    script: Path | None = None


def choose(name: str, env: Mapping[str, str] | None = None) -> str:
    """`auto` → a hosted default or `local`; any other name is returned unchanged."""
    env = os.environ if env is None else env
    name = name.strip()
    if name != AUTO:
        return name
    for var, model in HOSTED_DEFAULTS:
        if env.get(var):
            return model
    return LOCAL


def resolve(name: str, api_base: str | None = None, env: Mapping[str, str] | None = None) -> ModelChoice:
    """Resolve and check a configured model name (one-line `ModelError` on a mistake)."""
    env = os.environ if env is None else env
    name = choose(name, env)
    if not name:
        raise ModelError("model.name is empty (use 'auto', 'local', 'scripted/<file>' or a litellm model name)")
    if name == LOCAL:
        return ModelChoice(name=LOCAL, kind="local", litellm_model=f"openai/{LOCAL_ALIAS}", api_key="x")
    if name.startswith(SCRIPTED_PREFIX):
        from selfcoder.llm import scripted

        script = scripted.load_script(name[len(SCRIPTED_PREFIX):])
        return ModelChoice(name=name, kind="scripted", litellm_model=f"{SCRIPTED_PREFIX}{script.path}", script=script.path)
    return _resolve_hosted(name, api_base, env)


def _resolve_hosted(name: str, api_base: str | None, env: Mapping[str, str]) -> ModelChoice:
    from selfcoder.llm.litellm_setup import import_litellm

    litellm = import_litellm()
    try:
        _, provider, _, _ = litellm.get_llm_provider(name, api_base=api_base)
    except Exception:
        raise ModelError(
            f"unknown model '{name}': litellm cannot tell its provider",
            hint="use provider/model, e.g. openai/gpt-4o-mini, or 'local'",
        ) from None
    if api_base:
        # An explicit OpenAI-compatible endpoint: many need no key; send a placeholder.
        key = None if _has_key(litellm, name, env) else "none"
        return ModelChoice(name=name, kind="hosted", litellm_model=name, api_base=api_base, api_key=key)
    check = litellm.validate_environment(model=name)
    missing = [k for k in check.get("missing_keys", []) if k.endswith("_KEY") or k.endswith("_TOKEN")]
    if not check.get("keys_in_environment") and missing:
        raise ModelError(f"model '{name}' ({provider}) needs {' or '.join(missing)} set in the environment")
    return ModelChoice(name=name, kind="hosted", litellm_model=name)


def _has_key(litellm, name: str, env: Mapping[str, str]) -> bool:
    try:
        return bool(litellm.validate_environment(model=name).get("keys_in_environment"))
    except Exception:
        return False
