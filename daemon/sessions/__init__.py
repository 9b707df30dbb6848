"""Open projects: always-fresh reviews at the cost of the change.

A client opens a project (`project.open`); the daemon keeps its project model, watches its
files (watch.py, debounced), takes editor buffers (`project.buffer`: a buffer wins over the
disk) and the cursor, and after every update:

1. works out which review units (engine/incremental.py: a section's own text, its number left
   out) changed by content; moving or renumbering a section is no change;
2. tells subscribers (`subscribe`): `sections.changed`, then `comments` events per section
   (new/updated/removed comments, with the revision and the editor versions they belong to):
   comments of untouched sections are re-anchored in the new text (their ranges shift with the
   edit), comments of a changed section are re-anchored and marked `stale` until its new
   review arrives (comments.py);
3. reviews the changed units one at a time, the cursor's first and then in reading order, at
   `save` priority through the daemon's road (jobs.py: its scheduler and cache; a unit's review
   is cached by its text, the model and the prompt version, so restoring an earlier text costs
   nothing); a unit that changes again while it is being reviewed has that review cancelled
   (section_queue.py);
4. runs the whole-paper review in the background (scheduler priority `background`, below
   every section and interactive request) when the paper changed "enough"
   (`[daemon] paper_review_threshold` of its words, or a section added or removed) or on
   `project.review` (paper_review.py).

registry.py keeps the open projects (one per root, shared by the clients that open it);
session.py is one of them. The requests themselves are answered in handlers/projects.py.
"""

from papercycle.daemon.sessions.registry import Sessions
from papercycle.daemon.sessions.session import Session

__all__ = ["Session", "Sessions"]
