"""Makes the scaffold's modules (main, actions, llm, context) importable by the tests, from
this scaffold's directory (a child scaffold's tests check the child's own code)."""

import os
import sys

SEED = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
for _name in ("main", "actions", "llm", "context"):
    _mod = sys.modules.get(_name)
    if _mod is not None and os.path.dirname(getattr(_mod, "__file__", "") or "") != SEED:
        del sys.modules[_name]
if SEED not in sys.path:
    sys.path.insert(0, SEED)
