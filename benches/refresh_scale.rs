//! Refresh-token storage at scale: 1,000,000 stored tokens, then lookup latency (p50/p99),
//! resident memory, and durable issue rate beside sled's raw insert+flush rate.
//! `cargo bench --bench refresh_scale` (set VLSIM_SCALE_TOKENS to change the count).

use std::time::{Duration, Instant};
use vlsim::core::fusionauth::NewRefresh;

// The allocator the binary uses (src/main.rs), so figures match the server's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn rss_mib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|v| v.parse::<u64>().ok())
            })
        })
        .unwrap_or(0)
        / 1024
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).copied().unwrap_or_default()
}

#[allow(clippy::unwrap_used, clippy::expect_used)]
fn main() {
    // `cargo test --all-targets` runs bench binaries too; only `cargo bench` passes --bench.
    if !std::env::args().any(|a| a == "--bench") {
        println!("refresh_scale: skipped outside `cargo bench`");
        return;
    }
    let count: usize = std::env::var("VLSIM_SCALE_TOKENS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let (world, keys) = vlsim::fixtures::embedded().expect("fixtures");
    let source = vlsim::core::WorldSource {
        world,
        keys,
        origin: "bench".into(),
        generate_keys: false,
    };
    let store = vlsim::store::Store::open(dir.path()).expect("store");
    let (core, _) = vlsim::core::Core::open(
        store.clone(),
        vlsim::clock::Clock::new(),
        &source,
        vlsim::core::Damaged::Refuse,
    )
    .expect("core");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    let user = core
        .fusionauth()
        .user("30000000-0000-4000-8000-000000000001")
        .unwrap()
        .expect("fixture user");
    let dir_ = core.fusionauth().directory();
    let app = dir_
        .application("20000000-0000-4000-8000-000000000001")
        .expect("app");
    let policy = dir_.application_policy(app, &core.fusionauth().default_key());
    let new = || NewRefresh {
        user: &user,
        application_id: &app.id,
        policy: &policy,
        auth_time: 0,
        device: serde_json::Map::new(),
        start_instant: None,
        scopes: Vec::new(),
    };

    // Raw sled: insert + flush, one at a time, as a durable write costs at its cheapest.
    let raw = store.table::<String>("bench_raw").unwrap();
    let started = Instant::now();
    let mut raw_n = 0u64;
    while started.elapsed() < Duration::from_secs(2) {
        raw.put(raw_n.to_be_bytes(), &"x".repeat(64)).unwrap();
        store.flush_blocking().unwrap();
        raw_n += 1;
    }
    let raw_rate = raw_n as f64 / started.elapsed().as_secs_f64();
    // Durable refresh-token issue (token + two indexes in one transaction, then flush).
    let started = Instant::now();
    let mut issued_n = 0u64;
    while started.elapsed() < Duration::from_secs(2) {
        core.fusionauth().new_refresh(new()).unwrap();
        rt.block_on(store.flush()).unwrap();
        issued_n += 1;
    }
    let issue_rate = issued_n as f64 / started.elapsed().as_secs_f64();
    println!(
        "durable issue: {issue_rate:.0}/s vs raw sled insert+flush {raw_rate:.0}/s (ratio {:.2})",
        issue_rate / raw_rate
    );
    // Where the difference goes: the issue without its flush, and the raw write flushed
    // the way the server flushes (on the blocking pool, so a worker never waits on fsync).
    let rate = |f: &mut dyn FnMut()| {
        let started = Instant::now();
        let mut n = 0u64;
        while started.elapsed() < Duration::from_secs(2) {
            f();
            n += 1;
        }
        n as f64 / started.elapsed().as_secs_f64()
    };
    let unflushed = rate(&mut || {
        core.fusionauth().new_refresh(new()).unwrap();
    });
    let mut i = 0u64;
    let pooled = rate(&mut || {
        raw.put(i.to_be_bytes(), &"x".repeat(64)).unwrap();
        rt.block_on(store.flush()).unwrap();
        i += 1;
    });
    println!(
        "  issue alone (transaction, no flush): {unflushed:.0}/s; raw insert + flush on the blocking pool: {pooled:.0}/s"
    );
    // Concurrent issuers, as under load: each waits for a flush that covers its write, and
    // concurrent flushes group (one fsync makes everything before it stable).
    for issuers in [4usize, 16] {
        let started = Instant::now();
        let deadline = started + Duration::from_secs(2);
        let counts = rt.block_on(futures_util::future::join_all((0..issuers).map(
            |_| async {
                let mut n = 0u64;
                while Instant::now() < deadline {
                    core.fusionauth().new_refresh(new()).unwrap();
                    store.flush().await.unwrap();
                    n += 1;
                }
                n
            },
        )));
        let grouped = counts.iter().sum::<u64>() as f64 / started.elapsed().as_secs_f64();
        println!(
            "durable issue, {issuers} concurrent issuers: {grouped:.0}/s (ratio {:.2} to raw insert+flush)",
            grouped / raw_rate
        );
    }

    let before = rss_mib();
    let started = Instant::now();
    let mut sample = Vec::new();
    for i in 0..count {
        let issued = core.fusionauth().new_refresh(new()).unwrap();
        if i % (count / 10_000).max(1) == 0 {
            sample.push(issued.token);
        }
    }
    store.flush_blocking().unwrap();
    let fill = started.elapsed();
    println!(
        "stored {count} refresh tokens in {:.1} s ({:.0}/s, not flushed one by one); RSS {before} -> {} MiB",
        fill.as_secs_f64(),
        count as f64 / fill.as_secs_f64(),
        rss_mib()
    );
    let mut times = Vec::with_capacity(sample.len() * 3);
    for _ in 0..3 {
        for token in &sample {
            let t = Instant::now();
            let found = core.fusionauth().refresh_by_value(token).unwrap();
            times.push(t.elapsed());
            assert!(found.is_some());
        }
    }
    times.sort();
    println!(
        "lookup by value over {} stored: p50 {:.1} µs, p99 {:.1} µs, max {:.1} µs ({} lookups)",
        count,
        percentile(&times, 0.5).as_secs_f64() * 1e6,
        percentile(&times, 0.99).as_secs_f64() * 1e6,
        times.last().copied().unwrap_or_default().as_secs_f64() * 1e6,
        times.len()
    );
}
