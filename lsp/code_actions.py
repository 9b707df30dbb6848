"""Code actions for the comments under the cursor and the section around it. Edits are
computed here and applied by the client as one WorkspaceEdit; everything else is a server
command. Clients without code action literals get the same actions as plain commands."""

from __future__ import annotations

from dataclasses import dataclass

from lsprotocol import types
from papercycle.lsp import commands
from papercycle.lsp.diagnostics import Located
from papercycle.lsp.outline import Heading
from papercycle.lsp.positions import Lines


@dataclass(frozen=True)
class ClientEdits:
    literals: bool  # codeActionLiteralSupport
    document_changes: bool  # workspace.workspaceEdit.documentChanges


def capabilities(caps: types.ClientCapabilities) -> ClientEdits:
    literals = bool(
        caps.text_document
        and caps.text_document.code_action
        and caps.text_document.code_action.code_action_literal_support
    )
    changes = bool(
        caps.workspace
        and caps.workspace.workspace_edit
        and caps.workspace.workspace_edit.document_changes
    )
    return ClientEdits(literals, changes)


def workspace_edit(
    uri: str, version: int | None, rng: types.Range, text: str, document_changes: bool
) -> types.WorkspaceEdit:
    edit = types.TextEdit(rng, text)
    if document_changes:
        return types.WorkspaceEdit(
            document_changes=[
                types.TextDocumentEdit(
                    types.OptionalVersionedTextDocumentIdentifier(uri, version), [edit]
                )
            ]
        )
    return types.WorkspaceEdit(changes={uri: [edit]})


def actions(
    uri: str,
    version: int | None,
    lines: Lines,
    start: int,
    end: int,
    located: list[Located],
    section: Heading | None,
    client: ClientEdits,
    drafts=(),  # (draft id, section name, WorkspaceEdit) ready to be inserted
) -> list[types.CodeAction | types.Command]:
    out: list[types.CodeAction | types.Command] = []

    def add(
        title: str,
        kind: str,
        name: str | None,
        arguments: list | None = None,
        edit: types.WorkspaceEdit | None = None,
        diag: list[types.Diagnostic] | None = None,
    ) -> None:
        command = commands.command(title, name, arguments or []) if name else None
        if client.literals:
            out.append(
                types.CodeAction(
                    title,
                    kind=kind,
                    edit=edit,
                    command=command,
                    diagnostics=diag,
                    is_preferred=True if edit is not None else None,
                )
            )
        elif command is not None:
            out.append(command)

    hits = [item for item in located if item.start <= end and start <= item.end]
    for item in hits:
        f = item.finding
        rng = lines.range(item.start, item.end)
        diag = [types.Diagnostic(rng, f.message, code=f.category, source="papercycle")]
        if f.rewrite:
            title = f"Apply suggested rewrite: {_short(f.rewrite)}"
            if client.literals:
                edit = workspace_edit(uri, version, rng, f.rewrite, client.document_changes)
                add(title, types.CodeActionKind.QuickFix, None, edit=edit, diag=diag)
            else:  # the server applies it (workspace/applyEdit)
                args = [uri, version, item.start, item.end, f.rewrite]
                add(title, types.CodeActionKind.QuickFix, commands.APPLY_REWRITE, args)
        add(
            f"Dismiss this comment ({f.category})",
            types.CodeActionKind.QuickFix,
            commands.DISMISS,
            [uri, f.key],
            diag=diag,
        )
        add(
            f"Disable the category {f.category!r} in this project",
            types.CodeActionKind.QuickFix,
            commands.DISABLE_CATEGORY,
            [uri, f.category],
        )
    if section is not None:
        add(
            f"Review this section now ({section.name})",
            types.CodeActionKind.Source,
            commands.REVIEW_SECTION,
            [uri, section.anchor],
        )
        add(
            f"Draft this section ({section.name})",
            types.CodeActionKind.Source,
            commands.DRAFT_SECTION,
            [uri, section.anchor],
        )
    for draft_id, title, edit in drafts:
        # With literals the client applies the edit itself (the command then forgets the
        # draft); without, the command applies it through workspace/applyEdit.
        add(
            f"Insert the draft of {title}",
            types.CodeActionKind.Source,
            commands.INSERT_DRAFT,
            [draft_id, bool(client.literals)],
            edit=edit if client.literals else None,
        )
    return out


def _short(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
