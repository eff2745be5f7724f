"""The README documents every setting in incubator/config.py, and the two commands."""
import re

from incubator.config import ROOT


def test_every_environment_variable_is_documented():
    config = (ROOT / "incubator" / "config.py").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    names = set(re.findall(r'_env\(\s*"([A-Z0-9_]+)"', config))
    assert "DATABASE_URL" in names  # the pattern still finds them
    missing = sorted(n for n in names if f"`{n}`" not in readme)
    assert not missing, f"add these to the configuration table in README.md: {missing}"


def test_readme_names_the_two_commands_and_the_demo_accounts_section():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for text in ("make run", "make test", "演示账号 / Demo accounts"):
        assert text in readme
