"""结项与退出（Termination、结算与退款、禁入期） of a funded project."""
