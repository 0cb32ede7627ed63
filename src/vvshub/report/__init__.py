"""A report on a catalog: one self-contained HTML page to look at and share.

It holds the catalog's summary tables, the paper's scaling laws refitted on it, the
mini zoo that vvshub trained (accuracy and alignment against data and compute, with its
own data-scaling law) and the models' cards from the local hub.

Example:
    >>> from vvshub.report import build_report, mini_zoo_law
    >>> build_report("report.html", zoo_law=mini_zoo_law())  # doctest: +SKIP
"""

from vvshub.report._html import Card, ReportResult, build_report
from vvshub.report._zoo import mini_zoo_law

__all__ = ["Card", "ReportResult", "build_report", "mini_zoo_law"]
