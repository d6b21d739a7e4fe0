from tests.workbooks import text_row, xlsx

LAUGHS = ('<!DOCTYPE lolz [<!ENTITY lol "lolololololololololol">'
          + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10))
          + "]>")


def generate(repo):
    rows = text_row(1, "单位", "指标", "数值").replace("单位", "&lol9;") + text_row(2, "a", "3", 0.5)
    (repo / "r.xlsx").write_bytes(xlsx(rows, prolog=LAUGHS))
