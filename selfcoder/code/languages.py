"""Which tree-sitter grammar parses a file, from grammars that are on disk — nothing downloads.

Grammars come from the per-language wheels (`tree-sitter-python`, `-javascript`,
`-typescript`, `-go`, `-rust`), which carry compiled parsers. `tree-sitter-language-pack`
1.x fetches its parsers from the internet on first use, so it is consulted only for
languages it has already cached (`downloaded_languages()`); otherwise such a file is listed
in the map without symbols, and `language_status()` says why.

Each language has a definitions query: `@class` (a container whose members are listed
indented) or `@function` nodes, each with its `@name`.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import PurePath

from tree_sitter import Language, Parser, Query


@dataclass(frozen=True)
class LangSpec:
    name: str
    extensions: tuple[str, ...]
    module: str  # the wheel's module
    factory: str  # its function returning the language pointer
    query: str
    line_comment: str = "//"


PYTHON_QUERY = """
(class_definition name: (identifier) @name) @class
(function_definition name: (identifier) @name) @function
"""

JS_QUERY = """
(class_declaration name: (_) @name) @class
(function_declaration name: (identifier) @name) @function
(generator_function_declaration name: (identifier) @name) @function
(method_definition name: (_) @name) @function
(lexical_declaration (variable_declarator name: (identifier) @name
  value: [(arrow_function) (function_expression)])) @function
"""

TS_QUERY = JS_QUERY + """
(abstract_class_declaration name: (_) @name) @class
(interface_declaration name: (_) @name) @class
(method_signature name: (_) @name) @function
(abstract_method_signature name: (_) @name) @function
"""

GO_QUERY = """
(function_declaration name: (identifier) @name) @function
(method_declaration name: (field_identifier) @name) @function
(type_declaration (type_spec name: (type_identifier) @name)) @class
"""

RUST_QUERY = """
(struct_item name: (type_identifier) @name) @class
(enum_item name: (type_identifier) @name) @class
(trait_item name: (type_identifier) @name) @class
(impl_item type: (_) @name) @class
(mod_item name: (identifier) @name) @class
(function_item name: (identifier) @name) @function
(function_signature_item name: (identifier) @name) @function
"""

LANGUAGES: tuple[LangSpec, ...] = (
    LangSpec("python", (".py", ".pyi"), "tree_sitter_python", "language", PYTHON_QUERY, "#"),
    LangSpec("javascript", (".js", ".mjs", ".cjs", ".jsx"), "tree_sitter_javascript", "language", JS_QUERY),
    LangSpec("typescript", (".ts", ".mts", ".cts"), "tree_sitter_typescript", "language_typescript", TS_QUERY),
    LangSpec("tsx", (".tsx",), "tree_sitter_typescript", "language_tsx", TS_QUERY),
    LangSpec("go", (".go",), "tree_sitter_go", "language", GO_QUERY),
    LangSpec("rust", (".rs",), "tree_sitter_rust", "language", RUST_QUERY),
)
_BY_EXT = {ext: spec for spec in LANGUAGES for ext in spec.extensions}

# language-pack tag captures → our two kinds
_PACK_KINDS = {"definition.class": "class", "definition.interface": "class", "definition.module": "class",
               "definition.function": "function", "definition.method": "function"}


@dataclass(frozen=True)
class Grammar:
    """A ready parser and definitions query for one language."""

    name: str
    parser: Parser
    query: Query
    kinds: dict[str, str]  # capture name → "class" | "function"; the name capture is "name"
    line_comment: str


def _wheel_grammar(spec: LangSpec) -> Grammar:
    module = importlib.import_module(spec.module)
    language = Language(getattr(module, spec.factory)())
    return Grammar(spec.name, Parser(language), Query(language, spec.query),
                   {"class": "class", "function": "function"}, spec.line_comment)


def _pack_grammar(name: str) -> Grammar:
    """A grammar the language pack already has on disk (never triggers a download)."""
    import tree_sitter_language_pack as pack

    if name not in pack.downloaded_languages():
        raise LookupError(f"tree-sitter-language-pack has no local parser for '{name}' (it would download one)")
    tags = pack.get_tags_query(name)
    if not tags:
        raise LookupError(f"tree-sitter-language-pack has no tags query for '{name}'")
    language = pack.get_language(name)
    if not isinstance(language, Language):
        language = Language(language)
    return Grammar(name, Parser(language), Query(language, tags), dict(_PACK_KINDS), "//")


def language_for(path: str) -> str | None:
    """The language of a file by its name (wheels first, then the pack's detection)."""
    spec = _BY_EXT.get(PurePath(path).suffix.lower())
    if spec is not None:
        return spec.name
    try:
        import tree_sitter_language_pack as pack

        return pack.detect_language_from_path(path)
    except Exception:
        return None


@lru_cache(maxsize=None)
def _load(name: str) -> Grammar | str:
    """The grammar, or the reason there is none (cached either way)."""
    spec = next((s for s in LANGUAGES if s.name == name), None)
    try:
        return _wheel_grammar(spec) if spec else _pack_grammar(name)
    except Exception as e:  # missing wheel, ABI mismatch, no cached pack parser
        return f"{name}: {type(e).__name__}: {e}"


def grammar(name: str) -> Grammar | None:
    loaded = _load(name)
    return loaded if isinstance(loaded, Grammar) else None


def language_status(name: str) -> str | None:
    """None when `name` parses here, else why not."""
    loaded = _load(name)
    return None if isinstance(loaded, Grammar) else loaded
