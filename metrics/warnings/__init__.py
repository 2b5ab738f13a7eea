"""Early warnings: cases about to miss their promise, surges of reports, departments falling behind.

One module per detector, each documented with its model and measured false-alarm rate in
``docs/metrics.md``, and their shared model:

* :mod:`metrics.warnings.risk` - :func:`sla_risk`, :func:`sla_risk_list` and :func:`sla_ticker`: every open case with the
  deadline of the stage it waits on and the probability of missing it;
* :mod:`metrics.warnings.surge` - :func:`surges`: reports per area and category in the last hours
  against the same hours of the previous 4 weeks (Poisson test, Bonferroni-corrected);
* :mod:`metrics.warnings.efficiency` - :func:`efficiency_warnings`: departments and streets whose
  on-time closure rate this week is clearly below their norm of the previous 8 weeks;
* :mod:`metrics.warnings.model` - the :class:`Warning` record surges and efficiency warnings share.

All take an explicit ``now`` and the deployment's settings, and return data (DataFrames or
:class:`Warning` records with names and numbers), never sentences or markup: the dashboard words
them (``dashboard/i18n.py``).
"""

from metrics.warnings.efficiency import EfficiencyModel, efficiency_warnings
from metrics.warnings.model import Warning
from metrics.warnings.risk import (
    HISTORY_DAYS,
    LEVEL_ORDER,
    MIN_HISTORY,
    RISK_COLUMNS,
    SlaRiskList,
    SlaTicker,
    breach_probability,
    sla_risk,
    sla_risk_list,
    sla_ticker,
)
from metrics.warnings.surge import SurgeModel, surges

__all__ = [
    "HISTORY_DAYS",
    "LEVEL_ORDER",
    "MIN_HISTORY",
    "RISK_COLUMNS",
    "EfficiencyModel",
    "SlaRiskList",
    "SlaTicker",
    "SurgeModel",
    "Warning",
    "breach_probability",
    "efficiency_warnings",
    "sla_risk",
    "sla_risk_list",
    "sla_ticker",
    "surges",
]
