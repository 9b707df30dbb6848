// THE ONLY FILE THAT DEPENDS ON OVERLEAF'S EDITOR INTERNALS. Overleaf hands CodeMirror 6 to
// extensions only through the unsupported window event `UNSTABLE_editor:extensions`
// (detail: {CodeMirror: {Decoration, EditorView, StateEffect, StateField, ViewPlugin, ...},
// extensions: []}). If Overleaf changes it, only this file changes. It runs in the page's
// world and talks to the extension's content script (src/content.js) with window messages:
//   page -> extension: {source: "papercycle-page", type: "doc", text} (on open, on edits)
//   extension -> page: {source: "papercycle-ext", type: "comments", comments: [{from, to,
//     severity, message, id}]}, {source: "papercycle-ext", type: "reveal", from}
(() => {
  const PAGE = "papercycle-page";
  const EXT = "papercycle-ext";
  const views = new Set();
  let hooked = false;

  function post(view) {
    window.postMessage({ source: PAGE, type: "doc", text: view.state.doc.toString() }, location.origin);
  }

  window.addEventListener("UNSTABLE_editor:extensions", (event) => {
    const { CodeMirror: CM, extensions } = event.detail || {};
    const needed = ["Decoration", "EditorView", "StateEffect", "StateField", "ViewPlugin"];
    if (!CM || !Array.isArray(extensions) || !needed.every((k) => CM[k])) {
      window.postMessage({ source: PAGE, type: "unsupported" }, location.origin);
      return;
    }
    hooked = true;
    const { Decoration, EditorView, StateEffect, StateField, ViewPlugin } = CM;
    const setComments = StateEffect.define();
    const build = (comments, doc) => {
      const ranges = comments
        .filter((c) => c.from >= 0 && c.to <= doc.length && c.from < c.to)
        .sort((a, b) => a.from - b.from)
        .map((c) =>
          Decoration.mark({
            class: `papercycle-mark papercycle-${c.severity}`,
            attributes: { "data-papercycle-id": String(c.id) },
          }).range(c.from, c.to),
        );
      return Decoration.set(ranges, true);
    };
    const field = StateField.define({
      create: () => Decoration.none,
      update(value, tr) {
        value = value.map(tr.changes);
        for (const effect of tr.effects) if (effect.is(setComments)) value = build(effect.value, tr.state.doc);
        return value;
      },
      provide: (f) => EditorView.decorations.from(f),
    });
    const theme = EditorView.baseTheme({
      ".papercycle-mark": { textDecoration: "underline wavy #c77c02", textUnderlineOffset: "3px" },
      ".papercycle-error": { textDecorationColor: "#c62828" },
    });
    const plugin = ViewPlugin.fromClass(
      class {
        constructor(view) {
          this.view = view;
          this.timer = null;
          views.add(view);
          setTimeout(() => post(view), 0);
        }
        update(update) {
          if (!update.docChanged) return;
          clearTimeout(this.timer);
          this.timer = setTimeout(() => post(this.view), 500);
        }
        destroy() {
          clearTimeout(this.timer);
          views.delete(this.view);
        }
      },
    );
    extensions.push(field, plugin, theme);

    apply = (data) => {
      for (const view of views) {
        if (data.type === "comments") view.dispatch({ effects: setComments.of(data.comments) });
        if (data.type === "reveal") view.dispatch({ selection: { anchor: Math.min(data.from, view.state.doc.length) }, scrollIntoView: true });
      }
    };
  });

  // one listener, whatever the number of editors created (the latest hook's field is used)
  let apply = () => {};
  window.addEventListener("message", (message) => {
    const data = message.data;
    if (message.source !== window || !data || data.source !== EXT) return;
    apply(data);
  });

  // a visible degradation: no editor hook 20 s after load means Overleaf changed its API
  window.addEventListener("load", () => {
    setTimeout(() => {
      if (!hooked) window.postMessage({ source: PAGE, type: "unsupported" }, location.origin);
    }, 20000);
  });
})();
