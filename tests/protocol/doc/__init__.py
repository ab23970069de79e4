"""docs/protocol.md, tested: every example frame played against a running backend.

extract.py reads the document (sections, frames, tables); match.py says how a frame is
compared with the server's (what may vary); world.py rebuilds the example session's
morning; session.py plays that session and everything shown from its backend; casework.py
the sections captured on the test users (§6.8-§6.11); conftest.py runs them all once.
A new example (a new op's section) fails test_every_example_frame_is_compared_with_the_server
until a scene plays it: add one to casework.py (exchange() on the section's frames).
"""
