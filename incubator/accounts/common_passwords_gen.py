"""Regenerate common_passwords.txt (offline; no download): ``python -m incubator.accounts.common_passwords_gen``.

The list combines the best-known leaked passwords with the patterns that dominate Chinese leaks
(CSDN, 163, Tianya): digit runs, keyboard walks, pinyin names and phrases (woaini, 5201314),
words followed by years or lucky numbers. Birth dates (19900101) are refused by a rule in
passwords.py instead of being listed one by one.
"""
from __future__ import annotations

from pathlib import Path

TOP = """
123456 password 12345678 qwerty 123456789 12345 1234 111111 1234567 dragon 123123 baseball abc123
football monkey letmein 696969 shadow master 666666 qwertyuiop 123321 mustang 1234567890 michael
654321 superman 1qaz2wsx 7777777 121212 000000 qazwsx 123qwe killer trustno1 jordan jennifer zxcvbnm
asdfgh hunter buster soccer harley batman andrew tigger sunshine iloveyou 2000 charlie robert thomas
hockey ranger daniel starwars klaster 112233 george computer michelle jessica pepper 1111 zxcvbn
555555 11111111 131313 freedom 777777 pass maggie 159753 aaaaaa ginger princess joshua cheese amanda
summer love ashley nicole chelsea biteme matthew access yankees 987654321 dallas austin thunder taylor
matrix minecraft william corvette hello martin heather secret merlin diamond 1234qwer gfhjkm hammer
silver 222222 88888888 anthony justin test bailey q1w2e3r4t5 patrick internet scooter orange 11111
golfer cookie richard samantha bigdog guitar jackson whatever mickey chicken sparky snoopy maverick
phoenix camaro peanut morgan welcome falcon cowboy ferrari samsung andrea smokey steelers joseph
mercedes dakota arsenal eagles melissa boomer booboo spider nascar monster tigers yellow xxxxxx
123123123 gateway marina diablo bulldog qwer1234 compaq purple hardcore banana junior hannah 123654
porsche lakers iceman money cowboys 987654 london tennis 999999 ncc1701 coffee scooby 0000 miller
boston q1w2e3r4 brandon yamaha chester mother forever johnny edward 333333 oliver redsox player
nikita knight fender barney midnight please brandy chicago badboy slayer rangers charles angel flower
bigdaddy rabbit wizard bigdick jasper enter rachel chris steven winner adidas victoria natasha 1q2w3e4r
jasmine winter prince panties marine ghbdtn fishing cocacola casper james 232323 raiders 888888
marlboro gandalf asdfasdf crystal 87654321 12344321 golden 8675309 admin administrator root toor
passw0rd p@ssw0rd p@ssword pa$$word passwort changeme default guest qwe123 zaq12wsx 1qazxsw2
qazwsxedc 1q2w3e 1q2w3e4r5t 1q2w3e4r5t6y qwertyui asdfghjkl zxcvbnm123 qweasdzxc qweasd 147258369
159357 147258 258369 369258 741852963 963852741 789456123 123456789a a123456789 a1234567 a12345678
abc12345 abcd1234 abc123456 abcdefg abcdefgh aa123456 aa12345678 asd123456 qq123456 qq123456789
woaini woaini1314 woaini520 woaini123 woaini521 woaiwojia wodemima mima123 mima123456 5201314
52013145201314 1314520 1314521 520520 5211314 521521 aini1314 iloveyou1314 woshishui nihao nihao123
zhang wang li liu chen yang huang zhao zhou wu xu sun ma zhu hu guo he lin luo gao zheng liang xie
tang han feng deng cao peng zeng xiao tian dong pan yuan cai jiang yu du ye cheng wei su lu ding ren
shen yao jia qian fu fang bai zou meng xiong qin qiu hou jiang yin xue yan duan lei long tao
zhangwei wangwei wangfang liwei lina zhangmin lijing wangjing liuwei wangxiuying zhangli lixiuying
wangli zhangjing lilin wanglei zhangyong liyan liyang wangyan zhanglei wangqiang wangjun
china zhongguo beijing shanghai guangzhou shenzhen luoyang henan xiaoming xiaohong xiaoli
tianya csdn baidu taobao weixin wechat qqqqqq wwwwww asdasd asdqwe zxczxc qazqaz
shengri mimamima woaiwoziji zhendeaini nicaicai buzhidao wangluo diannao jiayou kaixin xingfu
meimei baobao beibei dandan lele huanhuan pingan fugui facai laopo laogong
"""

