"""预算科目、预算调整与支出（BudgetLine/BudgetAdjustment/Expense） of a funded project."""
