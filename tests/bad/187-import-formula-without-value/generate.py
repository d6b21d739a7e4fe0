from tests.workbooks import cell, row, text_row, xlsx


def generate(repo):
    rows = (text_row(1, "单位", "指标", "数值", "扣分理由")
            + row(2, cell("A2", "a"), cell("B2", "3"), cell("C2", None, formula="SUM(D1:D9)"), cell("D2", "x"))
            + row(3, cell("A3", "b"), cell("B3", "3"), cell("C3", 0.5, formula="[1]评分!C3"), cell("D3", "x"))
            + row(4, cell("A4", "b"), cell("B4", "1.2"), cell("C4", 3, formula="1+2")))
    (repo / "r.xlsx").write_bytes(xlsx(rows))