WORDS = """
password iloveyou princess sunshine football baseball welcome shadow superman michael master dragon
monkey letmein qwerty admin hello charlie login starwars freedom whatever trustno1 secret computer
internet summer winter spring autumn flower angel lover love baby babygirl family friend friends
forever beautiful pretty happy lucky money jesus christ god heaven soccer basketball hockey tennis
golf music guitar piano pokemon naruto batman spiderman ironman hulk yankees liverpool chelsea arsenal
barcelona manchester juventus google apple samsung huawei xiaomi microsoft windows linux ubuntu
woaini aini wodemima mima zhongguo china beijing shanghai luoyang henan zhangwei wangwei liwei
wangfang xiaoming laopo laogong baobao beibei xingfu kaixin jiayou pingan facai shengri zhendeaini
qazwsx qwerty asdfgh zxcvbn abc abcd abcdef qwe asd zxc test user guest root system server database
office work company school student teacher police doctor nurse government minzheng shehui zuzhi
gongyi fuhua zhengfu renmin xinxi guanli pingtai
"""

SUFFIXES = [
    "", "1", "12", "123", "1234", "12345", "123456", "1234567", "12345678", "!", "!!", "1!", "123!", "@123",
    "#123", "01", "007", "11", "88", "99", "000", "111", "520", "521", "666", "888", "999", "1314",
    "2008", "2010", "2012", "2015", "2018", "2019", "2020", "2021", "2022", "2023", "2024", "2025", "2026",
]


def _digit_patterns() -> set[str]:
    out: set[str] = set()
    for d in "0123456789":
        for n in range(4, 17):
            out.add(d * n)
    seq = "01234567890123456789"
    for n in range(6, 13):
        for i in range(10):
            out.add(seq[i:i + n])
            out.add(seq[i:i + n][::-1])
    for a in range(10):
        for b in range(10):
            if a != b:
                out.add(f"{a}{b}" * 4)
                out.add(f"{a}{b}" * 5)
                out.add(f"{a}{b}" * 6)
                out.add(f"{a}{a}{b}{b}" * 2)
                out.add(f"{a}{a}{a}{b}{b}{b}" * 2)
    for block in ("123", "1234", "12345", "123456", "520", "1314", "5201314", "147", "258", "369", "159", "357"):
        out.add(block * 2)
        out.add(block * 3)
    out.update({"11223344", "1122334455", "112233445566", "12341234", "123412341234", "12312312", "1231231234"})
    return out


def _keyboard_patterns() -> set[str]:
    rows = ["1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm"]
    cols = ["1qaz", "2wsx", "3edc", "4rfv", "5tgb", "6yhn", "7ujm", "8ik,", "9ol.", "0p;/"]
    out: set[str] = set()
    for row in rows:
        for n in range(6, len(row) + 1):
            out.add(row[:n])
            out.add(row[:n][::-1])
        out.add(row + row[:3])
    for n in range(2, 6):
        walk = "".join(cols[:n])
        out.add(walk)
        out.add(walk.upper())
        out.add("".join(c[::-1] for c in cols[:n]))
    for walk in ("qweasdzxc", "qazwsxedc", "qazwsxedcrfv", "zaq1xsw2", "zaq12wsx", "1qaz@wsx", "1qaz!qaz",
                 "!qaz2wsx", "1q2w3e4r", "1q2w3e4r5t", "1q2w3e4r5t6y", "q1w2e3r4", "q1w2e3r4t5", "q1w2e3r4t5y6",
                 "asdf1234", "qwer1234", "zxcv1234", "1234asdf", "1234qwer", "qwerasdf", "qwerasdfzxcv",
                 "asdfjkl;", "qwertyuiop[]", "!@#$%^&*", "!@#$%^", "!@#$%^&*()", "1qaz2wsx3edc", "1qaz2wsx3edc4rfv"):
        out.add(walk)
    return out


def generate() -> list[str]:
    out: set[str] = set()
    for w in TOP.split():
        out.add(w.lower())
    for w in WORDS.split():
        for s in SUFFIXES:
            out.add(f"{w}{s}")
        out.add(f"{w}{w}")
        out.add(f"{w}@{w}")
    out |= _digit_patterns()
    out |= _keyboard_patterns()
    for prefix in ("a", "aa", "aaa", "abc", "qq", "wang", "zhang", "li", "woaini", "admin", "test", "pass"):
        for tail in ("123456", "12345678", "123456789", "654321", "888888", "666666", "5201314", "1314520"):
            out.add(prefix + tail)
            out.add(tail + prefix)
    return sorted(x.lower() for x in out if x)


def main() -> None:
    path = Path(__file__).with_name("common_passwords.txt")
    words = generate()
    header = (
        "# Common passwords refused by check_password_policy (generated offline by\n"
        "# incubator/accounts/common_passwords_gen.py from well-known leak patterns). One per line,\n"
        "# compared case-insensitively.\n"
    )
    path.write_text(header + "\n".join(words) + "\n", encoding="utf-8")
    print(f"{len(words)} passwords written to {path}")


if __name__ == "__main__":
    main()
