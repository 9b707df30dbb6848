// Drafts streamed through `papercycle/draft` ({id, uri, section, chunk, done, cancelled?}):
// pure bookkeeping, unit-tested. The preview document shows the text so far; when the server
// then asks to apply the draft's edit (workspace/applyEdit labelled "papercycle: draft of
// SECTION"), the edit is held until the user accepts or rejects it.

export interface DraftMessage {
  id: string;
  uri: string;
  section: string;
  chunk: string;
  done: boolean;
  cancelled?: boolean;
}

export type DraftState = "streaming" | "done" | "cancelled" | "ready" | "accepted" | "rejected";

export interface Draft {
  id: string;
  uri: string;
  section: string;
  text: string;
  state: DraftState;
}

export const DRAFT_EDIT_LABEL = /^papercycle: draft of (.*)$/;

export class DraftStore {
  private readonly drafts = new Map<string, Draft>();
  latestId: string | null = null;

  update(msg: DraftMessage): Draft {
    let d = this.drafts.get(msg.id);
    if (!d) {
      d = { id: msg.id, uri: msg.uri, section: msg.section, text: "", state: "streaming" };
      this.drafts.set(msg.id, d);
      this.latestId = msg.id;
    }
    d.text += msg.chunk ?? "";
    d.uri = msg.uri || d.uri; // the final message names the file the draft goes into
    if (msg.cancelled) d.state = "cancelled";
    else if (msg.done && d.state === "streaming") d.state = "done";
    return d;
  }

  get(id: string): Draft | undefined {
    return this.drafts.get(id);
  }

  /** The draft an edit labelled "papercycle: draft of SECTION" belongs to. */
  forSection(section: string): Draft | undefined {
    const matching = [...this.drafts.values()].filter(
      (d) => d.section === section && (d.state === "done" || d.state === "streaming"),
    );
    return matching.pop();
  }

  latest(): Draft | undefined {
    return this.latestId ? this.drafts.get(this.latestId) : undefined;
  }

  previewText(d: Draft): string {
    const status: Record<DraftState, string> = {
      streaming: "streaming…",
      done: "generated; waiting for its place in the file",
      cancelled: "cancelled",
      ready: "ready: Accept inserts it into the file, Reject drops it",
      accepted: "accepted (inserted)",
      rejected: "rejected",
    };
    return `% papercycle draft of ${d.section} (${status[d.state]})\n% ${d.uri}\n\n${d.text}`;
  }
}

export function sectionOfEditLabel(label: string | undefined): string | null {
  const m = label ? DRAFT_EDIT_LABEL.exec(label) : null;
  return m ? m[1] : null;
}
