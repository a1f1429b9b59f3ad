"""Tools an operator runs: probe, render, history, rebuild, demo.

Thin command-line fronts over the layers below.

May import: every cnaspider layer, and :mod:`localcna` (demo only).
"""
