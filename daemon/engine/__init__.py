"""The review engine: project + model → prompt → generation → parsed, anchored result.

`review.py` builds generation requests and turns outputs into results; `anchoring.py` ties
every comment to source ranges; `skeleton.py` holds the grammars that force a format's layout.
Nothing here knows about sockets or queues.
"""
