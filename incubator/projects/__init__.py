"""Funded projects (立项), their tranche schedule and payments (分期拨付). See models.py for the interface."""
