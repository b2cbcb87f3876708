"""atoll's AI crew: roles, tools, a staged workspace, transcripts.

Our own small orchestration over chat models (no agent framework). The public surface:

- :class:`CrewRun` (start / resume / run) and :class:`CrewResult`, :class:`CrewSettings`;
- :func:`ask` for quick one-agent answers;
- the :class:`ChatModel` protocol and its three models (OpenAI-compatible endpoint,
  in-process llama.cpp, scripted);
- :class:`StagedWorkspace` and :class:`WorkspaceDiff`, the containment boundary.
"""

from atoll.agents.agent import RoleLimits, RoleStats, RunBudget
from atoll.agents.crew import CrewResult, CrewRun, CrewSettings
from atoll.agents.errors import (
    Cancelled,
    CrewError,
    EndpointError,
    LimitExceeded,
    MalformedOutput,
    PathEscapeError,
    StopRun,
    ToolError,
)
from atoll.agents.models import (
    AssistantMessage,
    ChatModel,
    LlamaCppChatModel,
    ScriptedChatModel,
    ToolCall,
    Usage,
)
from atoll.agents.openai_chat import OpenAIChatModel
from atoll.agents.quick import ask
from atoll.agents.staging import FileChange, StagedWorkspace, WorkspaceDiff
from atoll.agents.tools import CodeIndex

__all__ = [
    "AssistantMessage",
    "Cancelled",
    "ChatModel",
    "CodeIndex",
    "CrewError",
    "CrewResult",
    "CrewRun",
    "CrewSettings",
    "EndpointError",
    "FileChange",
    "LimitExceeded",
    "LlamaCppChatModel",
    "MalformedOutput",
    "OpenAIChatModel",
    "PathEscapeError",
    "RoleLimits",
    "RoleStats",
    "RunBudget",
    "ScriptedChatModel",
    "StagedWorkspace",
    "StopRun",
    "ToolCall",
    "ToolError",
    "Usage",
    "WorkspaceDiff",
    "ask",
]
