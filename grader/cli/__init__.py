"""The command line.

The Click group and one module per audience: learn, study, instructor.
"""
