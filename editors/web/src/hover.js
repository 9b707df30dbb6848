// Which language-server hovers the page shows. A hover on a review comment repeats the
// comment that CodeMirror's lint tooltip already shows for the same range (the diagnostic's
// message, with its suggested rewrite): showing both stacked two tooltips with the same text.
// lsp/hover.py's comment_markdown opens with "**papercycle · CATEGORY**"; the paper's and the
// sections' hovers (scores, how to ask for a review) have no lint tooltip and are shown.
export function shownHover(markdown) {
  if (!markdown || !markdown.trim()) return false;
  return !markdown.startsWith("**papercycle · ");
}
