"""The review engine: project + model → prompt → generation → parsed, anchored result.

`review.py` builds generation requests and turns outputs into results (`prompting.py` holds
what every prepared generation shares: the rendered prompt, the model's identity in cache
keys, the context check); `anchoring.py` ties every comment to source ranges; `skeleton.py`
holds the grammars that force a format's layout; `draft.py`, `paper.py`, `plan.py` are the
co-author's generations. Nothing here knows about sockets, queues, the scheduler or the
server (tests/daemon/test_daemon_layout.py checks it): the daemon runs each generation on its
road (jobs.py), and the requests of several generations (`best_mode.py`,
`aiscientist_run.py`) get a `generate` function passed in.
"""
