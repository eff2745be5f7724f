"""绩效评价（IndicatorTemplate/PerformanceEvaluation） of a funded project."""
