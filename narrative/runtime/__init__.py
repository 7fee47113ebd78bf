"""Speed machinery, apart from the analysis: forked workers (:mod:`narrative.runtime.workers`).

Only the layers that fork import this package; importing it loads nothing beyond the standard
library.
"""
