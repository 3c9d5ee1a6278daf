//! The hash ring against vectors computed independently: a few lines of Python
//! (`zlib.crc32`) reproducing Falcon's Go algorithm (`itoa(i)+name` points, the first point
//! strictly greater than the key's hash, wrapping), for thousands of keys and several
//! cluster shapes.

use std::io::Write;
use std::process::{Command, Stdio};

use tributary_translator_falcon::HashRing;

const REFERENCE: &str = r#"
import bisect, json, sys, zlib
shapes = json.loads(sys.argv[1])
keys = json.load(sys.stdin)
out = []
for shape in shapes:
    nodes, replicas = shape["nodes"], shape["replicas"]
    circle = {}
    for name in sorted(nodes):
        for i in range(replicas):
            circle[zlib.crc32((str(i) + name).encode())] = name
    points = sorted(circle)
    answers = []
    for key in keys:
        h = zlib.crc32(key.encode())
        i = bisect.bisect_right(points, h)
        answers.append(circle[points[i if i < len(points) else 0]])
    out.append(answers)
print(json.dumps(out))
"#;

#[test]
fn the_ring_matches_an_independent_reference() {
    let shapes = serde_json::json!([
        {"nodes": ["graph-00"], "replicas": 500},
        {"nodes": ["graph-00", "graph-01"], "replicas": 500},
        {"nodes": ["graph-00", "graph-01", "graph-02", "graph-03", "graph-04"], "replicas": 500},
        {"nodes": ["judge-a", "judge-b", "judge-c"], "replicas": 7},
        {"nodes": (0..32).map(|i| format!("g{i}")).collect::<Vec<_>>(), "replicas": 500},
    ]);
    let mut keys: Vec<String> = (0..4000)
        .map(|i| format!("host-{:03}/metric.{}/idc=lg,project=p{}", i % 97, i, i % 7))
        .collect();
    keys.extend((0..1000).map(|i| format!("endpoint-{i}/cpu.idle")));
    keys.push(String::new());
    let mut python = Command::new("python3")
        .arg("-c")
        .arg(REFERENCE)
        .arg(shapes.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs (the system python is enough)");
    let mut stdin = python.stdin.take().unwrap();
    stdin
        .write_all(serde_json::to_string(&keys).unwrap().as_bytes())
        .unwrap();
    drop(stdin);
    let output = python.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let expected: Vec<Vec<String>> = serde_json::from_slice(&output.stdout).unwrap();
    for (shape, answers) in shapes.as_array().unwrap().iter().zip(expected) {
        let nodes: Vec<String> = serde_json::from_value(shape["nodes"].clone()).unwrap();
        let ring = HashRing::new(nodes, shape["replicas"].as_u64().unwrap() as usize);
        for (key, answer) in keys.iter().zip(answers) {
            assert_eq!(
                ring.node(key),
                Some(answer.as_str()),
                "key {key:?}, shape {shape}"
            );
        }
    }
}
