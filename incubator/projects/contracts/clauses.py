"""Contract text: the default clauses, placeholders filled from a project, amounts in capitals.

Pure functions (no database): ``fill(text, values)`` replaces ``{{名称}}``; ``unknown_placeholders``
lists the names a template uses that the platform does not know; ``rmb_upper`` writes an amount as
人民币大写 (壹拾万元整).
"""
from __future__ import annotations

import re
from decimal import Decimal

PLACEHOLDER_RE = re.compile(r"\{\{\s*([^{}\s]+)\s*\}\}")
SCHEDULE_TABLE = "分期拨付计划表"  # placed alone in a clause: the tranche table goes there

# Placeholders a template may use, with what they become (shown in the template editor).
PLACEHOLDERS: dict[str, str] = {
    "项目名称": "项目名称",
    "项目编号": "项目编号（如 XM-2026-0001）",
    "合同编号": "合同编号",
    "甲方": "甲方（购买主体／主管部门）",
    "乙方": "乙方（承接主体名称）",
    "乙方统一社会信用代码": "乙方的统一社会信用代码或备案编号",
    "乙方法定代表人": "乙方法定代表人（负责人）",
    "乙方地址": "乙方办公地址",
    "服务内容": "立项时登记的服务内容",
    "服务数量": "立项时登记的服务数量",
    "服务质量": "立项时登记的质量标准",
    "服务期限": "如 2026年3月1日至2027年2月28日",
    "开始日期": "服务期限开始日期",
    "结束日期": "服务期限结束日期",
    "合同金额": "如 ¥100,000.00",
    "合同金额大写": "如 壹拾万元整",
    "预算来源": "预算年度及预算项目",
    "分期拨付计划": "各期拨付的文字说明（一行）",
    SCHEDULE_TABLE: "分期拨付计划表（单独成段，表格放在此处）",
    "城市": "本市名称",
    "平台名称": "平台名称",
}

PURCHASE_CLAUSES: list[dict[str, str]] = [
    {"heading": "服务内容",
     "body": "乙方承接甲方购买的“{{项目名称}}”（项目编号：{{项目编号}}），按照本合同约定提供以下服务：\n{{服务内容}}"},
    {"heading": "服务期限",
     "body": "服务期限为{{服务期限}}。乙方应在服务期限内完成本合同约定的全部服务，不得将服务整体转包。"},
    {"heading": "服务数量",
     "body": "乙方应完成的服务数量：{{服务数量}}。\n服务数量是甲方开展进度检查、中期评估和结项验收的依据。"},
    {"heading": "服务质量",
     "body": "乙方提供的服务应达到以下质量标准：{{服务质量}}。\n乙方应建立项目服务台账，如实记录服务过程，接受甲方及甲方委托的第三方机构的监督、检查和绩效评价。"},
    {"heading": "合同价格",
     "body": "本合同金额为人民币{{合同金额大写}}（{{合同金额}}），资金来源为{{预算来源}}。"
             "合同金额包含乙方完成本合同约定服务所需的全部费用，合同履行期间不作调整，本合同另有约定的除外。"},
    {"heading": "资金结算方式",
     "body": "合同资金按照以下分期拨付计划支付，每一期须在其拨付条件满足后，由乙方提出申请，经甲方业务科室和财务审核后拨付至乙方账户：\n"
             "{{分期拨付计划表}}\n中期评估不合格的，甲方停止拨付后续资金。"},
    {"heading": "甲方权利义务",
     "body": "（一）甲方有权对乙方的服务过程和资金使用情况进行监督检查，要求乙方按期报送进度报告；\n"
             "（二）甲方应按照本合同约定及时拨付合同资金；\n"
             "（三）甲方应为乙方开展服务提供必要的协调和支持；\n"
             "（四）甲方负责组织中期评估和结项验收，并依法公开本合同摘要。"},
    {"heading": "乙方权利义务",
     "body": "（一）乙方有权按照本合同约定获得合同资金；\n"
             "（二）乙方应按照本合同约定的内容、数量和质量标准提供服务，按期报送进度报告；\n"
             "（三）乙方应专款专用，单独核算，按照批准的预算使用资金，不得挤占、挪用；\n"
             "（四）乙方应保护服务对象的个人信息和隐私，不得向服务对象收取费用。"},
    {"heading": "违约责任",
     "body": "乙方未按照本合同约定提供服务、服务质量不达标或违规使用资金的，甲方有权要求限期整改、停止拨付、"
             "解除合同并追回已拨付资金；情节严重的，乙方在{{城市}}三年内不得承接政府购买服务和公益创投项目。"
             "甲方无正当理由未按期拨付资金的，应承担相应责任。"},
    {"heading": "争议解决",
     "body": "因本合同引起的争议，双方应协商解决；协商不成的，任何一方可向甲方所在地人民法院提起诉讼。"},
    {"heading": "其他",
     "body": "本合同一式四份，甲乙双方各执两份，自双方法定代表人或授权代表签字并加盖公章之日起生效。"
             "本合同未尽事宜，双方可签订补充协议，补充协议与本合同具有同等效力。"
             "本合同摘要将在{{平台名称}}依法公开。"},
]

