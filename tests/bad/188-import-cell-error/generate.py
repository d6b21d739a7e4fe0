from tests.workbooks import cell, row, text_row, xlsx


def generate(repo):
    error = cell("C2", "#DIV/0!", kind="e")
    rows = text_row(1, "单位", "指标", "数值") + row(2, cell("A2", "a"), cell("B2", "3"), error)
    (repo / "r.xlsx").write_bytes(xlsx(rows))
