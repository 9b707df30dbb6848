// A stand-in for Overleaf's editor page: CodeMirror 6 created the way Overleaf does it for
// extensions, after dispatching `UNSTABLE_editor:extensions` with its CodeMirror modules and
// an extensions array that listeners fill.
import { EditorState, StateEffect, StateField } from "@codemirror/state";
import { Decoration, EditorView, ViewPlugin, WidgetType, hoverTooltip, keymap } from "@codemirror/view";

const text = await (await fetch("paper.tex")).text();
const extensions = [];
window.dispatchEvent(
  new CustomEvent("UNSTABLE_editor:extensions", {
    detail: { CodeMirror: { Decoration, EditorView, StateEffect, StateField, ViewPlugin, WidgetType, hoverTooltip, keymap }, extensions },
  }),
);
window.mockView = new EditorView({ parent: document.getElementById("editor"), state: EditorState.create({ doc: text, extensions: [EditorView.lineWrapping, ...extensions] }) });
