from tests.workbooks import cell, row, text_row, xlsx


def generate(repo):
    rows = (text_row(1, "单位", "指标", "数值", "扣分理由") + text_row(2, "a", "3", 0.5, "缺项")
            + row(3, cell("A3", "b"), cell("B3", "3"), cell("C3", 7, kind="s")))
    merged = '<mergeCells count="1"><mergeCell ref="D2:D3"/></mergeCells>'
    (repo / "r.xlsx").write_bytes(xlsx(rows, strings=["x"], sheet_tail=merged))
