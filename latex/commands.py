"""What the project model knows about each LaTeX command: one entry per command, as data.

An entry says how the parser reads the command's arguments and what the renderer makes of it,
the way ltex-ls keeps each command as one `LatexCommandSignature("\\Acf[]{}", Action.Dummy)`:

- `args`: the argument specification the parser reads (`document/parser.py`). "*" an optional
  star, "[" an optional bracket argument, "{" a mandatory argument (a group, or one token), "g"
  an optional brace group, "r" a raw brace group (URLs), "f" a file name (braced, or a bare word
  as in `\\input file`), "p" an optional (...) group. None: the parser reads no arguments (the
  text after the command is read as text).
- `action`: what the renderer does (`render/walk.py` dispatches, `render/handlers.py` holds
  the handlers). "section" (value: level), "cite" (value: what a reader sees), "ref",
  "include", "show" (value: the one argument that is prose), "text" (value: fixed text),
  "linebreak", "accent" (pylatexenc), "drop" (nothing shown); any other action names a handler.
  None: nothing of its own (a user definition or pylatexenc may still give it text).
- `structural`: always the renderer's own, even where a paper redefines it: the project's
  structure depends on it.
- `recorded`: the parser records it for the project level (include graph, definitions,
  bibliography resources, root detection); `defines`: a definition (its body is not
  structure); `bib`: declares a bibliography resource.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    args: str | None
    action: str | None
    value: int | str | None = None
    structural: bool = False
    recorded: bool = False
    defines: bool = False
    bib: bool = False


_TABLE = [
    # Sectioning: value is the level (\part -1 ... \subparagraph 5).
    Command("part", "*[{", "section", value=-1, structural=True),
    Command("chapter", "*[{", "section", value=0, structural=True),
    Command("section", "*[{", "section", value=1, structural=True),
    Command("subsection", "*[{", "section", value=2, structural=True),
    Command("subsubsection", "*[{", "section", value=3, structural=True),
    Command("paragraph", "*[{", "section", value=4, structural=True),
    Command("subparagraph", "*[{", "section", value=5, structural=True),
    # Citations (LaTeX, natbib, biblatex, ACL's acl_natbib): value is what a reader sees of
    # each, "keys" the citation, "author"/"year"/"title" one part of it, "none" nothing.
    Command("Autocite", "*[[{", "cite", value="keys", structural=True),
    Command("Cite", "*[[{", "cite", value="keys", structural=True),
    Command("Citealp", "*[[{", "cite", value="keys", structural=True),
    Command("Citealt", "*[[{", "cite", value="keys", structural=True),
    Command("Citeauthor", "*[[{", "cite", value="author", structural=True),
    Command("Citep", "*[[{", "cite", value="keys", structural=True),
    Command("Citet", "*[[{", "cite", value="keys", structural=True),
    Command("Parencite", "*[[{", "cite", value="keys", structural=True),
    Command("Smartcite", "*[[{", "cite", value="keys", structural=True),
    Command("Textcite", "*[[{", "cite", value="keys", structural=True),
    Command("autocite", "*[[{", "cite", value="keys", structural=True),
    Command("cite", "*[[{", "cite", value="keys", structural=True),
    Command("citealp", "*[[{", "cite", value="keys", structural=True),
    Command("citealt", "*[[{", "cite", value="keys", structural=True),
    Command("citeauthor", "*[[{", "cite", value="author", structural=True),
    Command("citefullauthor", "*[[{", "cite", value="author", structural=True),
    Command("citenum", "*[[{", "cite", value="keys", structural=True),
    Command("citep", "*[[{", "cite", value="keys", structural=True),
    Command("citeposs", "*[[{", "cite", value="author", structural=True),  # ACL: Author's (year)
    Command("citet", "*[[{", "cite", value="keys", structural=True),
    Command("citetitle", "*[[{", "cite", value="title", structural=True),
    Command("citeurl", "*[[{", "cite", value="none", structural=True),
    Command("citeyear", "*[[{", "cite", value="year", structural=True),
    Command("citeyearpar", "*[[{", "cite", value="year", structural=True),
    Command("footcite", "*[[{", "cite", value="keys", structural=True),
    Command("footcitetext", "*[[{", "cite", value="keys", structural=True),
    Command("footfullcite", "*[[{", "cite", value="keys", structural=True),
    Command("fullcite", "*[[{", "cite", value="keys", structural=True),
    Command("newcite", "*[[{", "cite", value="keys", structural=True),  # ACL: \\citet
    Command("nocite", "*[[{", "cite", value="none", structural=True),
    Command("parencite", "*[[{", "cite", value="keys", structural=True),
    Command("shortcite", "*[[{", "cite", value="year", structural=True),  # ACL: \\citeyearpar
    Command("shortcites", "*[[{", "cite", value="keys", structural=True),
    Command("smartcite", "*[[{", "cite", value="keys", structural=True),
    Command("supercite", "*[[{", "cite", value="keys", structural=True),
    Command("textcite", "*[[{", "cite", value="keys", structural=True),
    # Cross-references: a hole the assembler fills once numbers are known.
    Command("Autoref", "*{", "ref", structural=True),
    Command("Cref", "*{", "ref", structural=True),
    Command("Vref", "*{", "ref", structural=True),
    Command("autoref", "*{", "ref", structural=True),
    Command("cpageref", "*{", "ref", structural=True),
    Command("cref", "*{", "ref", structural=True),
    Command("eqref", "*{", "ref", structural=True),
    Command("labelcref", "*{", "ref", structural=True),
    Command("nameref", "*{", "ref", structural=True),
    Command("pageref", "*{", "ref", structural=True),
    Command("ref", "*{", "ref", structural=True),
    Command("vref", "*{", "ref", structural=True),
    # Includes: edges of the include graph.
    Command("InputIfFileExists", "{{{", "include", structural=True, recorded=True),
    Command("import", "*{{", "include", structural=True, recorded=True),
    Command("include", "f", "include", structural=True, recorded=True),
    Command("includefrom", "*{{", "include", structural=True, recorded=True),
    Command("input", "f", "include", structural=True, recorded=True),
    Command("inputfrom", "*{{", "include", structural=True, recorded=True),
    Command("subfile", "f", "include", structural=True, recorded=True),
    Command("subimport", "*{{", "include", structural=True, recorded=True),
    Command("subincludefrom", "*{{", "include", structural=True, recorded=True),
    Command("subinputfrom", "*{{", "include", structural=True, recorded=True),
    # Formatting and boxes: only the argument at index `value` is read.
    Command("emph", "{", "show", value=0),
    Command("footnotetext", "[{", "show", value=1),
    Command("framebox", "[[{", "show", value=2),
    Command("href", "r{", "show", value=1),
    Command("hyperref", "[{", "show", value=1),
    Command("makebox", "[[{", "show", value=2),
    Command("marginpar", "[{", "show", value=1),
    Command("mbox", "{", "show", value=0),
    Command("multicolumn", "{{{", "show", value=2),
    Command("multirow", "[{[{[{", "show", value=5),
    Command("parbox", "[[[{{", "show", value=4),
    Command("raisebox", "{[[{", "show", value=3),
    Command("rotatebox", "[{{", "show", value=2),
    Command("sout", "{", "show", value=0),
    Command("texorpdfstring", "{{", "show", value=0),
    Command("text", "{", "show", value=0),
    Command("textbf", "{", "show", value=0),
    Command("textit", "{", "show", value=0),
    Command("textmd", "{", "show", value=0),
    Command("textnormal", "{", "show", value=0),
    Command("textrm", "{", "show", value=0),
    Command("textsc", "{", "show", value=0),
    Command("textsf", "{", "show", value=0),
    Command("textsl", "{", "show", value=0),
    Command("textsubscript", "{", "show", value=0),
    Command("textsuperscript", "{", "show", value=0),
    Command("texttt", "{", "show", value=0),
    Command("textup", "{", "show", value=0),
    Command("todo", "[{", "show", value=1),
    Command("uline", "{", "show", value=0),
    Command("underline", "{", "show", value=0),
    # Commands with their own handler (render/handlers.py, by action).
    Command("abstract", "g", "abstract", structural=True),
    Command("appendix", "", "appendix", structural=True),
    Command("bibitem", "[{", "bibitem", structural=True, recorded=True),
    Command("bibliography", "{", "bibliography", structural=True, recorded=True, bib=True),
    Command("printbibliography", "[", "bibliography", structural=True),
    Command("caption", "*[{", "caption", structural=True),
    Command("captionof", "*{[{", "caption"),
    Command("color", "[{", "color"),
    Command("colorbox", "[{{", "colorbox"),
    Command("fcolorbox", "[{[{{", "colorbox"),
    Command("ensuremath", "{", "ensuremath"),
    Command("fontsize", "{{", "fontsize"),
    Command("footnote", "[{", "footnote"),
    Command("item", "[", "item", structural=True),
    Command("label", "{", "label", structural=True),
    Command("maketitle", "", "maketitle", structural=True),
    Command("pagecolor", "[{", "pagecolor", recorded=True),
    Command("hphantom", "{", "phantom"),
    Command("phantom", "{", "phantom"),
    Command("vphantom", "{", "phantom"),
    Command("resizebox", "*{{{", "scalebox"),
    Command("scalebox", "{[{", "scalebox"),
    # Fixed text: control symbols, logos, abbreviations, spaces (value is the text).
    Command("\t", None, "text", value=" "),
    Command("\n", None, "text", value=" "),
    Command(" ", None, "text", value=" "),
    Command("!", None, "text", value=""),
    Command("#", None, "text", value="#"),
    Command("$", None, "text", value="$"),
    Command("%", None, "text", value="%"),
    Command("&", None, "text", value="&"),
    Command(",", None, "text", value=" "),
    Command("-", None, "text", value=""),
    Command("/", None, "text", value=""),
    Command(":", None, "text", value=" "),
    Command(";", None, "text", value=" "),
    Command("@", None, "text", value=""),
    Command("AND", None, "text", value="; "),
    Command("And", None, "text", value="; "),
    Command("BibTeX", None, "text", value="BibTeX"),
    Command("LaTeX", None, "text", value="LaTeX"),
    Command("LaTeXe", None, "text", value="LaTeX2e"),
    Command("P", None, "text", value="¶"),
    Command("S", None, "text", value="§"),
    Command("TeX", None, "text", value="TeX"),
    Command("_", None, "text", value="_"),
    Command("and", None, "text", value="; "),
    Command("copyright", None, "text", value="©"),
    Command("eg", None, "text", value="e.g."),
    Command("enspace", None, "text", value=" "),
    Command("etal", None, "text", value="et al."),
    Command("ie", None, "text", value="i.e."),
    Command("linebreak", None, "text", value=" "),
    Command("newline", None, "text", value=" "),
    Command("par", None, "text", value="\n\n"),
    Command("qquad", None, "text", value=" "),
    Command("quad", None, "text", value=" "),
    Command("space", None, "text", value=" "),
    Command("textregistered", None, "text", value="®"),
    Command("texttrademark", None, "text", value="™"),
    Command("thinspace", None, "text", value=" "),
    Command("today", None, "text", value="today"),
    Command("{", None, "text", value="{"),
    Command("|", None, "text", value="‖"),
    Command("}", None, "text", value="}"),
    # Commands with their own handler (render/handlers.py, by action).
    Command("textcolor", "[{{", "textcolor"),
    Command("tikz", None, "tikz"),
    Command("texttransparent", "{{", "transparent"),
    Command("transparent", "{", "transparent"),
    Command("path", "r", "url"),
    Command("url", "r", "url"),
    # Fixed text: control symbols, logos, abbreviations, spaces (value is the text).
    Command("\\", "*[", "linebreak"),  # \\\\[2pt]: a line break with optional space
    # Accents, rendered to Unicode by pylatexenc (with their argument).
    Command('"', "{", "accent"),
    Command("'", "{", "accent"),
    Command(".", "{", "accent"),
    Command("=", "{", "accent"),
    Command("H", "{", "accent"),
    Command("^", "{", "accent"),
    Command("`", "{", "accent"),
    Command("b", "{", "accent"),
    Command("c", "{", "accent"),
    Command("d", "{", "accent"),
    Command("k", "{", "accent"),
    Command("r", "{", "accent"),
    Command("t", "{", "accent"),
    Command("u", "{", "accent"),
    Command("v", "{", "accent"),
    Command("~", "{", "accent"),
    # Set-up, layout and definitions: arguments read, nothing shown.
    Command("@startsection", "{{{{{{", "drop", recorded=True),
    Command("DeclareMathOperator", "*{{", "drop"),
    Command("DeclareRobustCommand", "*{[[{", "drop", structural=True, recorded=True, defines=True),
    Command("RequirePackage", "[{[", "drop"),
    Command("SetWatermarkAngle", "{", "drop"),
    Command("SetWatermarkColor", "[{", "drop"),
    Command("SetWatermarkFontSize", "{", "drop"),
    Command("SetWatermarkHorCenter", "{", "drop"),
    Command("SetWatermarkLightness", "{", "drop"),
    Command("SetWatermarkScale", "{", "drop"),
    Command("SetWatermarkText", "{", "drop"),
    Command("SetWatermarkVerCenter", "{", "drop"),
    Command("addbibresource", "[{", "drop", structural=True, recorded=True, bib=True),
    Command("addglobalbib", "[{", "drop", recorded=True, bib=True),
    Command("addsectionbib", "[{", "drop", recorded=True, bib=True),
    Command("addtocounter", "{{", "drop"),
    Command("addtolength", "{{", "drop"),
    Command("author", "[{", "drop", recorded=True),
    Command("begin", None, "drop", structural=True),
    Command("bibliographystyle", "{", "drop"),
    Command("captionsetup", "[{", "drop"),
    Command("cline", "{", "drop"),
    Command("cmidrule", "p{", "drop"),  # booktabs' (lr) trim
    Command("colorlet", "[{[{", "drop", structural=True, recorded=True, defines=True),
    Command("date", "{", "drop"),
    Command("def", None, "drop", structural=True, recorded=True, defines=True),
    Command("definecolor", "[{{{", "drop", structural=True, recorded=True, defines=True),
    Command("documentclass", "[{[", "drop", recorded=True),
    Command("end", None, "drop", structural=True),
    Command("geometry", "{", "drop"),
    Command("graphicspath", "{", "drop"),
    Command("hspace", "*{", "drop"),
    Command("hypersetup", "{", "drop"),
    Command("includegraphics", "*[[{", "drop", recorded=True),
    Command("includeonly", "{", "drop", recorded=True),
    Command("let", None, "drop", recorded=True, defines=True),
    Command("linespread", "{", "drop"),
    Command("lstset", "{", "drop"),
    Command("newcommand", "*{[[{", "drop", structural=True, recorded=True, defines=True),
    Command("newenvironment", "*{[[{{", "drop", recorded=True, defines=True),
    Command("newlength", "{", "drop"),
    Command("newtheorem", "*{[{[", "drop", recorded=True),
    Command("pagenumbering", "{", "drop"),
    Command("pagestyle", "{", "drop"),
    Command("providecommand", "*{[[{", "drop", structural=True, recorded=True, defines=True),
    Command("refstepcounter", "{", "drop"),
    Command("renewcommand", "*{[[{", "drop", structural=True, recorded=True, defines=True),
    Command("renewenvironment", "*{[[{{", "drop", recorded=True, defines=True),
    Command("setcounter", "{{", "drop"),
    Command("setlength", "{{", "drop"),
    Command("setminted", "[{", "drop"),
    Command("stepcounter", "{", "drop"),
    Command("thanks", "{", "drop"),
    Command("thispagestyle", "{", "drop"),
    Command("title", "[{", "drop", structural=True, recorded=True),
    Command("titleformat", "*{[{{{{[", "drop"),
    Command("titlespacing", "*{{{{[", "drop"),
    Command("usepackage", "[{[", "drop"),
    Command("vspace", "*{", "drop"),
    # Read only by the parser: `\gdef` & co. are parsed like `\def`.
    Command("edef", None, None, recorded=True, defines=True),
    Command("gdef", None, None, recorded=True, defines=True),
    Command("xdef", None, None, recorded=True, defines=True),
]

COMMANDS: dict[str, Command] = {c.name: c for c in _TABLE}


def named(action: str) -> frozenset[str]:
    """The commands with this action."""
    return frozenset(c.name for c in _TABLE if c.action == action)
