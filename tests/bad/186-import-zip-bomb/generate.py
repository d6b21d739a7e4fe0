from tests.workbooks import xlsx


def generate(repo):
    (repo / "r.xlsx").write_bytes(xlsx("", replace={"xl/worksheets/sheet1.xml": bytes(300 * 1024 * 1024)}))
