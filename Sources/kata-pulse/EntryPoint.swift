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
        let environment = processEnvironment()
        do {
            switch try Command.parse(Array(CommandLine.arguments.dropFirst()), environment: environment) {
            case .agent(let settings): try await runAgent(settings, environment: environment)
            case .demo(let settings): try await runDemo(settings, environment: environment)
            case .simulate(let configuration): try await runSimulator(configuration)
            case .checkWebConfig(let files): exit(checkWebConfig(files))
            case .text(let text): print(text.hasSuffix("\n") ? String(text.dropLast()) : text)
            }
        } catch let error as UsageError {
            printError("kata-pulse: \(error)")
            exit(2)
        } catch {
            printError("kata-pulse: error: \(error)")
            exit(1)
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
