"""The public site: 社会组织名录 (directory) and 资助项目 (funded projects with their final grades)."""
