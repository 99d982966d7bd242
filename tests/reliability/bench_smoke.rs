//! The benchmark keeps working: `ebl-bench --quick` runs every phase against a real node. Its figures
//! are not checked here (performance is claimed by the benchmark, never by a timed test).

#[test]
fn the_benchmark_runs_every_phase() {
    let out = tempfile::tempdir().expect("dir");
    let out_dir = out.path().to_string_lossy().into_owned();
    let node = ebl_tests::bin("ebl-node").to_string_lossy().into_owned();
    let run = ebl_tests::run(
        &ebl_tests::bin("ebl-bench"),
        &[
            "--quick",
            "--passes",
            "2",
            "--out",
            &out_dir,
            "--node-bin",
            &node,
        ],
        &[],
    );
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let results: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("results.json")).expect("results"))
            .expect("json");
    assert_eq!(results["targets"].as_array().map(Vec::len), Some(12));
    // The proof phase (issue 32): the 50-event bill's bundle at 10 and 1 000 parties, and again after
    // the fill, each checked in two passes, its registry proven rather than carried whole.
    let proof = results["proof"].as_array().expect("proof points");
    assert_eq!(
        proof
            .iter()
            .map(|p| p["parties"].as_u64())
            .collect::<Vec<_>>(),
        [Some(10), Some(1_000), Some(1_000)]
    );
    for point in proof {
        assert_eq!(
            point["verify_ms"]["values"].as_array().map(Vec::len),
            Some(2)
        );
        assert!(
            point["proven_entries"].as_u64().is_some_and(|n| n > 1),
            "{point}"
        );
        assert!(
            point["registry_entries"].as_u64().is_some_and(|n| n < 10),
            "{point}"
        );
    }
    assert!(results["runs"].as_array().is_some_and(|r| !r.is_empty()));
    // Two passes: the reference runs twice at each size, and the ratio taken pass by pass.
    for key in ["reference_small_passes", "reference_large_passes"] {
        assert_eq!(results[key].as_array().map(Vec::len), Some(2), "{key}");
    }
    assert_eq!(
        results["large_over_small"]["values"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    // Every measured run sent only what was signed before its clock started, and the ledger took all
    // of it: the figures measure the node, not the client's signing, nor refusals.
    let measured = results["runs"]
        .as_array()
        .into_iter()
        .flatten()
        .chain([&results["reference_small"], &results["reference_large"]]);
    for r in measured {
        assert_eq!(r["signed_during_run"], 0, "{r}");
        assert_eq!(r["rejected"], 0, "{r}");
    }
    assert!(results["verify_large"]["transactions"]
        .as_u64()
        .is_some_and(|n| n >= 5_000));
    // The cluster phase ran in the same run, with every node's CPU time.
    assert_eq!(
        results["cluster"]["nodes"].as_u64(),
        Some(3),
        "{}",
        run.stderr
    );
    assert!(results["cluster"]["run"]["transactions"]
        .as_u64()
        .is_some_and(|n| n > 0));
    assert_eq!(
        results["cluster"]["costs"].as_array().map(Vec::len),
        Some(3)
    );
    // The WAN phase (issue 35), where network namespaces can be made: three members a WAN apart, the
    // reference load and one client at the leader, two leader kills, the same two on a loopback
    // cluster, and its five targets.
    if results["wan"].is_null() {
        assert!(run.stderr.contains("WAN phase skipped"), "{}", run.stderr);
    } else {
        let wan = &results["wan"];
        assert!(wan["figures"]["run"]["transactions"]
            .as_u64()
            .is_some_and(|n| n > 0));
        assert!(wan["figures"]["sequential"]["transactions"]
            .as_u64()
            .is_some_and(|n| n > 0));
        assert_eq!(
            wan["figures"]["failovers"].as_array().map(Vec::len),
            Some(2)
        );
        assert_eq!(
            wan["figures"]["loopback_failovers"]
                .as_array()
                .map(Vec::len),
            Some(2)
        );
        assert_eq!(wan["targets"].as_array().map(Vec::len), Some(5));
    }
    let svg = std::fs::read_to_string(out.path().join("throughput.svg")).expect("plot");
    assert!(svg.starts_with("<svg") && svg.contains("polyline"));
}
