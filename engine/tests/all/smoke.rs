use crate::helpers::*;

#[tokio::test]
async fn runs_a_cell() {
    let sb = sandbox();
    let out = sb.run("x = 40 + 2\nprint('hi')\nx").await;
    println!("{out:#?}");
    assert_eq!(out.result.as_deref(), Some("42"));
    assert_eq!(out.stdout, "hi\n");
}
