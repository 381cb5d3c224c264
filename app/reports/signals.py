"""Signals other areas subscribe to (blinker, as Flask's own signals)."""
from blinker import Namespace

_signals = Namespace()

#: Sent after a loss report is committed: ``report_submitted.send(app, report=LossReport)``.
#: Response levels recompute the assessment; the deadline alerts check deaths + missing.
report_submitted = _signals.signal("report-submitted")
