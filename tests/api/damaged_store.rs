//! A damaged data dir, as a person would meet it: the binary started on a store whose
//! `db` file was cut, overwritten or deleted. Never a panic or a backtrace; never a silent
//! fresh start over a dir that held data: a clear message naming `vlsim reset-data` (and,
//! when data was lost, what and `--accept-damaged-store`), and a non-zero exit.

use crate::helpers::*;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A data dir with sessions, refresh tokens and events, stopped cleanly.
async fn populated() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn_binary(dir.path());
    for _ in 0..3 {
        app.soap_login_cookie("administrator").await;
    }
    let admin = app.logged_in("administrator").await;
    app.generate(&admin, None).await;
    app.fusionauth_login("admin@vlsim.test", fa::APP).await;
    assert_eq!(app.signal("-TERM").code(), Some(0));
    dir
}

/// What `vlsim serve` did on `dir`: its exit code (`None`: it started and was stopped)
/// and its stderr.
async fn serve(dir: &Path, extra: &[&str]) -> (Option<i32>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_vlsim"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .args(extra)
        .env("VLSIM_LOG", "warn")
        .env_remove("RUST_BACKTRACE")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut line = Vec::new();
        let mut byte = [0u8; 1];
        while stdout.read(&mut byte).unwrap_or(0) == 1 && byte[0] != b'\n' {
            line.push(byte[0]);
        }
        String::from_utf8_lossy(&line).into_owned()
    });
    let started = Instant::now();
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code();
        }
        if reader.is_finished() || started.elapsed() > Duration::from_secs(60) {
            // The reader ends at the listening line, or at the end of stdout: a server that
            // refuses to start closes it as it exits, which can be seen before its exit is.
            if reader.is_finished() && !reader.join().unwrap().contains("listening on") {
                break child.wait().unwrap().code();
            }
            // It is listening (or hung): stop it.
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let status = child.wait().unwrap();
            assert_eq!(status.code(), Some(0), "a started server stops cleanly");
            break None;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    (code, stderr)
}

fn db_file(dir: &Path) -> std::path::PathBuf {
    dir.join("v1").join("db")
}

fn overwrite(dir: &Path, offset: u64, bytes: &[u8]) {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .open(db_file(dir))
        .unwrap();
    f.seek(SeekFrom::Start(offset)).unwrap();
    f.write_all(bytes).unwrap();
    f.sync_all().unwrap();
}

fn noise(n: usize, mut seed: u64) -> Vec<u8> {
    (0..n)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed as u8
        })
        .collect()
}

fn assert_refused_clearly(case: &str, code: Option<i32>, stderr: &str) {
    assert_eq!(
        code,
        Some(1),
        "{case}: refused with exit code 1; stderr: {stderr}"
    );
    assert!(
        stderr.contains("vlsim reset-data --data-dir"),
        "{case}: {stderr}"
    );
    for noise in ["panicked", "backtrace", "RUST_BACKTRACE", "cannot listen"] {
        assert!(!stderr.contains(noise), "{case}: no {noise:?} in: {stderr}");
    }
    assert!(
        stderr.lines().count() <= 3,
        "{case}: a short message: {stderr}"
    );
}

#[actix_web::test]
async fn unreadable_db_files_give_the_reset_data_hint_without_a_panic() {
    type Damage = fn(&Path, u64);
    let cases: [(&str, Damage); 3] = [
        ("truncated", |dir, len| {
            std::fs::OpenOptions::new()
                .write(true)
                .open(db_file(dir))
                .unwrap()
                .set_len(len / 2)
                .unwrap();
        }),
        ("random bytes inside", |dir, len| {
            overwrite(dir, len / 3, &noise(4096, 0x9e37_79b9))
        }),
        ("4 KiB of garbage at offset 0", |dir, _| {
            overwrite(dir, 0, &noise(4096, 0x1234_5678))
        }),
    ];
    for (case, damage) in cases {
        let dir = populated().await;
        let len = std::fs::metadata(db_file(dir.path())).unwrap().len();
        damage(dir.path(), len);
        let (code, stderr) = serve(dir.path(), &[]).await;
        assert_refused_clearly(case, code, &stderr);
        // Whether sled gives up on the file or opens what is left of it, the message says
        // what to do; reset-data then gives a working server on the fixtures.
        let status = Command::new(env!("CARGO_BIN_EXE_vlsim"))
            .args(["reset-data", "--yes", "--data-dir"])
            .arg(dir.path())
            .status()
            .unwrap();
        assert!(status.success());
        let (code, stderr) = serve(dir.path(), &[]).await;
        assert_eq!(code, None, "{case}: starts after reset-data: {stderr}");
    }
}

#[actix_web::test]
async fn a_store_that_lost_data_is_refused_naming_what_is_missing() {
    type Damage = fn(&Path);
    let cases: [(&str, Damage); 2] = [
        ("deleted db", |dir| {
            std::fs::remove_file(db_file(dir)).unwrap()
        }),
        ("cut tail", |dir| {
            // The last 2000 bytes of the log: what the clean shutdown wrote last (its
            // checkpoint) is gone, what came before reads fine.
            let len = std::fs::metadata(db_file(dir)).unwrap().len();
            std::fs::OpenOptions::new()
                .write(true)
                .open(db_file(dir))
                .unwrap()
                .set_len(len.saturating_sub(2000))
                .unwrap();
        }),
    ];
    for (case, damage) in cases {
        let dir = populated().await;
        damage(dir.path());
        let (code, stderr) = serve(dir.path(), &[]).await;
        assert_refused_clearly(case, code, &stderr);
        assert!(stderr.contains("lost data"), "{case}: {stderr}");
        assert!(
            stderr.contains("--accept-damaged-store"),
            "{case}: {stderr}"
        );
        if case == "deleted db" {
            for relation in [
                "sessions: 4 then, 0 now",
                "fusionauth_refresh_tokens: 1 then, 0 now",
            ] {
                assert!(
                    stderr.contains(relation),
                    "{case}: names {relation}: {stderr}"
                );
            }
        }
        // The user's choice: serve what is left; the next start is clean again.
        let (code, stderr) = serve(dir.path(), &["--accept-damaged-store"]).await;
        assert_eq!(code, None, "{case}: starts when told to: {stderr}");
        let (code, stderr) = serve(dir.path(), &[]).await;
        assert_eq!(code, None, "{case}: and afterwards: {stderr}");
    }
}

#[actix_web::test]
async fn a_clean_store_and_a_killed_one_start_without_complaint() {
    let dir = populated().await;
    let (code, stderr) = serve(dir.path(), &[]).await;
    assert_eq!(code, None, "{stderr}");
    // SIGKILL after a checkpoint: whatever sled recovers is at least the checkpoint.
    let app = TestApp::spawn_binary(dir.path());
    app.soap_login_cookie("administrator").await;
    app.kill();
    let (code, stderr) = serve(dir.path(), &[]).await;
    assert_eq!(code, None, "{stderr}");
}
