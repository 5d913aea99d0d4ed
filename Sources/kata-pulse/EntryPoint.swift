import ArgumentParser
import KataPulse

#if canImport(Glibc)
    import Glibc
#endif

/// Parses the command line and maps every failure to an exit code: 2 for bad usage, 1 for runtime errors.
@main
enum EntryPoint {
    static func main() async {
        // systemd's watchdog aborts a wedged service with SIGABRT; the Swift runtime's backtracer would catch
        // it and let the process run on. Let SIGABRT end the process, as the watchdog expects.
        signal(SIGABRT, SIG_DFL)
        let command: any ParsableCommand
        do {
            command = try KataPulseCommand.parseAsRoot()
        } catch {
            let code = KataPulseCommand.exitCode(for: error)
            if code == .success {
                print(KataPulseCommand.fullMessage(for: error))
                exit(0)
            }
            printError(KataPulseCommand.fullMessage(for: error))
            exit(2)
        }
        do {
            var command = command
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as UsageError {
            printError("kata-pulse: \(error)")
            exit(2)
        } catch {
            let code = KataPulseCommand.exitCode(for: error)
            if code == .success {
                // `--help`, `help` and `--version` arrive here as clean exits carrying their text.
                let message = KataPulseCommand.fullMessage(for: error)
                if !message.isEmpty { print(message) }
                exit(0)
            }
            printError("kata-pulse: error: \(error)")
            exit(code == .validationFailure ? 2 : 1)
        }
    }

    static func printError(_ message: String) {
        let line = message.hasSuffix("\n") ? message : message + "\n"
        _ = line.utf8CString.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count - 1) }
    }
}

extension Result where Failure == any Error {
    /// Captures the outcome of an async throwing operation.
    init(catching operation: () async throws -> Success) async {
        do {
            self = .success(try await operation())
        } catch {
            self = .failure(error)
        }
    }
}

/// A flag or environment value that cannot be used; exits 2.
struct UsageError: Error, CustomStringConvertible {
    var description: String
}
