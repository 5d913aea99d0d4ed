#if canImport(Glibc)
    import Glibc
#endif

/// The `kata-pulse` binary built beside the test bundle (or another program: curl, openssl, a script), run as a
/// child process with its stderr captured (and its stdout too, for other programs).
final class AgentProcess {
    let pid: pid_t
    private let stderrDescriptor: CInt
    private var captured: [UInt8] = []
    private var reaped = false

    /// The built executable: SwiftPM puts it in the same directory as the test bundle.
    static let binary: String = {
        var buffer = [CChar](repeating: 0, count: 4096)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        let path = String(decoding: buffer.prefix(max(0, length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)]) + "/kata-pulse"
    }()

    convenience init(_ arguments: [String], environment: [String: String] = [:]) throws {
        try self.init(executable: Self.binary, arguments: arguments, environment: environment, capturesStdout: false)
    }

    /// Runs `executable` (a full path) with `arguments`; with `capturesStdout`, stdout goes where stderr goes.
    init(executable: String, arguments: [String], environment: [String: String] = [:], capturesStdout: Bool) throws {
        var pipeDescriptors: [CInt] = [0, 0]
        guard pipe(&pipeDescriptors) == 0 else { throw TestFailure("pipe failed") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if capturesStdout {
            posix_spawn_file_actions_adddup2(&actions, pipeDescriptors[1], 1)
        } else {
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        }
        posix_spawn_file_actions_adddup2(&actions, pipeDescriptors[1], 2)
        posix_spawn_file_actions_addclose(&actions, pipeDescriptors[0])
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var child: pid_t = 0
        let status = posix_spawn(&child, executable, &actions, nil, argv, envp)
        close(pipeDescriptors[1])
        guard status == 0 else {
            close(pipeDescriptors[0])
            throw TestFailure("cannot run \(executable): \(String(cString: strerror(status)))")
        }
        pid = child
        stderrDescriptor = pipeDescriptors[0]
        _ = fcntl(stderrDescriptor, F_SETFL, fcntl(stderrDescriptor, F_GETFL) | O_NONBLOCK)
    }

    deinit {
        if !reaped {
            kill(pid, SIGKILL)
            var status: CInt = 0
            waitpid(pid, &status, 0)
        }
        close(stderrDescriptor)
    }

    /// What the process wrote to stderr so far.
    var stderr: String {
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = read(stderrDescriptor, &chunk, chunk.count)
            guard count > 0 else { break }
            captured += chunk[..<count]
        }
        return String(decoding: captured, as: UTF8.self)
    }

    /// Waits for the exit status, up to `timeout`; nil if it is still running then.
    func exitStatus(timeout: Duration = .seconds(30)) async -> CInt? {
        let deadline = ContinuousClock.now + timeout
        var status: CInt = 0
        while ContinuousClock.now < deadline {
            if waitpid(pid, &status, WNOHANG) == pid {
                reaped = true
                return (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
            }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return nil
    }

    /// Runs a program to its end (within `timeout`): its exit status and everything it wrote.
    static func run(
        _ executable: String, _ arguments: [String], timeout: Duration = .seconds(30)
    ) async throws -> (status: CInt?, output: String) {
        let process = try AgentProcess(executable: executable, arguments: arguments, capturesStdout: true)
        let deadline = ContinuousClock.now + timeout
        var status: CInt?
        while status == nil, ContinuousClock.now < deadline {
            // Drained while it runs: a full pipe would block the child.
            _ = process.stderr
            status = await process.exitStatus(timeout: .milliseconds(20))
        }
        return (status, process.stderr)
    }

    func terminate() {
        if !reaped { kill(pid, SIGTERM) }
    }
}
