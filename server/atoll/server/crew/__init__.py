"""The AI crew behind ``atoll.delegate``, as plain functions the feature module calls.

- :mod:`.service`: one run at a time, its checks, its state and its progress lines.
- :mod:`.edit`: the crew's diff as one ``WorkspaceEdit``, checked against current text.
- :mod:`.report`: what the user is told at the end.
"""
