"""进度报告（ReportSchedule/ProgressReport） of a funded project."""
