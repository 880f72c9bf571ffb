"""Class-wide grading for instructors: ``dlgrade grade SUBMISSIONS``.

Discovery and safe reading (:mod:`.submissions`), the durable gradebook (:mod:`.gradebook`),
local warm workers (:mod:`.pool`) or a Dask cluster (:mod:`.dask_backend`), exports derived
only from the gradebook (:mod:`.exports`), summary numbers (:mod:`.analytics`) and their
rendering (:mod:`.summary_report`), and one Gradescope submission (:mod:`.gradescope`).
"""
