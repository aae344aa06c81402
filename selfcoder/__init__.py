"""selfcoder: a coding agent that lives in your editor and improves its own code.

Importing this package must stay cheap (no litellm, no docker): the CLI and the
language server import it on every start.
"""

import os

__version__ = "0.1.0"

# litellm otherwise downloads its price map at import time, which fails offline
# and prints warnings; the bundled map is what we want.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
