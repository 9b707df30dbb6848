"""`make demo`: a whole-paper review result (JSON on stdin) shown honestly: who wrote it, whether
it is complete, what parsed, what did not and why, and the first lines the model wrote."""

import json
import sys

result = json.load(sys.stdin)
review = result.get("review") or {}
reports = review.get("reports") or []
print(f"written by: {result['model']} ({result['format']} prompt, mode {result['mode']})")
cut = result.get("incomplete")
print("complete:", "yes" if result.get("complete", True) else f"no ({cut['cause']})")
print(
    f"parsed: {len(reports)} reviewer report(s), meta review: {bool(review.get('meta'))}, "
    f"scores: {result['scores'] or 'none'}, decision: {result['decision'] or 'none'}, "
    f"comments: {len(result['comments'])}"
)
for warning in result.get("warnings", []):
    print(f"not read: {warning}")
raw = (review.get("raw_text") or "").strip().splitlines()
print("the model wrote (first lines):")
for line in raw[:8]:
    print(f"  | {line[:100]}")
