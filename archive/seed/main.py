"""Entry point of the selfcoder seed agent (generation 0 of the evolving scaffold).

    python3 /agent/main.py /run/selfcoder/task.json      (cwd: the repository copy)

Loads config.json and prompts/, runs the Agent (agent.py), and always ends with exactly one
`exit` event (events.py), also after an exception or SIGTERM: the host reads the run's status
from it. Exit code 0 iff the agent submitted. README.md is the contract with the host.
"""

import json
import os
import signal
import sys
import traceback

from agent import Agent
from events import emit
from llm import BudgetExceeded, LLMClient, ModelError

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_SOCKET = "/run/selfcoder/llm.sock"


def load_scaffold_files():
    """(config, prompts): config.json and every prompts/NAME.txt as prompts[NAME]."""
    with open(os.path.join(HERE, "config.json"), encoding="utf-8") as f:
        config = json.load(f)
    folder, prompts = os.path.join(HERE, "prompts"), {}
    for name in sorted(os.listdir(folder)):
        if name.endswith(".txt"):
            with open(os.path.join(folder, name), encoding="utf-8") as f:
                prompts[name[:-4]] = f.read().strip()
    return config, prompts


def make_agent(argv):
    """The Agent for the task file named on the command line."""
    if len(argv) != 2:
        raise ValueError("usage: python3 main.py TASK_JSON")
    with open(argv[1], encoding="utf-8") as f:
        task = json.load(f)
    config, prompts = load_scaffold_files()
    llm = LLMClient(os.environ.get("SELFCODER_LLM_SOCKET", DEFAULT_SOCKET), config["model"],
                    config["temperature"], config["retries"], config["retry_backoff_s"])
    return Agent(task, config, prompts, llm, os.getcwd())


def _terminate(signum, frame):
    raise KeyboardInterrupt("terminated by signal %d" % signum)


def main(argv):
    signal.signal(signal.SIGTERM, _terminate)
    agent, status, message = None, "error", "the agent stopped unexpectedly"
    try:
        agent = make_agent(argv)
        status, message = agent.run()
    except BudgetExceeded as e:
        status, message = "budget_exceeded", str(e)
    except ModelError as e:
        status, message = ("time_limit" if agent and agent.time_left() <= 0 else "model_error"), str(e)
    except (Exception, KeyboardInterrupt) as e:
        traceback.print_exc()
        status, message = "error", "%s: %s" % (type(e).__name__, e)
    finally:  # whatever happened: one exit event, last, and no second SIGTERM cutting it short
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        emit(type="exit", status=status, message=message[:500],
             steps=agent.steps if agent else 0, tokens=agent.tokens if agent else 0)
    return 0 if status == "submitted" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
