"""The crew's tools: read and search the code, edit the staged copy, run commands.

Every tool takes JSON arguments and returns text for the model. A :class:`ToolError`
(bad path, search text not found, ...) is sent back to the model to correct; it never
ends the run. The index is reached through the small :class:`CodeIndex` protocol, so
the tools work (and say so) when no index is available.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, Unpack

from atoll.agents.edits import apply_edit
from atoll.agents.errors import LimitExceeded, RoleFinished, ToolError
from atoll.agents.models import ToolCall, ToolSchema
from atoll.agents.sandbox import Sandbox
from atoll.agents.staging import StagedWorkspace
from atoll.codeindex import HitLike, Scope, SymbolLike

MAX_READ_LINES = 400
MAX_READ_CHARS = 16000


class CodeIndex(Protocol):
    """What the tools need from ``atoll.indexing.WorkspaceIndex``."""

    def search(self, query: str, k: int = 10, **scope: Unpack[Scope]) -> Sequence[HitLike]: ...

    def find_symbols(self, query: str, limit: int = 50) -> Sequence[SymbolLike]: ...

    def outline(self, budget_tokens: int = 1024) -> str: ...


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    parameters: dict[str, Any]  # JSON schema properties
    required: tuple[str, ...]
    run: Callable[[dict[str, Any]], str]
    writes: bool = False

    def schema(self) -> ToolSchema:
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": {
                    "type": "object",
                    "properties": self.parameters,
                    "required": list(self.required),
                },
            },
        }

    def signature(self) -> str:
        args = ", ".join(
            f"{name}{'' if name in self.required else '?'}: {spec.get('type', 'any')}"
            for name, spec in self.parameters.items()
        )
        return f"{self.name}({args}) — {self.description}"


def _s(description: str) -> dict[str, Any]:
    return {"type": "string", "description": description}


def _i(description: str) -> dict[str, Any]:
    return {"type": "integer", "description": description}


def _number_lines(text: str, start: int, end: int | None) -> str:
    lines = text.splitlines()
    first = max(1, start)
    last = len(lines) if end is None else min(len(lines), end)
    last = min(last, first + MAX_READ_LINES - 1)
    out = "\n".join(f"{n:>5}| {lines[n - 1]}" for n in range(first, last + 1))
    if len(out) > MAX_READ_CHARS:
        out = out[:MAX_READ_CHARS] + "\n... [cut: read a smaller line range]"
    more = f"\n[lines {first}-{last} of {len(lines)}]" if last < len(lines) or first > 1 else ""
    return (out or "(empty file)") + more


def _int(args: dict[str, Any], key: str, default: int | None) -> int | None:
    value = args.get(key, default)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ToolError(f"{key} must be an integer, got {value!r}") from None


@dataclass
class ToolBox:
    """The tools of one run, bound to its staged workspace and (optional) index."""

    staged: StagedWorkspace
    index: CodeIndex | None = None
    root: Path | None = None  # the user's workspace, to show index paths relatively
    command_timeout_s: float = 60.0
    touched: set[str] = field(default_factory=set)
    # Commands run only here; None (or a sandbox that cannot run) means no command tools.
    sandbox: Sandbox | None = None

    @property
    def commands_available(self) -> bool:
        return self.sandbox is not None and self.sandbox.status().available

    def rel(self, path: Path) -> str:
        """``path`` relative to the workspace root when it is inside it."""
        if self.root is not None:
            try:
                return Path(path).resolve().relative_to(self.root.resolve()).as_posix()
            except ValueError:
                pass
        return str(path)

    def _need_index(self) -> CodeIndex:
        if self.index is None:
            raise ToolError(
                "no code index is available in this session; use list_dir and read_file instead"
            )
        return self.index

    # -- reading ---------------------------------------------------------------------------

    def search_code(self, args: dict[str, Any]) -> str:
        hits = self._need_index().search(str(args["query"]), _int(args, "k", 5) or 5)
        return "\n\n".join(map(self._hit, hits)) or "no matches"

    def find_symbols(self, args: dict[str, Any]) -> str:
        found = self._need_index().find_symbols(str(args["query"]), 20)
        return "\n".join(map(self._symbol, found)) or "no symbols found"

    def _hit(self, h: HitLike) -> str:
        return f"{self.rel(h.path)}:{h.start_line + 1}-{h.end_line + 1} {h.symbol}\n{h.text}"

    def _symbol(self, s: SymbolLike) -> str:
        return f"{s.kind_name} {s.name} {self.rel(s.path)}:{s.start_line + 1} {s.signature}"

    def outline(self, args: dict[str, Any]) -> str:
        return self._need_index().outline(_int(args, "budget_tokens", 800) or 800) or "(empty)"

    def read_file(self, args: dict[str, Any]) -> str:
        text = self.staged.read_text(str(args["path"]))
        return _number_lines(text, _int(args, "start_line", 1) or 1, _int(args, "end_line", None))

    def list_dir(self, args: dict[str, Any]) -> str:
        entries = self.staged.list_dir(str(args.get("path") or "."))
        return "\n".join(entries) or "(empty directory)"

    def diff(self, args: dict[str, Any]) -> str:
        return self.staged.diff().unified() or "no changes yet"

    # -- writing ---------------------------------------------------------------------------

    def _touch(self, path: str) -> None:
        self.touched.add(self.staged.relative(self.staged.resolve(path)))

    def edit_file(self, args: dict[str, Any]) -> str:
        path = str(args["path"])
        text = self.staged.read_text(path)
        new = apply_edit(text, str(args["search"]), str(args.get("replace", "")), path=path)
        self.staged.write_text(path, new)
        self._touch(path)
        return f"edited {path}"

    def write_file(self, args: dict[str, Any]) -> str:
        path = str(args["path"])
        self.staged.write_text(path, str(args["content"]))
        self._touch(path)
        return f"wrote {path}"

    def delete_file(self, args: dict[str, Any]) -> str:
        path = str(args["path"])
        self.staged.delete(path)
        self.touched.add(path)
        return f"deleted {path}"

    def rename_file(self, args: dict[str, Any]) -> str:
        path, new_path = str(args["path"]), str(args["new_path"])
        self.staged.rename(path, new_path)
        self._touch(new_path)
        return f"renamed {path} to {new_path}"

    def run_command(self, args: dict[str, Any]) -> str:
        if self.sandbox is None or not self.sandbox.status().available:
            raise ToolError("commands are off in this run; use the file tools")
        timeout = float(args.get("timeout_s") or self.command_timeout_s)
        result = self.sandbox.run(
            str(args["command"]), timeout_s=min(timeout, self.command_timeout_s)
        )
        grown, limit = self.staged.growth(), self.staged.limits.max_run_bytes
        if grown > limit:
            raise LimitExceeded(
                f"a command made the staged copy grow by {grown // 1024} KB, over the run's "
                f"limit of {limit // 1024} KB (agents.sandbox.max_run_kb)"
            )
        return result.for_model()

    # -- the tool table --------------------------------------------------------------------

    def all_tools(self) -> dict[str, Tool]:
        path = _s("path relative to the workspace root")
        tools = [
            Tool("search_code", "search the code index", {"query": _s("words or code"), "k": _i("results")}, ("query",), self.search_code),
            Tool("find_symbols", "find classes/functions by name", {"query": _s("a name")}, ("query",), self.find_symbols),
            Tool("outline", "a map of the repository's files and symbols", {}, (), self.outline),
            Tool("read_file", "read a file with line numbers", {"path": path, "start_line": _i("first line (1-based)"), "end_line": _i("last line")}, ("path",), self.read_file),
            Tool("list_dir", "list a directory", {"path": path}, (), self.list_dir),
            Tool("edit_file", "replace the exact text `search` with `replace` in a file", {"path": path, "search": _s("exact existing text"), "replace": _s("new text")}, ("path", "search", "replace"), self.edit_file, writes=True),
            Tool("write_file", "create or overwrite a whole file", {"path": path, "content": _s("the full file text")}, ("path", "content"), self.write_file, writes=True),
            Tool("delete_file", "delete a file", {"path": path}, ("path",), self.delete_file, writes=True),
            Tool("rename_file", "rename or move a file", {"path": path, "new_path": path}, ("path", "new_path"), self.rename_file, writes=True),
            Tool("run_command", "run a shell command in the workspace (time-limited)", {"command": _s("a bash command"), "timeout_s": _i("seconds")}, ("command",), self.run_command),
            Tool("diff", "show all changes made so far", {}, (), self.diff),
        ]  # fmt: skip
        return {tool.name: tool for tool in tools}

    def select(self, names: Sequence[str], finish: Tool) -> dict[str, Tool]:
        table = self.all_tools()
        if not self.commands_available:
            table.pop("run_command")  # no sandbox, no commands
        chosen = {name: table[name] for name in names if name in table}
        chosen[finish.name] = finish
        return chosen


def finish_tool(name: str, description: str, fields: dict[str, dict[str, Any]]) -> Tool:
    """A role's last tool: calling it ends the role with its arguments as the result."""

    def run(args: dict[str, Any]) -> str:
        raise RoleFinished(args)

    return Tool(name, description, fields, tuple(fields), run)


def call_tool(tools: dict[str, Tool], call: ToolCall) -> str:
    """Run one call; every mistake the model can fix becomes a :class:`ToolError`."""
    tool = tools.get(call.name)
    if tool is None:
        raise ToolError(f"unknown tool {call.name!r}; available: {', '.join(tools)}")
    if call.arguments is None:
        raise ToolError(
            f"the arguments of {call.name} are not valid JSON: {call.raw_arguments[:200]!r}"
        )
    missing = [name for name in tool.required if name not in call.arguments]
    if missing:
        raise ToolError(f"{call.name} needs {', '.join(missing)}; usage: {tool.signature()}")
    try:
        return tool.run(call.arguments)
    except (OSError, UnicodeError) as exc:
        raise ToolError(f"{call.name} failed: {exc}") from None
