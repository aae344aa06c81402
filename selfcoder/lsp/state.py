"""Per-server state other than runs: published diagnostics per folder, and folder settings.

Diagnostics from a run stay until the folder's next run, or until its run is applied or
discarded. Folder settings are fetched with `workspace/configuration` (section `selfcoder`,
scope = the folder) when a run starts, cached, and dropped on `didChangeConfiguration`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lsprotocol import types

from selfcoder.core.errors import ConfigError
from selfcoder.lsp.diagnostics import verdict_diagnostics
from selfcoder.lsp.folder_settings import FolderSettings, folder_settings
from selfcoder.lsp.runs import DISCARDED, RequestError, RunRecord

SECTION = "selfcoder"


class DiagnosticsTable:
    def __init__(self, server):
        self.server = server
        self._published: dict[Path, set[str]] = {}

    def publish_verdict(self, record: RunRecord) -> None:
        if record.state == DISCARDED or record.result is None:
            return
        self.clear(record.folder)
        found = verdict_diagnostics(record.folder, record.result.verdict)
        uris = set()
        for rel, diagnostics in found.items():
            uri = (record.folder / rel).as_uri()
            uris.add(uri)
            self.server.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics))
        self._published[record.folder] = uris

    def clear(self, folder: Path) -> None:
        for uri in self._published.pop(folder, set()):
            self.server.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))


class FolderConfig:
    """initializationOptions (trusted over stdio, screened over TCP) + workspace/configuration
    per folder (screened)."""

    def __init__(self, server, trusted_init_options: bool = True):
        self.server = server
        self.init_trusted = trusted_init_options
        self.init_options: Any = None
        self._cache: dict[Path, Any] = {}

    @property
    def prompt_review(self) -> bool:
        options = self.init_options if isinstance(self.init_options, dict) else {}
        return options.get("review", "prompt") != "none"

    def set_init_options(self, options: Any) -> None:
        self.init_options = options
        self._cache.clear()

    def changed(self) -> None:
        self._cache.clear()

    def agents(self) -> list[dict]:
        """The agents a run may name: seed, and those the user's own settings name."""
        from selfcoder.core.scaffold import SEED_DIR

        out = [{"id": "seed", "path": str(SEED_DIR), "source": "built in"}]
        try:
            node = folder_settings(Path("/nonexistent"), self.init_options, None, self.init_trusted).settings.agent.node
        except ConfigError:
            node = "seed"
        if node != "seed":
            out.append({"id": node, "path": node, "source": "your settings"})
        return out

    def agent_allowed(self, name: str) -> bool:
        return any(a["id"] == name for a in self.agents())

    async def _workspace_options(self, folder: Path) -> Any:
        if folder in self._cache:
            return self._cache[folder]
        caps = self.server.client_capabilities
        options = None
        if caps and caps.workspace and caps.workspace.configuration:
            try:
                answer = await self.server.workspace_configuration_async(types.ConfigurationParams(
                    items=[types.ConfigurationItem(scope_uri=folder.as_uri(), section=SECTION)]))
                options = answer[0] if answer else None
            except Exception:  # noqa: BLE001 - a client that cannot answer: no folder settings
                options = None
        self._cache[folder] = options
        return options

    async def for_folder(self, folder: Path) -> FolderSettings:
        options = await self._workspace_options(folder)
        try:
            return folder_settings(folder, self.init_options, options, self.init_trusted)
        except ConfigError as e:
            raise RequestError(f"settings: {e}") from None
