import Foundation

/// A fresh directory under /tmp, readable by other users (for peer-credential tests), removed
/// when the test is done. Paths stay short: Unix socket paths are limited to 107 bytes.
final class TemporaryDirectory: @unchecked Sendable {
    let path: String

    init() throws {
        var template = Array("/tmp/sht.XXXXXX".utf8CString)
        guard let result = mkdtemp(&template) else {
            throw TestFailure("mkdtemp failed: \(String(cString: strerror(errno)))")
        }
        path = String(cString: result)
        chmod(path, 0o755)
    }

    func file(_ name: String) -> String { path + "/" + name }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
