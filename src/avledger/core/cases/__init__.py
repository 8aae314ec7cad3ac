"""Cases (行政执法案件): the case register, footage linked to cases, major decisions and
their legal review (Annex 2).

Owns ``registry`` (cases and clip links), ``decisions`` (which decisions are major, and the
register of decisions), ``legal_review`` (recording decisions and closing reviews) and
``view`` (one case as the records office reads it). May use the shared core,
``retention.holds`` (a review places a hold), ``config`` and ``store``.
"""
