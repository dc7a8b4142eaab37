//! The `scene` of a share code reaches `wechatLogin` URL-encoded, as WeChat
//! hands it to the page; the inviter it names is bound all the same.
use crate::helpers::spawn_app;

#[tokio::test]
async fn an_encoded_scene_binds_the_inviter() {
    let app = spawn_app().await;
    let a = app.login("demo:inviter", None, None).await;
    let a = &a["data"]["wechatLogin"]["customer"];
    let code = a["referralCode"].as_str().unwrap();
    for (name, scene, recorded) in [
        // A poster's scene, as WeChat passes it to the page.
        ("b", format!("ref%3D{code}"), format!("ref={code}")),
        // A share code's (`r=<code>&p=<product>`), encoded and not, lower case.
        (
            "c",
            format!("r%3D{code}%26p%3D42"),
            format!("r={code}&p=42"),
        ),
        (
            "d",
            format!("r={}&p=7", code.to_lowercase()),
            format!("r={}&p=7", code.to_lowercase()),
        ),
    ] {
        let v = app.login(&format!("demo:{name}"), None, Some(&scene)).await;
        let customer = &v["data"]["wechatLogin"]["customer"];
        assert_eq!(customer["referrer"]["id"], a["id"], "{scene}: {v}");
        assert_eq!(customer["scene"], recorded.as_str(), "{v}");
    }
    // A scene without a referral binds nobody.
    let v = app.login("demo:e", None, Some("poster%2Dqr")).await;
    let customer = &v["data"]["wechatLogin"]["customer"];
    assert!(customer["referrer"].is_null(), "{v}");
    assert_eq!(customer["scene"], "poster-qr");
}
