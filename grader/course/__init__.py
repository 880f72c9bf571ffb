"""The course as data.

info.toml, the learner's workspace, the progress store, paths.
"""
