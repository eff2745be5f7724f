"""社会组织: registry, USCC, verification, annual reports, grades, credit records, eligibility."""
