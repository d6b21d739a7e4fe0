from tests.workbooks import xlsx


def generate(repo):
    rows = ('<row r="1"><c r="A1" t="inlineStr"><is><t>&xxe;</t></is></c></row>')
    (repo / "r.xlsx").write_bytes(xlsx(rows, prolog='<!DOCTYPE w [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'))
