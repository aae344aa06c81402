"""The one place litellm is imported (lazily: `import litellm` costs ~2 s and ~165 MB, so
`import selfcoder` and `selfcoder --help` must not pay for it).

It also quiets litellm (no price-map download, no "Provider List" banners, no warnings
on stdout) and registers the scripted provider, so every caller sees the same setup.
"""

from __future__ import annotations

import logging
import os
import threading
import warnings

_lock = threading.Lock()
_ready = False


def import_litellm():
    """Import and configure litellm once per process; returns the module."""
    global _ready
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    # pydantic warns about litellm's own TypedDicts when it first builds their schemas
    warnings.filterwarnings("ignore", message=r".*is using the `ReadOnly` qualifier.*", category=UserWarning)
    import litellm

    with _lock:
        if not _ready:
            litellm.suppress_debug_info = True
            litellm.telemetry = False
            litellm.drop_params = True  # a provider that lacks a parameter ignores it
            for name in ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy", "litellm"):
                logging.getLogger(name).setLevel(logging.ERROR)
            from selfcoder.llm import scripted

            scripted.ensure_registered()
            _ready = True
    return litellm
