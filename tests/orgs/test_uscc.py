"""统一社会信用代码 (GB 32100-2015): the codes of DOMAIN.md, every single-character change, input forms."""
import pytest

from incubator.orgs import uscc

VALID = ["52440106MJL001238R", "53100000500019795A", "91310110666007217T"]


@pytest.mark.parametrize("code", VALID)
def test_domain_examples_are_valid(code):
    assert uscc.validate(code) == code


def test_enterprise_code_is_valid_but_not_civil_affairs():
    assert uscc.validate("91310110666007217T") == "91310110666007217T"
    with pytest.raises(ValueError, match="不是民政部门登记的社会组织代码"):
        uscc.validate_civil_affairs("91310110666007217T")


@pytest.mark.parametrize("code,category", [("52440106MJL001238R", "民办非企业单位（社会服务机构）"), ("53100000500019795A", "基金会")])
def test_civil_affairs_codes_decode_their_category(code, category):
    assert uscc.validate_civil_affairs(code) == code
    assert uscc.civil_affairs_category(code) == category


@pytest.mark.parametrize("code", VALID)
@pytest.mark.parametrize("position", range(18))
def test_every_single_character_change_fails(code, position):
    """All 18 positions × every other character of the 31-character alphabet."""
    accepted = []
    for ch in uscc.ALPHABET:
        if ch == code[position]:
            continue
        changed = code[:position] + ch + code[position + 1:]
        try:
            uscc.validate(changed)
        except ValueError:
            continue
        accepted.append(changed)
    assert accepted == []


@pytest.mark.parametrize("letter", list("IOSVZ"))
def test_letters_outside_the_alphabet_are_refused_clearly(letter):
    code = "52440106MJL001238R"
    changed = code[:9] + letter + code[10:]
    with pytest.raises(ValueError, match="不使用字母 I、O、S、V、Z"):
        uscc.validate(changed)


@pytest.mark.parametrize("typed", [" 52440106mjl001238r ", "52440106MJL001238r", "\t52440106 MJL001238R\n", "５２４４０１０６ＭＪＬ００１２３８Ｒ"])
def test_lower_case_spaces_and_full_width_are_normalised(typed):
    assert uscc.validate(typed) == "52440106MJL001238R"


@pytest.mark.parametrize("typed,message", [
    ("", "请填写"),
    ("52440106MJL00123", "应为18位"),
    ("52440106MJL001238RX", "应为18位"),
    ("5244A106MJL001238R", "行政区划代码"),
    ("52440106MJL00123#R", "无效字符"),
])
def test_bad_shapes_have_chinese_messages(typed, message):
    with pytest.raises(ValueError, match=message):
        uscc.validate(typed)


def test_org_code_warning_warns_but_does_not_reject():
    # A code with a correct GB 32100 check but a wrong GB 11714 check inside (early pilot codes).
    code = uscc.make_code("52", "410311", "MJ0000001")
    assert uscc.validate_civil_affairs(code) == code
    assert uscc.org_code_warning(code) is not None
    assert uscc.org_code_warning("52440106MJL001238R") is None