GRANT_CLAUSES: list[dict[str, str]] = [
    {"heading": c["heading"],
     "body": c["body"].replace("承接甲方购买的", "获得甲方公益创投资助的").replace("本合同金额", "本协议资助金额")
     .replace("本合同", "本协议").replace("合同资金", "资助资金").replace("合同金额", "资助金额")
     .replace("政府购买服务和公益创投项目", "公益创投和政府购买服务项目")
     .replace("{{资助金额", "{{合同金额")}  # the wording changes, the placeholders ({{合同金额大写}}) do not
    for c in PURCHASE_CLAUSES
]

DEFAULT_TITLES = {"purchase": "政府购买服务合同", "grant": "公益创投项目资助协议"}
DEFAULT_CLAUSES = {"purchase": PURCHASE_CLAUSES, "grant": GRANT_CLAUSES}


def placeholders_in(text: str) -> list[str]:
    return PLACEHOLDER_RE.findall(text or "")


def unknown_placeholders(text: str) -> list[str]:
    return [name for name in placeholders_in(text) if name not in PLACEHOLDERS]


def fill(text: str, values: dict[str, str]) -> str:
    """Replace every known placeholder; an unknown one is left as written (the editor refuses them)."""
    return PLACEHOLDER_RE.sub(lambda m: values.get(m.group(1), m.group(0)), text or "")


def clause_blocks(body: str, values: dict[str, str]) -> list[dict[str, str]]:
    """A clause body as blocks: paragraphs ({"p": text}) and the tranche table ({"schedule": "1"})."""
    blocks: list[dict[str, str]] = []
    for line in (body or "").splitlines():
        line = line.strip()
        if not line:
            continue
        if PLACEHOLDER_RE.fullmatch(line) and PLACEHOLDER_RE.fullmatch(line).group(1) == SCHEDULE_TABLE:
            blocks.append({"schedule": "1"})
            continue
        # the table placeholder inside running text becomes the one-line summary
        line = PLACEHOLDER_RE.sub(lambda m: "{{分期拨付计划}}" if m.group(1) == SCHEDULE_TABLE else m.group(0), line)
        blocks.append({"p": fill(line, values)})
    return blocks


_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_UNITS = ["", "拾", "佰", "仟"]
_SECTIONS = ["", "万", "亿", "万亿"]


def _four(n: int) -> str:
    """0 < n < 10000 in capitals, with inner zeros (一千零五 → 壹仟零伍)."""
    out, zero = "", False
    for pos in range(3, -1, -1):
        d = n // 10 ** pos % 10
        if d == 0:
            zero = bool(out)
            continue
        if zero:
            out += "零"
            zero = False
        out += _DIGITS[d] + _UNITS[pos]
    return out


def rmb_upper(amount: Decimal) -> str:
    """¥100,000.00 → 壹拾万元整; ¥1,005.30 → 壹仟零伍元叁角 (人民币大写, as on Chinese contracts)."""
    amount = Decimal(amount).quantize(Decimal("0.01"))
    if amount < 0:
        raise ValueError("negative amount")
    fen_total = int(amount * 100)
    yuan, jiao, fen = fen_total // 100, fen_total // 10 % 10, fen_total % 10
    if yuan == 0 and jiao == 0 and fen == 0:
        return "零元整"
    words = ""
    if yuan:
        sections, n = [], yuan
        while n:
            sections.append(n % 10000)
            n //= 10000
        need_zero = False
        for i in range(len(sections) - 1, -1, -1):
            s = sections[i]
            if s == 0:
                need_zero = bool(words)
                continue
            if words and (need_zero or s < 1000):
                words += "零"
            words += _four(s) + _SECTIONS[i]
            need_zero = False
        words += "元"
    if jiao == 0 and fen == 0:
        return words + "整"
    if jiao:
        words += _DIGITS[jiao] + "角"
    elif yuan:
        words += "零"
    if fen:
        words += _DIGITS[fen] + "分"
    return words
