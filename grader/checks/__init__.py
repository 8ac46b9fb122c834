"""Check specifications, one module per week: cases, tolerances, points and hints.

These modules must not import :mod:`answers.kernels` at import time: public checks run where
the reference kernels are absent. References are named as ``"module:function"`` strings.
"""
