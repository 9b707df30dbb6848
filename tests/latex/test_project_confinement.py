"""A project never reads outside its folder: the root its own files name (`.papercycle.toml`
root, latexmkrc `@default_files`, `% !TEX root`, subfiles) and the files it includes or cites
are confined, symlinks resolved; each refusal is one diagnostic naming the file."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from papercycle.cli.main import cli
from papercycle.latex import Project, ProjectError

SECRET = "Secret sentence from outside the project."
PASSWD = "../" * 40 + "etc/passwd"  # deeper than any tmp_path: lands on /etc/passwd


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A complete LaTeX paper next to the project: it would be a perfectly good root."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.tex").write_text(
        f"\\documentclass{{article}}\n\\begin{{document}}\n{SECRET}\n\\end{{document}}\n"
    )
    (folder / "secret.bib").write_text("@article{leak, title={Leaked title}, year={2000}}\n")
    return folder


def _refusals(project: Project) -> list[str]:
    return [d.message for d in project.diagnostics if d.code == "root-refused"]


def test_papercycle_toml_root_outside_is_refused_and_detection_goes_on(make_project, doc):
    root = make_project(
        {
            "main.tex": doc("Inside sentence."),
            ".papercycle.toml": f'[project]\nroot = "{PASSWD}"\n',
        }
    )
    project = Project.build(root)
    assert project.root.path == root / "main.tex"
    assert "root:" not in project.visible.text and "Inside sentence." in project.visible.text
    [message] = _refusals(project)
    assert message.startswith(f"{root / '.papercycle.toml'}: root = ")
    assert "/etc/passwd, which is outside the project folder" in message


def test_papercycle_toml_root_outside_with_nothing_else_is_one_project_error(make_project):
    root = make_project({".papercycle.toml": 'root = "../outside/secret.tex"\n', "x.tex": "x"})
    with pytest.raises(ProjectError) as caught:
        Project.build(root)
    message = str(caught.value)
    assert "\n" not in message
    assert f"{root / '.papercycle.toml'}: root = '../outside/secret.tex'" in message
    assert "outside the project folder" in message


def test_latexmkrc_default_files_outside_is_refused(make_project, doc, outside):
    root = make_project(
        {
            "main.tex": doc("Inside sentence."),
            ".latexmkrc": "@default_files = ('../outside/secret.tex');\n",
        }
    )
    project = Project.build(root)
    assert project.root.path == root / "main.tex"
    assert SECRET not in project.visible.text
    [message] = _refusals(project)
    assert message.startswith(f"{root / '.latexmkrc'}: @default_files = '../outside/secret.tex'")


def test_magic_root_outside_is_refused_from_a_file_and_from_a_folder(make_project, doc, outside):
    part = "% !TEX root = ../outside/secret.tex\nPart sentence.\n"
    root = make_project({"main.tex": doc("\\input{part}"), "part.tex": part})
    for opened in (root, root / "part.tex"):
        project = Project.build(opened)
        assert project.root.path == root / "main.tex", opened
        assert SECRET not in project.visible.text
        assert "Part sentence." in project.visible.text
        [message] = _refusals(project)
        assert message.startswith(f"{root / 'part.tex'}: % !TEX root names {outside}/secret.tex")


def test_magic_root_in_a_main_file_cannot_name_an_absolute_path_outside(make_project, doc, outside):
    root = make_project({"main.tex": f"% !TEX root = {outside}/secret.tex\n" + doc("Own text.")})
    project = Project.build(root / "main.tex")
    assert project.root.path == root / "main.tex"
    assert SECRET not in project.visible.text and "Own text." in project.visible.text
    [message] = _refusals(project)
    assert "which is outside the project folder" in message


def test_subfiles_main_outside_is_refused(make_project, outside):
    sub = (
        "\\documentclass[../outside/secret.tex]{subfiles}\n\\begin{document}\n"
        "Subfile sentence.\n\\end{document}\n"
    )
    root = make_project({"sub.tex": sub})
    with pytest.raises(ProjectError) as caught:
        Project.build(root / "sub.tex")
    message = str(caught.value)
    assert "\n" not in message and SECRET not in message
    assert message.startswith(
        f"{root / 'sub.tex'}: \\documentclass[main]{{subfiles}} names {outside}/secret.tex, which "
        f"is outside the project folder {root}; not used as the root; "
    )


def test_a_root_inside_must_be_a_latex_file(make_project, doc):
    root = make_project(
        {
            "main.tex": doc("Inside."),
            "notes.txt": "private notes",
            ".papercycle.toml": 'root = "notes.txt"\n',
        }
    )
    project = Project.build(root)
    assert project.root.path == root / "main.tex"
    [message] = _refusals(project)
    assert "notes.txt, which is not a LaTeX file" in message


def test_symlinked_main_file_pointing_outside_is_not_a_candidate(make_project, doc, outside):
    root = make_project({"main.tex": doc("Inside sentence.")})
    (root / "aaa.tex").symlink_to(outside / "secret.tex")
    project = Project.build(root)
    assert (
        project.root.path == root / "main.tex" and root / "aaa.tex" not in project.root.candidates
    )
    (root / "main.tex").unlink()
    with pytest.raises(ProjectError, match="no LaTeX project here"):
        Project.build(root)


def test_symlinked_include_and_bibliography_pointing_outside_are_refused(
    make_project, doc, outside
):
    root = make_project(
        {"main.tex": doc("Inside \\cite{leak}.\n\\input{part}\n\\bibliography{refs}")}
    )
    (root / "part.tex").symlink_to(outside / "secret.tex")
    (root / "refs.bib").symlink_to(outside / "secret.bib")
    project = Project.build(root)
    codes = {d.code: d for d in project.diagnostics}
    assert SECRET not in project.visible.text and "Leaked title" not in project.visible.text
    assert "leak" not in project.bibliography.entries
    assert codes["include-outside-root"].range.path == root / "main.tex"
    assert codes["bib-outside-root"].message == "refs.bib: outside the project root; not read"


def test_a_part_finds_its_main_one_level_up_but_never_above_a_git_folder(tmp_path, doc):
    paper = tmp_path / "repo" / "paper"
    (paper / "sections").mkdir(parents=True)
    (paper / "main.tex").write_text(doc("\\input{sections/intro}"))
    (paper / "sections" / "intro.tex").write_text("Intro sentence.\n")
    assert Project.build(paper / "sections" / "intro.tex").root.path == paper / "main.tex"
    # a .git in sections/ makes it the project: the main file above is someone else's
    (paper / "sections" / ".git").mkdir()
    with pytest.raises(ProjectError, match="no main file includes it"):
        Project.build(paper / "sections" / "intro.tex")


def test_cli_project_text_never_prints_passwd(make_project, doc):
    root = make_project(
        {"main.tex": doc("Inside sentence."), ".papercycle.toml": f'root = "{PASSWD}"\n'}
    )
    result = CliRunner().invoke(cli, ["project", str(root), "--text"])
    assert result.exit_code == 0, result.output
    assert "root:x:0:0" not in result.stdout and "Inside sentence." in result.stdout
    [line] = result.stderr.splitlines()
    assert line.startswith(f"papercycle: {root / '.papercycle.toml'}: root = ")
    assert line.endswith("is outside the project folder " + str(root) + "; not used as the root")


def test_graphics_outside_the_root_are_reported_symlinks_resolved(make_project, doc, outside):
    (outside / "photo.png").write_bytes(b"\x89PNG")
    body = "\\includegraphics[width=2cm]{../outside/photo.png}\n\\includegraphics{fig/linked}\n"
    root = make_project({"main.tex": doc(body + "\\includegraphics{fig/own}"), "fig/own.png": ""})
    (root / "fig" / "linked.png").symlink_to(outside / "photo.png")
    project = Project.build(root)
    found = [d for d in project.diagnostics if d.code == "graphics-outside-root"]
    assert [d.message.split(":")[0] for d in found] == [
        "\\includegraphics{../outside/photo.png}",
        "\\includegraphics{fig/linked}",
    ]
    assert found[0].message == (
        f"\\includegraphics{{../outside/photo.png}}: {outside / 'photo.png'} is outside the "
        f"project root {root}; a PDF built from this project would embed it"
    )
    assert all(d.range.path == root / "main.tex" for d in found)


def test_a_bbl_linking_outside_is_not_read(make_project, doc, tmp_path):
    (tmp_path / "other.bbl").write_text(
        "\\begin{thebibliography}{1}\n\\bibitem{leak} Leaked Author. Leaked title.\n"
        "\\end{thebibliography}\n"
    )
    root = make_project({"main.tex": doc("Inside \\cite{leak}.")})
    (root / "main.bbl").symlink_to(tmp_path / "other.bbl")
    project = Project.build(root)
    assert "leak" not in project.bibliography.entries
    [refused] = [d for d in project.diagnostics if d.code == "bib-outside-root"]
    assert refused.message == "main.bbl: links outside the project root; not read"
