"""服务合同（Contract）：生成、签订、公开与变更 of a funded project."""
