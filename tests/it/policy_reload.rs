//! Policy reload: a valid file takes effect and is audited; an invalid one
//! is refused and the policy in force stays.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use http::StatusCode;
use serde_json::json;

use crate::harness::*;

fn group_send() -> serde_json::Value {
    let mut msg = text_message("120363000000000001", "Team-Info");
    msg["recipient_type"] = json!("group");
    msg
}

fn allow_groups() -> String {
    let default = schleuse::init::DEFAULT_POLICY;
    let version_line = default
        .lines()
        .find(|l| l.starts_with("version = "))
        .unwrap();
    default
        .replace(version_line, "version = \"test-allow-groups\"")
        .replace("allow_group_sends = false", "allow_group_sends = true")
}

#[tokio::test]
async fn reload_puts_a_valid_policy_in_force_and_keeps_the_old_one_on_errors() {
    let gw = TestGateway::spawn().await;
    assert_eq!(gw.send(&group_send()).await.0, StatusCode::FORBIDDEN);

    let broken = allow_groups().replace(
        "allow_group_sends = true",
        "allow_group_sends = true\nallow_grups = 1",
    );
    std::fs::write(gw.policy_path(), broken).unwrap();
    let err = gw.reload_policy().await.unwrap_err().to_string();
    assert!(err.contains("allow_grups"), "{err}");
    assert_eq!(
        gw.send(&group_send()).await.0,
        StatusCode::FORBIDDEN,
        "the old policy stays"
    );

    std::fs::write(gw.policy_path(), allow_groups()).unwrap();
    gw.reload_policy().await.unwrap();
    assert_eq!(gw.send(&group_send()).await.0, StatusCode::OK);

    let config = gw.config_path.clone();
    let dir = gw.stop().await;
    let out = Command::new(env!("CARGO_BIN_EXE_schleuse"))
        .args(["audit", "export", "--kind", "policy_loaded", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        text.lines().count(),
        2,
        "start and the one valid reload: {text}"
    );
    assert!(text.contains("test-allow-groups"));
    drop(dir);
}

#[tokio::test]
async fn sighup_reloads_the_policy_of_a_running_process() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_data_dir(dir.path(), &Options::default());
    let mut child = Command::new(env!("CARGO_BIN_EXE_schleuse"))
        .args(["serve", "--config"])
        .arg(&config)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on http://")
        .unwrap()
        .to_owned();
    let url = format!("http://{addr}/v24.0/{PHONE_NUMBER_ID}/messages");
    let send = || {
        post(
            &url,
            Some(CLIENT_TOKEN),
            group_send().to_string().into_bytes(),
        )
    };
    assert_eq!(send().await.0, StatusCode::FORBIDDEN);

    std::fs::write(dir.path().join("policy.toml"), allow_groups()).unwrap();
    Command::new("kill")
        .args(["-HUP", &child.id().to_string()])
        .status()
        .unwrap();
    let mut allowed = false;
    for _ in 0..100 {
        if send().await.0 == StatusCode::OK {
            allowed = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(child.wait().unwrap().success());
    assert!(allowed, "SIGHUP did not put the new policy in force");
}
