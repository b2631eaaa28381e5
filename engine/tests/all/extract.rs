//! `smart_file_extract` in the sandbox: text out of DOCX, XLSX, PDF, HTML,
//! JSON and CSV files made in the workbench; a zip bomb, an entity bomb and
//! a malformed PDF are refused with a message, and the session's
//! interpreter keeps its state.

use crate::helpers::*;

const MAKE: &str = r#"
import zipfile, zlib
keep = "still here"
with zipfile.ZipFile("a.docx", "w") as z:
    z.writestr("word/document.xml", '<w:document xmlns:w="urn:w"><w:body><w:p><w:r><w:t>Hello</w:t></w:r><w:r><w:t> world</w:t></w:r></w:p><w:p><w:r><w:t>Second</w:t></w:r></w:p></w:body></w:document>')
with zipfile.ZipFile("a.xlsx", "w") as z:
    z.writestr("xl/sharedStrings.xml", '<sst xmlns="urn:x"><si><t>name</t></si><si><t>ann</t></si></sst>')
    z.writestr("xl/worksheets/sheet1.xml", '<worksheet xmlns="urn:x"><sheetData><row><c t="s"><v>0</v></c><c><v>2</v></c></row><row><c t="s"><v>1</v></c><c><v>3.5</v></c></row></sheetData></worksheet>')
stream = zlib.compress(b"BT /F1 12 Tf 72 712 Td (Hello PDF) Tj T* [(Wor) -20 (ld)] TJ ET")
open("a.pdf", "wb").write(b"%PDF-1.4\n1 0 obj << /Length " + str(len(stream)).encode() + b" /Filter /FlateDecode >>\nstream\n" + stream + b"\nendstream\nendobj\n%%EOF")
open("bad.pdf", "wb").write(b"%PDF-1.4\n1 0 obj << /Filter /FlateDecode >>\nstream\n\x00\xff\x13 not deflate\nendstream\n")
open("a.html", "w").write("<html><script>x = 1</script><p>Hi <b>there</b></p><p>Two</p></html>")
open("a.json", "w").write('{"b": 1, "a": [1, 2]}')
open("a.csv", "w").write("x,y\n1,2\n")
with zipfile.ZipFile("bomb.docx", "w", zipfile.ZIP_DEFLATED) as z:
    with z.open("word/document.xml", "w") as f:
        zeros = bytes(1 << 20)
        for _ in range(110):
            f.write(zeros)
with zipfile.ZipFile("entities.docx", "w") as z:
    z.writestr("word/document.xml", '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">]><w:document/>')
"#;

#[tokio::test]
async fn documents_give_their_text_and_hostile_ones_are_refused() {
    let sb = sandbox();
    sb.ok(MAKE).await;
    for (file, text) in [
        ("a.docx", "Hello world\nSecond"),
        ("a.xlsx", "# sheet1\nname\t2\nann\t3.5"),
        ("a.pdf", "Hello PDF\nWorld"),
        ("a.html", "Hi there\nTwo"),
        (
            "a.json",
            "{\n  \"b\": 1,\n  \"a\": [\n    1,\n    2\n  ]\n}",
        ),
        ("a.csv", "x\ty\n1\t2"),
    ] {
        // JSON string literals are Python string literals.
        let want = serde_json::to_string(text).unwrap();
        let out = sb
            .ok(&format!(
                "got = smart_file_extract({file:?}, show_preview=False)\ngot == ({want}, '') or got"
            ))
            .await;
        assert_eq!(out.as_deref(), Some("True"), "{file}");
    }
    for (file, says) in [
        ("bomb.docx", "inflates past 100 MB"),
        ("entities.docx", "DTD"),
        ("bad.pdf", "no text found"),
        ("missing.pdf", "no such file"),
    ] {
        let out = sb
            .ok(&format!(
                "text, error = smart_file_extract({file:?})\n(text, error)"
            ))
            .await
            .unwrap();
        assert!(
            out.starts_with("(None, ") && out.contains(says),
            "{file}: {out}"
        );
    }
    // The preview is printed; the interpreter kept its state throughout.
    let out = sb.run("smart_file_extract('a.docx')\nkeep").await;
    assert!(out.stdout.starts_with("Hello world"), "{out:?}");
    assert_eq!(out.result.as_deref(), Some("'still here'"));
    assert!(!out.state_reset);
}
