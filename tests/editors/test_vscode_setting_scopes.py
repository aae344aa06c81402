"""A cloned repository's .vscode/settings.json is the repository's: of the extension's settings,
only `selfcoder.settings` may come from a workspace (the server screens it). Every other setting
is `machine` or `application` scoped in package.json and read from the user's settings only (its
global value), so a repository cannot turn off the diff shown before applying or make apply save."""

from __future__ import annotations

import json
import re

from editor_support import REPO_ROOT

VSCODE = REPO_ROOT / "editors" / "vscode"
PER_FOLDER = {"selfcoder.settings"}


def test_only_selfcoder_settings_may_come_from_a_workspace():
    properties = json.loads((VSCODE / "package.json").read_text())["contributes"]["configuration"]["properties"]
    loose = {k: p.get("scope", "window") for k, p in properties.items()
             if k not in PER_FOLDER and p.get("scope") not in ("machine", "application")}
    assert loose == {}, f"settings a workspace could set: {loose}"
    source = "\n".join(p.read_text() for p in (VSCODE / "src").glob("*.ts"))
    # a plain `.get('<key>')` would still merge a workspace value where the scope is not applied
    read_plainly = [k for k in properties if k not in PER_FOLDER
                    and re.search(r"\.get(<[^>]*>)?\('" + re.escape(k.removeprefix("selfcoder.")) + "'", source)]
    assert read_plainly == [], read_plainly
