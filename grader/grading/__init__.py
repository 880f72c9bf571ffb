"""One learner file against one exercise.

The pytest run and its plugin, the learner proxy, expectations, results and the report.
"""
