"""Reference kernels, one module per week: the answers the hidden checks compare to.

Validated in ``tests/`` against independent oracles (PyTorch, scikit-learn, SciPy), never
against themselves. Public checks never import this package, so a course release may leave
it out.
"""
