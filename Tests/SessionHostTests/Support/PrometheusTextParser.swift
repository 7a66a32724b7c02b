import Foundation

/// Reads a `/metrics` answer with the Prometheus project's own Python parser
/// (`prometheus_client.parser.text_string_to_metric_families`), from the virtualenv
/// `scripts/install-deps` makes under `.build/prometheus-venv` (or the Python named by
/// `SESSIONHOST_PROMETHEUS_PYTHON`). Without it the tests fail, saying how to install it.
enum PrometheusTextParser {
    struct Sample: Sendable, Equatable {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    struct Family: Sendable {
        var name: String
        var type: String
        var samples: [Sample]
    }

    /// What the parser read: every family, by name (counters without `_total`, as the
    /// parser names them).
    struct Exposition: Sendable {
        var families: [String: Family]

        /// The value of the sample `name` whose labels include `labels`; nil when there is none.
        func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
            samples(name, labels).first?.value
        }

        /// The samples named `name` whose labels include `labels`.
        func samples(_ name: String, _ labels: [String: String] = [:]) -> [Sample] {
            families.values.flatMap(\.samples).filter { sample in
                sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value }
            }
        }
    }

    static var python: String {
        if let given = ProcessInfo.processInfo.environment["SESSIONHOST_PROMETHEUS_PYTHON"], !given.isEmpty {
            return given
        }
        // This file is Tests/SessionHostTests/Support/PrometheusTextParser.swift in the package.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/prometheus-venv/bin/python").path
    }

    static let script = """
        import json, sys
        from prometheus_client.parser import text_string_to_metric_families
        families = []
        for family in text_string_to_metric_families(sys.stdin.read()):
            families.append({"name": family.name, "type": family.type, "samples": [
                {"name": s.name, "labels": dict(s.labels), "value": repr(float(s.value))} for s in family.samples]})
        print(json.dumps(families))
        """

    /// Parses `text`; throws with the parser's complaint when it is not valid exposition text.
    static func parse(_ text: String) async throws -> Exposition {
        let python = Self.python
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw TestFailure(
                "the Prometheus parser is missing: no \(python); run scripts/install-deps (it installs prometheus_client from PyPI)"
            )
        }
        let directory = try TemporaryDirectory()
        let input = directory.file("metrics.txt")
        try Data(text.utf8).write(to: URL(fileURLWithPath: input))
        let result = try await ProcessRun.run(
            "/bin/sh", ["-c", "exec \"$0\" -c \"$1\" < \"$2\"", python, script, input], in: directory)
        guard result.status == 0 else {
            throw TestFailure(
                "prometheus_client refused the exposition (\(result.status)): \(result.stderr)\n--- text:\n\(text)")
        }
        guard let list = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]] else {
            throw TestFailure("unexpected parser output: \(result.stdout)")
        }
        var families: [String: Family] = [:]
        for entry in list {
            let name = entry["name"] as? String ?? ""
            let samples = (entry["samples"] as? [[String: Any]] ?? []).map { sample in
                Sample(
                    name: sample["name"] as? String ?? "", labels: sample["labels"] as? [String: String] ?? [:],
                    value: Double(sample["value"] as? String ?? "") ?? .nan)
            }
            families[name] = Family(name: name, type: entry["type"] as? String ?? "", samples: samples)
        }
        return Exposition(families: families)
    }
}
