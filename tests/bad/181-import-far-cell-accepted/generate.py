from openpyxl import Workbook


def generate(repo):
    book = Workbook()
    book.active.append(["单位", "指标", "数值", "扣分理由"])
    book.active.append(["a", "3", 0.5, "目录缺项"])
    book.active["XFD1048576"] = 1
    book.save(repo / "r.xlsx")
