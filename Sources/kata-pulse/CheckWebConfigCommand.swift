import KataPulse
import KataPulseTLS

/// `kata-pulse check-web-config FILE...`: loads each file as `--web.config.file` would (certificates and keys
/// included) and reports as `promtool check web-config` does; the exit status is 0 when all are usable.
func checkWebConfig(_ files: [String]) -> Int32 {
    var failed = false
    for file in files {
        var configuration = WebAccess.Configuration()
        configuration.file = file
        do {
            _ = try WebAccess(configuration: configuration, tlsProvider: NIOSSLServerProvider())
            print("\(file) SUCCESS")
        } catch {
            var error = error
            error.file = nil
            print("\(file) FAILED: \(error)")
            failed = true
        }
    }
    return failed ? 1 : 0
}
