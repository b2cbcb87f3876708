"""``atoll chat``: an interactive session with the crew's quick agent.

Sessions are saved under ``.atoll/chats/<id>.jsonl`` and resumable (``--resume ID``).
Slash commands reach the index and the full crew: ``/index``, ``/symbols``, ``/search``,
``/run TASK``, ``/sessions``, ``/help``, ``/quit``.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.markdown import Markdown
from rich.markup import escape

from atoll.cli.commands._crew_cli import ProgressView, open_index, setup, show_diff
from atoll.cli.commands.index import index_with_progress
from atoll.cli.common import console, fail
from atoll.cli.options import AsJson, Endpoint, Mode, Sets, UseIndex, Workspace

if TYPE_CHECKING:
    from atoll.agents.settings import ModelPool
    from atoll.config import AtollConfig

HELP = """/index            build or refresh the workspace index
/symbols QUERY    find symbols by name
/search QUERY     search the code
/run TASK         hand TASK to the whole crew (the result is a diff, not applied)
/sessions         list saved sessions
/help             this help
/quit             leave (the session is saved; resume with --resume ID)"""


class ChatSession:
    """The turns of one chat, appended to its JSONL file as they happen."""

    def __init__(self, root: Path, session_id: str) -> None:
        self.folder = root / ".atoll" / "chats"
        self.id = session_id
        self.path = self.folder / f"{session_id}.jsonl"
        self.history: list[dict[str, Any]] = []
        if self.path.exists():
            for line in self.path.read_text(encoding="utf-8").splitlines():
                try:
                    turn = json.loads(line)
                except json.JSONDecodeError:
                    continue
                self.history.append({"role": turn["role"], "content": turn["content"]})

    def add(self, role: str, content: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.history.append({"role": role, "content": content})
        with self.path.open("a", encoding="utf-8") as out:
            out.write(
                json.dumps({"t": round(time.time(), 3), "role": role, "content": content}) + "\n"
            )


class Chat:
    def __init__(self, root: Path, config: AtollConfig, pool: ModelPool, session: ChatSession, *, use_index: bool, as_json: bool) -> None:  # fmt: skip
        self.root, self.config, self.pool, self.session = root, config, pool, session
        self.use_index = use_index
        self.as_json = as_json
        self.index: Any = open_index(root, config, use_index)

    def say(self, kind: str, text: str, **extra: Any) -> None:
        if self.as_json:
            sys.stdout.write(json.dumps({"event": kind, "text": text, **extra}, default=str) + "\n")
            sys.stdout.flush()
        elif kind == "answer":
            console.print(Markdown(text))
        else:
            console.print(escape(text), highlight=False)

    def handle(self, line: str) -> bool:
        """One input line; False ends the chat."""
        command, _, arg = line.partition(" ")
        arg = arg.strip()
        if command in ("/quit", "/exit"):
            return False
        if command == "/help":
            self.say("info", HELP)
        elif command == "/sessions":
            names = sorted(p.stem for p in self.session.folder.glob("*.jsonl"))
            self.say("info", "\n".join(names) or "no sessions yet")
        elif command == "/index":
            self._index()
        elif command in ("/symbols", "/search"):
            self._lookup(command, arg)
        elif command == "/run":
            self._run(arg)
        elif command.startswith("/"):
            self.say("error", f"unknown command {command}; /help lists them")
        else:
            self._ask(line)
        return True

    def _index(self) -> None:
        from atoll.indexing import WorkspaceIndex

        index = self.index or WorkspaceIndex.open(self.root, self.config, command="chat")
        self.index = index
        if not index.promote():
            self.say("info", f"not indexed here: {index.read_only_reason()}")
            return
        stats = index_with_progress(index, self.config, show=not self.as_json)
        self.say(
            "info", f"indexed {stats.files} files: {stats.symbols} symbols, {stats.chunks} chunks"
        )

    def _lookup(self, command: str, query: str) -> None:
        if not query:
            self.say("error", f"{command} needs a query")
            return
        if self.index is None:
            self.say("error", "no index yet: run /index first")
            return
        if command == "/symbols":
            found = self.index.find_symbols(query, 20)
            lines = [
                f"{s.kind_name} {s.qualified_name}  {s.path}:{s.start_line + 1}" for s in found
            ]
        else:
            hits = self.index.search(query, 5)
            lines = [f"{h.path}:{h.start_line + 1}-{h.end_line + 1} {h.symbol}" for h in hits]
        self.say("info", "\n".join(lines) or "nothing found")

    def _run(self, task: str) -> None:
        from atoll.agents import CrewRun
        from atoll.agents.settings import crew_settings

        if not task:
            self.say("error", "/run needs a task")
            return
        view = ProgressView(self.as_json)
        crew = CrewRun.start(self.root, task, model_for=self.pool, settings=crew_settings(self.config, self.root), index=self.index, on_event=view)  # fmt: skip
        with view.live("the crew is working"):
            result = crew.run()
        if not self.as_json:
            show_diff(result.diff.unified())
        self.say("run", f"{result.status}: {result.diff.stat()} (run {result.run_id}; `atoll run --resume {result.run_id}` continues it)", run_id=result.run_id)  # fmt: skip
        self.session.add("user", f"/run {task}")
        self.session.add(
            "assistant", f"crew run {result.run_id}: {result.status}, {result.diff.stat()}"
        )

    def _ask(self, question: str) -> None:
        from atoll.agents import ask
        from atoll.agents.settings import crew_settings

        settings = crew_settings(self.config, self.root)
        view = ProgressView(self.as_json)
        with view.live("thinking"):
            answer = ask(
                question, self.root, self.pool("ask"), index=self.index,
                limits=settings.role_limits("ask"), protocol=settings.tool_protocol,
                history=self.session.history[-12:], on_event=None if self.as_json else view,
            )  # fmt: skip
        self.session.add("user", question)
        if answer.status == "done":
            self.session.add("assistant", answer.text)
            self.say("answer", answer.text)
        else:
            self.say("error", f"no answer ({answer.reason})")


def register(app: typer.Typer) -> None:
    @app.command()
    def chat(
        resume: str = typer.Option("", "--resume", help="Continue a saved session."),
        endpoint: Endpoint = "",
        mode: Mode = "",
        use_index: UseIndex = True,
        workspace: Workspace = None,
        as_json: AsJson = False,
        sets: Sets = None,
    ) -> None:
        """Talk with the crew's quick agent about the workspace; /help for commands."""
        from atoll.agents.transcript import new_run_id

        root, config, pool = setup(workspace, sets, endpoint, mode=mode)
        session = ChatSession(root, resume or new_run_id())
        if resume and not session.history:
            fail(f"no saved session {resume!r} under {session.folder}", 2)
        chat = Chat(root, config, pool, session, use_index=use_index, as_json=as_json)
        chat.say(
            "info",
            f"session {session.id} ({len(session.history)} earlier turns); /help for commands",
        )
        while True:
            try:
                line = input("" if as_json else "you> ").strip()
            except (EOFError, KeyboardInterrupt):
                break
            if line and not chat.handle(line):
                break
        chat.say("info", f"saved as {session.id}; resume with `atoll chat --resume {session.id}`")
