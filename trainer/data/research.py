"""Research-14K to CycleResearcher chats (shared/docs/review-formats.md §3).

A record that already holds the conversation (`messages` / `conversations`, as in the
authors' demo data) is used as it is; otherwise the first two assistant-facing turns are
built from `references` and the paper's fields.
"""

from __future__ import annotations

import json
import re
from typing import Any

from papercycle.formats.chat import Message
from papercycle.trainer.data.records import DataError, maybe_json

SYSTEM_PROMPT = (
    "You are a research assistant AI tasked with generating a scientific paper based on "
    "provided literature. Follow these steps:\n\n1. Analyze the given References. \n"
    "2. Identify gaps in existing research to establish the motivation for a new study.\n"
    "3. Propose a main idea for a new research work.\n"
    "4. Write the paper's main content in LaTeX format, including:\n   - Title\n   - Abstract\n"
    "   - Introduction\n   - Related Work\n   - Methods/\n"
    "5. Generate experimental setup details in JSON format to guide researchers.\n"
    "6. After receiving experimental results in JSON format, analyze them.\n"
    "7. Complete the paper by writing:\n   - Results\n   - Discussion\n   - Conclusion\n"
    "   - Contributions\n\nEnsure all content is original, academically rigorous, and follows "
    "standard scientific writing conventions."
)
USER_TAIL = (
    "The above content represents the relevant literature in this field. Please analyze it "
    "and provide the motivation and main idea. Then, provide the Title, Abstract, "
    "Introduction, Related Work, and Methods sections in LaTeX format."
)
_ROLES = {"human": "user", "gpt": "assistant", "user": "user", "assistant": "assistant",
          "system": "system"}  # fmt: skip


def researcher_prompt(references: str, topic: str | None = None) -> list[Message]:
    user = (f"Generate a research paper on the topic: {topic}\n\n" if topic else "") + (
        f"{references}\n\n{USER_TAIL}"
    )
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]


def references_text(references: Any) -> str:
    """BibTeX-with-abstracts text from a list of {title, abstract, bibtex?} or a string."""
    references = maybe_json(references)
    if isinstance(references, str):
        return references
    parts = []
    for i, ref in enumerate(references or []):
        abstract = f"Abstract: {ref['abstract']}\n" if ref.get("abstract") else ""
        bibtex = ref.get("bibtex") or f"@article{{ref{i},\n  title={{{ref.get('title', '')}}}\n}}"
        parts.append(abstract + bibtex)
    return "\n\n".join(parts)


def researcher_prompt_turns(record: dict[str, Any]) -> list[Message]:
    """The turns before the first assistant turn (SimPO's prompts): no target is built, so a
    record with references only is a prompt."""
    turns = maybe_json(record.get("messages") or record.get("conversations"))
    if turns:
        messages = researcher_example(record)["messages"]
        cut = next((i for i, m in enumerate(messages) if m["role"] == "assistant"), len(messages))
        return messages[:cut]
    paper_id = str(record.get("paperId") or record.get("id") or record.get("title"))
    if not record.get("references"):
        raise DataError(f"record {paper_id!r}: neither messages nor references")
    return researcher_prompt(references_text(record["references"]))


def researcher_example(record: dict[str, Any]) -> dict:
    paper_id = str(record.get("paperId") or record.get("id") or record.get("title"))
    turns = maybe_json(record.get("messages") or record.get("conversations"))
    if turns:
        messages = [
            {
                "role": _ROLES[t.get("role") or t.get("from")],
                "content": t.get("content") or t.get("value"),
            }
            for t in turns
        ]
        return {"id": paper_id, "messages": messages}
    if not record.get("references"):
        raise DataError(f"record {paper_id!r}: neither messages nor references")
    messages = researcher_prompt(references_text(record["references"]))
    messages.append({"role": "assistant", "content": _paper_turn(record)})
    return {"id": paper_id, "messages": messages}


def train_data_fields(record: dict[str, Any]) -> dict[str, Any]:
    """`train_data` as a dict. The released records store it as a fenced ```json string
    (review-formats.md §3.2); a plain JSON string or a dict is accepted too."""
    paper_id = str(record.get("paperId") or record.get("id") or record.get("title"))
    raw = record.get("train_data")
    if raw is None or raw == "":
        return {}
    if isinstance(raw, str):
        text = raw.strip()
        fenced = re.match(r"^```(?:json)?\s*\n?(.*?)\n?```\s*$", text, re.DOTALL)
        text = fenced.group(1) if fenced else text
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as error:
            raise DataError(
                f"record {paper_id!r}: train_data is not JSON ({error.msg} at line {error.lineno})"
            ) from None
    if not isinstance(raw, dict):
        raise DataError(f"record {paper_id!r}: train_data is not a JSON object")
    return raw


def _paper_turn(record: dict[str, Any]) -> str:
    data = train_data_fields(record)
    paper_id = str(record.get("paperId") or record.get("id") or record.get("title"))
    if (
        not str(data.get("motivation") or "").strip()
        or not str(data.get("main_idea") or "").strip()
    ):
        # a target with empty Motivation / Main Idea teaches the model to leave them empty
        raise DataError(
            f"record {paper_id!r}: train_data has no motivation or main_idea "
            "(the rebuilt target would be empty)"
        )
    sections = maybe_json(record.get("sections")) or []
    latex = f"\\title{{{record.get('title', '')}}}\n\n\\begin{{abstract}}\n{record.get('abstract', '')}\n\\end{{abstract}}"
    for name, text in sections:
        latex += f"\n\n\\section{{{name}}}\n{text}"
    parts = [
        f"## Motivation\n\n{data.get('motivation', '')}",
        f"## Main Idea\n\n{data.get('main_idea', '')}",
    ]
    for key in ("interestingness", "feasibility", "novelty"):
        if key in data:
            parts.append(f"## {key.capitalize()}\n\n{data[key]}")
    parts.append(f"```latex\n{latex}\n```")
    if data.get("experimental_setup"):
        setup = data["experimental_setup"]
        setup = setup if isinstance(setup, str) else json.dumps(setup, ensure_ascii=False)
        parts.append(f"## Experimental Setup\n\n```json\n{setup}\n```")
    return "\n\n".join(parts)
