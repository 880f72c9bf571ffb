"""Exercise 04's trusted side.

The data, the model sandbox, the architecture check and the learning-curve plots.
"""
