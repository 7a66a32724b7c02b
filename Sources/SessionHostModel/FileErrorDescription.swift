#if canImport(Glibc)
import Glibc
#endif

/// Why a file could not be read, in words ("no such file", "permission denied …"), found by
/// asking the system about the path again, rather than the description of a Foundation error
/// (`CocoaError(… 260)`).
public enum FileErrorDescription {
    /// Why reading the file at `path` failed with `error`: the system's reason when it gives one,
    /// else the error's own description.
    public static func describe(_ error: any Error, path: String) -> String {
        reason(path: path) ?? "\(error)"
    }

    /// Why the file at `path` cannot be read, for reads that give no error of their own
    /// (`FileManager.contents(atPath:)` answers nil): no such file, permission denied for this
    /// uid, a directory…, or "unreadable" when the system names no reason.
    public static func describe(path: String) -> String {
        reason(path: path) ?? "unreadable"
    }

    /// What `stat` and `open` say about `path`, or nil when it can be opened for reading.
    private static func reason(path: String) -> String? {
        var info = stat()
        if stat(path, &info) != 0 {
            return words(errno: errno, path: path)
        }
        if info.st_mode & S_IFMT == S_IFDIR {
            return "it is a directory, not a file"
        }
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        if descriptor < 0 {
            return words(errno: errno, path: path)
        }
        close(descriptor)
        return nil
    }

    /// Why the directory at `path` could not be created (with its parents), in words.
    public static func describeCreating(directory path: String, _ error: any Error) -> String {
        var ancestor = path
        while true {
            guard let slash = ancestor.lastIndex(of: "/") else { break }
            ancestor = slash == ancestor.startIndex ? "/" : String(ancestor[..<slash])
            var info = stat()
            if stat(ancestor, &info) == 0 {
                if info.st_mode & S_IFMT != S_IFDIR { return "\(ancestor) is not a directory" }
                if access(ancestor, W_OK) != 0 {
                    return
                        "permission denied: this user (uid \(getuid())) may not create directories in \(ancestor); run as the service's user or create it with that owner"
                }
                break
            }
            if ancestor == "/" { break }
        }
        return "\(error)"
    }

    /// A system error number in words.
    public static func words(errno code: Int32) -> String {
        words(errno: code, path: "")
    }

    static func words(errno code: Int32, path: String) -> String {
        switch code {
        case ENOENT: "no such file"
        case ENOTDIR: "a part of the path is not a directory"
        case EACCES, EPERM: "permission denied: this user (uid \(getuid())) may not read it"
        case ELOOP: "too many symbolic links"
        default: String(cString: strerror(code))
        }
    }
}
