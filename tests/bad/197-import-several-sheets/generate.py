from openpyxl import Workbook


def generate(repo):
    """A workbook with a notes sheet before the results: which to import is the person's to say."""
    book = Workbook()
    book.active.title = "填表说明"
    book.active.append(["每行一个单位的一个指标"])
    results = book.create_sheet("评估结果")
    results.append(["单位", "指标", "数值"])
    for unit in ("a", "b"):
        results.append([unit, "3", 0.5])
    book.save(repo / "r.xlsx")
