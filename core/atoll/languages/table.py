"""Every language atoll knows. Adding a language is one entry here.

A language with a ``grammar`` gets symbols, AST chunks and hover's name check from
tree-sitter (tree-sitter-language-pack's name for the grammar) and needs a definitions
query, ``queries/<name>.scm`` next to this file (``query`` names another one). One
without is indexed as text in line windows, with its comment marker for completion.
"""

from __future__ import annotations

from atoll.languages.language import Language

TABLE: tuple[Language, ...] = (
    # -- parsed: symbols and AST chunks -----------------------------------------------
    Language("python", (".py", ".pyi"), grammar="python", comment="#", aliases=("py",),
             docstrings=True),
    Language("rust", (".rs",), grammar="rust", comment="//", aliases=("rs",)),
    Language("qmljs", (".qml",), grammar="qmljs", comment="//", lsp_ids=("qml",),
             aliases=("qml",), object_ids=True),
    Language("javascript", (".js", ".mjs", ".cjs", ".jsx"), grammar="javascript",
             comment="//", lsp_ids=("javascriptreact",), aliases=("js", "jsx")),
    Language("typescript", (".ts", ".mts", ".cts"), grammar="typescript", comment="//",
             aliases=("ts",)),
    # TSX is TypeScript with JSX: its own grammar, TypeScript's definitions.
    Language("tsx", (".tsx",), grammar="tsx", query="typescript", comment="//",
             lsp_ids=("typescriptreact",)),
    Language("c", (".c", ".h"), grammar="c", comment="//"),
    Language("cpp", (".cc", ".cpp", ".cxx", ".hpp", ".hh", ".hxx"), grammar="cpp", query="c+cpp",
             comment="//", aliases=("c++", "cxx")),
    Language("go", (".go",), grammar="go", comment="//", aliases=("golang",)),
    Language("java", (".java",), grammar="java", comment="//"),
    # -- text: line windows ------------------------------------------------------------
    Language("markdown", (".md",), aliases=("md",)),
    Language("rst", (".rst",), lsp_ids=("restructuredtext",)),
    Language("text", (".txt",), lsp_ids=("plaintext",)),
    Language("toml", (".toml",), comment="#"),
    Language("yaml", (".yaml", ".yml"), comment="#"),
    Language("json", (".json",), lsp_ids=("jsonc",)),
    Language("ini", (".cfg", ".ini"), comment=";"),
    Language("bash", (".sh",), comment="#", lsp_ids=("shellscript",),
             aliases=("sh", "shell")),
    Language("html", (".html",)),
    Language("css", (".css",)),
    Language("query", (".scm",), comment=";"),
    Language("cmake", (".cmake",), filenames=("CMakeLists.txt",), comment="#"),
    Language("makefile", filenames=("Makefile",), comment="#"),
    Language("dockerfile", filenames=("Dockerfile",), comment="#"),
    Language("kotlin", (".kt",), comment="//"),
    Language("swift", (".swift",), comment="//"),
    Language("ruby", (".rb",), comment="#", aliases=("rb",)),
    Language("csharp", (".cs",), comment="//", aliases=("c#", "cs")),
    Language("sql", (".sql",), comment="--"),
    Language("lua", (".lua",), comment="--"),
    Language("haskell", (".hs",), comment="--"),
    Language("r", (".r",), comment="#"),
    Language("perl", (".pl",), comment="#"),
)  # fmt: skip
