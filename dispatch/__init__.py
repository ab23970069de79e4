"""dispatch package."""

import os

# Before numpy is first imported: its BLAS would otherwise start a thread per core, lazily,
# the first time the deadline risk is trained (an hour into a run, to anyone counting
# threads a leak), and would compete with the event loop for those cores. The risk's
# regression has a few dozen features: one thread is plenty. An operator's own setting wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
