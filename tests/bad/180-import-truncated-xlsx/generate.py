from tests.workbooks import text_row, xlsx


def generate(repo):
    whole = xlsx(text_row(1, "单位", "指标", "数值") + text_row(2, "a", "3", 0.5))
    (repo / "r.xlsx").write_bytes(whole[: len(whole) // 2])
